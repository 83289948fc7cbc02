//! Secrets stored in Secrets Manager (moto's server on loopback) in the shapes people use: a plain string, a
//! `username`/`password` pair for basic auth, or a one-key JSON object for a token, an API key or a webhook URL.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use serde_json::json;
use wiremock::matchers::{header as has_header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{TestApp, moto, success, tutorial};

/// Stores `value` under a fresh name and returns the name.
async fn store_secret(value: &str) -> String {
    let sdk = crate::support::moto_sdk().await;
    let name = format!("pg-test-{}", uuid::Uuid::new_v4().simple());
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("the emulator stores the secret");
    name
}

/// The variables that read secrets from the emulator, plus `extra`.
fn vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto().endpoint.as_str()),
    ];
    v.extend_from_slice(extra);
    v
}

/// A change to a claim that is not sensitive: SUCCESS once the caller is authenticated.
fn harmless_body() -> String {
    json!({"actionType": "PRE_UPDATE_PROFILE", "event": {"request": {"claims": [
        {"uri": "http://wso2.org/claims/country", "value": "LK"}]}}})
    .to_string()
}

fn post_with(name: &str, value: &str) -> Request<Body> {
    Request::post("/pre-update-profile")
        .header(header::CONTENT_TYPE, "application/json")
        .header(name, value)
        .body(Body::from(harmless_body()))
        .unwrap()
}

fn basic(pair: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// What `build_with` says about a configuration, when it refuses it.
async fn startup_error(vars: &[(&str, &str)]) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = profile_guard::Config::from_lookup(|k| map.get(k).cloned()).unwrap();
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials();
    profile_guard::build_with(&config, loader)
        .await
        .err()
        .map(|e| e.to_string())
}

#[tokio::test]
async fn a_basic_auth_secret_stored_as_username_and_password_is_used_as_such() {
    let secret = json!({"username": "wso2", "password": "pw-7Hq:2"}).to_string();
    let name = store_secret(&secret).await;
    let app = TestApp::new(&vars(&[
        ("AUTH_MODE", "basic"),
        ("AUTH_CREDENTIAL_SECRET", name.as_str()),
    ]))
    .await;
    let right = app
        .request(post_with("authorization", &basic("wso2:pw-7Hq:2")))
        .await;
    assert_eq!((right.status, right.body), (200, success()));
    let wrong = app
        .request(post_with("authorization", &basic("wso2:pw-7Hq:3")))
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["errorMessage"], "unauthorized");
    // The JSON text itself is not the credential.
    let raw = app
        .request(post_with("authorization", &basic(&secret)))
        .await;
    assert_eq!(raw.status, 401);
}

#[tokio::test]
async fn plain_string_secrets_are_read_as_before() {
    let name = store_secret("wso2:plain-pw\n").await;
    let app = TestApp::new(&vars(&[
        ("AUTH_MODE", "basic"),
        ("AUTH_CREDENTIAL_SECRET", name.as_str()),
    ]))
    .await;
    let answer = app
        .request(post_with("authorization", &basic("wso2:plain-pw")))
        .await;
    assert_eq!((answer.status, answer.body), (200, success()));
}

#[tokio::test]
async fn one_key_secrets_give_their_value() {
    for key in ["apiKey", "token", "value"] {
        let name = store_secret(&json!({ key: "key-5b6c7d" }).to_string()).await;
        let app = TestApp::new(&vars(&[
            ("AUTH_MODE", "api-key"),
            ("AUTH_CREDENTIAL_SECRET", name.as_str()),
        ]))
        .await;
        let right = app.request(post_with("api-key", "key-5b6c7d")).await;
        assert_eq!((right.status, right.body), (200, success()), "{key}");
        let wrong = app.request(post_with("api-key", "key-5b6c7e")).await;
        assert_eq!(wrong.status, 401, "{key}");
    }
}

