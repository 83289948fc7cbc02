//! The caller's authentication over HTTP, in every mode the WSO2 Console offers: right, wrong, missing, malformed.

use axum::body::Body;
use axum::http::{Request, header};
use base64::Engine;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{SesScope, TestApp, success, tutorial};

fn unauthorized() -> serde_json::Value {
    json!({"actionStatus": "ERROR", "errorMessage": "unauthorized",
           "errorDescription": "Missing or invalid credentials for the profile-guard endpoint."})
}

fn post(headers: &[(&str, &str)], body: String) -> Request<Body> {
    let mut b =
        Request::post("/pre-update-profile").header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(body)).unwrap()
}

fn basic(pair: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[tokio::test]
async fn every_mode_accepts_the_right_credential_and_refuses_the_rest() {
    let good_basic = basic("wso2:s3cret:pass");
    let bad_basic = basic("wso2:guess");
    /// (mode, credential, header name, right value, wrong values, malformed values)
    type Case<'a> = (&'a str, &'a str, &'a str, String, Vec<String>, Vec<String>);
    let cases: Vec<Case> = vec![
        (
            "bearer",
            "tok-9f8e7d6c",
            "authorization",
            "Bearer tok-9f8e7d6c".into(),
            vec!["Bearer tok-0000".into()],
            vec![
                "tok-9f8e7d6c".into(),
                "Basic tok-9f8e7d6c".into(),
                "Bearer".into(),
            ],
        ),
        (
            "api-key",
            "key-1a2b3c4d",
            "api-key",
            "key-1a2b3c4d".into(),
            vec!["key-1a2b3c4e".into(), "KEY-1A2B3C4D".into()],
            vec![],
        ),
        (
            "basic",
            "wso2:s3cret:pass",
            "authorization",
            good_basic.clone(),
            vec![bad_basic],
            vec![
                "Basic !!!not-base64".into(),
                "Bearer abc".into(),
                "wso2:s3cret:pass".into(),
            ],
        ),
    ];
    for (mode, credential, name, right, wrong, malformed) in cases {
        let ses = SesScope::new().await;
        let mut vars = ses.vars();
        vars.push(("AUTH_MODE", mode));
        vars.push(("AUTH_CREDENTIAL", credential));
        let app = TestApp::new(&vars).await;

        let ok = app.request(post(&[(name, &right)], tutorial())).await;
        assert_eq!(
            (ok.status, ok.body.clone()),
            (200, success()),
            "{mode}: right credential"
        );

        let mut refused: Vec<Vec<(&str, &str)>> = vec![vec![]];
        for w in wrong.iter().chain(&malformed) {
            refused.push(vec![(name, w.as_str())]);
        }
        for headers in refused {
            let answer = app
                .request(post(&headers, tutorial().replace("2210", "2211")))
                .await;
            assert_eq!(answer.status, 401, "{mode}: {headers:?}");
            assert_eq!(answer.content_type.as_deref(), Some("application/json"));
            assert_eq!(answer.body, unauthorized(), "{mode}: {headers:?}");
        }
        assert_eq!(
            ses.alerts().await.len(),
            1,
            "{mode}: refused calls send nothing"
        );
    }
}

#[tokio::test]
async fn the_api_key_header_name_is_configurable() {
    let app = TestApp::new(&[
        ("AUTH_MODE", "api-key"),
        ("AUTH_API_KEY_HEADER", "X-API-Key"),
        ("AUTH_CREDENTIAL", "k-123456"),
    ])
    .await;
    assert_eq!(
        app.request(post(&[("x-api-key", "k-123456")], tutorial()))
            .await
            .status,
        200
    );
    assert_eq!(
        app.request(post(&[("api-key", "k-123456")], tutorial()))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn a_refused_call_does_nothing_else() {
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&directory)
        .await;
    let url = format!("{}/d/{{department}}", directory.uri());
    let app = TestApp::new(&[
        ("AUTH_MODE", "bearer"),
        ("AUTH_CREDENTIAL", "tok-abcdef"),
        ("DEPARTMENT_API_URL", url.as_str()),
    ])
    .await;
    // Even a body that is not JSON at all is refused for its credentials first.
    let answer = app
        .request(post(
            &[("authorization", "Bearer wrong")],
            "{not json".into(),
        ))
        .await;
    assert_eq!(answer.status, 401);
    let answer = app.request(post(&[], tutorial())).await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn an_inline_json_credential_is_read_like_a_stored_secret() {
    let pair = r#"{"username": "wso2", "password": "pw-7Hq:2"}"#;
    let app = TestApp::new(&[("AUTH_MODE", "basic"), ("AUTH_CREDENTIAL", pair)]).await;
    let right = app
        .request(post(
            &[("authorization", &basic("wso2:pw-7Hq:2"))],
            tutorial(),
        ))
        .await;
    assert_eq!((right.status, right.body), (200, success()));
    for wrong in [basic("wso2:pw-7Hq:3"), basic(pair)] {
        let answer = app
            .request(post(&[("authorization", &wrong)], tutorial()))
            .await;
        assert_eq!(
            (answer.status, answer.body),
            (401, unauthorized()),
            "{wrong}"
        );
    }
    let app = TestApp::new(&[
        ("AUTH_MODE", "bearer"),
        ("AUTH_CREDENTIAL", r#"{"token": "tok-5e6f"}"#),
    ])
    .await;
    let right = app
        .request(post(&[("authorization", "Bearer tok-5e6f")], tutorial()))
        .await;
    assert_eq!((right.status, right.body), (200, success()));
}