#[tokio::test]
async fn a_one_key_directory_token_and_webhook_url_are_used_as_such() {
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/departments/HR"))
        .and(has_header("authorization", "Bearer dir-tok-42"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&directory)
        .await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T1/B1/X1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&slack)
        .await;
    let token = store_secret(r#"{"token": "dir-tok-42"}"#).await;
    let hook =
        store_secret(&json!({"url": format!("{}/services/T1/B1/X1", slack.uri())}).to_string())
            .await;
    let url = format!("{}/departments/{{department}}", directory.uri());
    let app = TestApp::new(&vars(&[
        ("DEPARTMENT_API_URL", url.as_str()),
        ("DEPARTMENT_API_TOKEN_SECRET", token.as_str()),
        ("SLACK_WEBHOOK_URL_SECRET", hook.as_str()),
        ("ALERT_CHANNELS", "slack"),
    ]))
    .await;
    assert_eq!(app.post(tutorial()).await.body, success());
}

/// Which setting a secret is stored for.
#[derive(Clone, Copy)]
enum Holder {
    Basic,
    ApiKey,
    Bearer,
    DirectoryToken,
    SlackWebhook,
}

fn settings(holder: Holder, name: &str) -> Vec<(&'static str, String)> {
    let auth = |mode: &str| {
        vec![
            ("AUTH_MODE", mode.to_owned()),
            ("AUTH_CREDENTIAL_SECRET", name.to_owned()),
        ]
    };
    match holder {
        Holder::Basic => auth("basic"),
        Holder::ApiKey => auth("api-key"),
        Holder::Bearer => auth("bearer"),
        Holder::DirectoryToken => vec![
            (
                "DEPARTMENT_API_URL",
                "http://127.0.0.1:9/d/{department}".to_owned(),
            ),
            ("DEPARTMENT_API_TOKEN_SECRET", name.to_owned()),
        ],
        Holder::SlackWebhook => vec![("SLACK_WEBHOOK_URL_SECRET", name.to_owned())],
    }
}

#[tokio::test]
async fn malformed_shapes_stop_start_up_naming_the_variable_not_the_secret() {
    use Holder::*;
    // (setting, secret text, a part of it that must not appear in the error)
    let cases: Vec<(Holder, String, &str)> = vec![
        (Basic, json!({"username": "u-x1"}).to_string(), "u-x1"),
        (Basic, json!({"password": "pw-x2"}).to_string(), "pw-x2"),
        (
            Basic,
            json!({"username": "a:b", "password": "pw-x3"}).to_string(),
            "pw-x3",
        ),
        (
            Basic,
            json!({"username": "u-x4", "password": 7345}).to_string(),
            "u-x4",
        ),
        (
            Basic,
            json!({"username": "u-x5", "password": ""}).to_string(),
            "u-x5",
        ),
        (
            Basic,
            json!({"user": "u-x6", "pass": "pw-x6"}).to_string(),
            "pw-x6",
        ),
        (
            ApiKey,
            json!({"key": "k-x7", "other": "k-x8"}).to_string(),
            "k-x7",
        ),
        (ApiKey, json!({}).to_string(), "{}"),
        (ApiKey, r#"{"apiKey": "k-x9""#.to_owned(), "k-x9"),
        (Bearer, json!({"token": ""}).to_string(), "\"token\""),
        (Bearer, json!({"token": "   "}).to_string(), "\"token\""),
        (Bearer, json!({"token": 918273}).to_string(), "918273"),
        (Bearer, json!({"token": ["t-x10"]}).to_string(), "t-x10"),
        (
            DirectoryToken,
            json!({"a": "t-x11", "b": "t-x12"}).to_string(),
            "t-x11",
        ),
        (
            SlackWebhook,
            json!({"url": "https://h/x-13", "channel": "#sec"}).to_string(),
            "x-13",
        ),
    ];
    for (holder, secret, hidden) in cases {
        let name = store_secret(&secret).await;
        let holder_vars = settings(holder, &name);
        let var = holder_vars[holder_vars.len() - 1].0;
        let mut all = vars(&[]);
        all.extend(holder_vars.iter().map(|(k, v)| (*k, v.as_str())));
        let error = startup_error(&all)
            .await
            .unwrap_or_else(|| panic!("{secret} was accepted for {var}"));
        assert!(error.starts_with(&format!("{var}: ")), "{secret}: {error}");
        assert!(!error.contains(hidden), "{secret}: {error}");
        assert!(!error.contains(&secret), "{secret}: {error}");
    }
}
