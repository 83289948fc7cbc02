//! `profile-guard check`: each dependency's finding against loopback stubs and moto, as an admin reads it, and the
//! binary's exit codes and JSON.

mod binary;
mod configure;
mod smoke;

use std::collections::HashMap;

use profile_guard::check::{Report, Status};
use profile_guard::{Config, app};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{SesScope, moto};

/// The check's report for exactly these variables.
pub async fn report(vars: &[(&str, &str)]) -> Report {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let config = Config::from_lookup(|k| map.get(k).cloned()).expect("a valid configuration");
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials();
    app::check_with(&config, loader).await
}

/// The finding about `dependency`: its status and its words.
fn finding(report: &Report, dependency: &str) -> (Status, String) {
    let f = report
        .findings
        .iter()
        .find(|f| f.dependency == dependency)
        .unwrap_or_else(|| panic!("no finding for {dependency}: {report:#?}"));
    (f.status, format!("{}: {}", f.tried, f.detail))
}

#[tokio::test]
async fn the_local_defaults_pass_and_say_mail_goes_to_the_log() {
    let report = report(&[]).await;
    assert_eq!(finding(&report, "directory").0, Status::Ok);
    let (status, words) = finding(&report, "e-mail");
    assert_eq!(status, Status::Warn);
    assert!(words.contains("ALERT_SENDER"), "{words}");
    assert_eq!(report.exit_code(), 0);
}

async fn directory_answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_directory_that_refuses_the_token_fails_and_names_the_token() {
    let server = directory_answering(401).await;
    let url = format!("{}/departments/{{department}}", server.uri());
    let report = report(&[
        ("DEPARTMENT_API_URL", &url),
        ("DEPARTMENT_API_TOKEN", "wrong"),
    ])
    .await;
    let (status, words) = finding(&report, "directory");
    assert_eq!(status, Status::Fail);
    assert!(words.contains("DEPARTMENT_API_TOKEN"), "{words}");
    assert!(
        !words.contains("wrong"),
        "the token is never shown: {words}"
    );
    assert_eq!(report.exit_code(), 1);
}

#[tokio::test]
async fn a_directory_that_knows_every_department_fails() {
    let server = directory_answering(200).await;
    let url = format!("{}/departments/{{department}}", server.uri());
    let report = report(&[("DEPARTMENT_API_URL", &url)]).await;
    let (status, words) = finding(&report, "directory");
    assert_eq!(status, Status::Fail);
    assert!(words.contains("accepts anything"), "{words}");
}

#[tokio::test]
async fn a_verified_sender_passes_and_an_unverified_one_fails() {
    let ses = SesScope::new().await;
    let report_ok = report(&ses.vars()).await;
    let (status, words) = finding(&report_ok, "ses");
    // moto does not answer GetAccount: verified, sandbox status unknown.
    assert_ne!(status, Status::Fail, "{words}");
    assert!(words.contains("is verified"), "{words}");
    let mut vars = ses.vars();
    vars.retain(|(k, _)| *k != "ALERT_SENDER");
    vars.push(("ALERT_SENDER", "alerts@not-verified.example.org"));
    let (status, words) = finding(&report(&vars).await, "ses");
    assert_eq!(status, Status::Fail);
    assert!(words.contains("not a verified SES identity"), "{words}");
}

/// SES v2's REST answers for a verified identity and an account in the sandbox.
async fn sandboxed_ses() -> MockServer {
    let server = MockServer::start().await;
    let identity = json!({"IdentityType": "DOMAIN", "VerifiedForSendingStatus": true});
    Mock::given(method("GET"))
        .and(path("/v2/email/identities/alerts%40example.com"))
        .respond_with(ResponseTemplate::new(200).set_body_json(identity))
        .mount(&server)
        .await;
    let account = json!({"ProductionAccessEnabled": false, "SendingEnabled": true,
        "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 3.0}});
    Mock::given(method("GET"))
        .and(path("/v2/email/account"))
        .respond_with(ResponseTemplate::new(200).set_body_json(account))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_sandboxed_account_is_a_warning_that_says_so() {
    let ses = sandboxed_ses().await;
    let endpoint = ses.uri();
    let vars = [
        ("ALERT_SENDER", "alerts@example.com"),
        ("SECURITY_TEAM_EMAILS", "soc@example.com"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", endpoint.as_str()),
    ];
    let report = report(&vars).await;
    let (status, words) = finding(&report, "ses");
    assert_eq!(status, Status::Warn, "{words}");
    assert!(words.contains("sandbox"), "{words}");
    assert_eq!(report.exit_code(), 0);
}

async fn slack_api(scopes: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/auth.test"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-oauth-scopes", scopes)
                .set_body_json(json!({"ok": true, "team": "Acme", "user": "profile-guard"})),
        )
        .mount(&server)
        .await;
    server
}

async fn slack_report(scopes: &str) -> (Status, String) {
    let server = slack_api(scopes).await;
    let api = format!("{}/api", server.uri());
    let vars = [
        ("USER_NOTICE_CHANNELS", "slack"),
        ("SLACK_BOT_TOKEN", "xoxb-test-token"),
        ("SLACK_API_URL", api.as_str()),
    ];
    finding(&report(&vars).await, "slack bot token")
}

#[tokio::test]
async fn a_bot_token_without_a_scope_direct_messages_need_fails() {
    let (status, words) = slack_report("users:read.email,chat:write").await;
    assert_eq!(status, Status::Fail);
    assert!(
        words.contains("im:write") && !words.contains("xoxb"),
        "{words}"
    );
    let (status, _) = slack_report("users:read,users:read.email,im:write,chat:write").await;
    assert_eq!(status, Status::Ok);
}

#[tokio::test]
async fn an_okta_token_okta_refuses_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users/me"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errorCode": "E0000011"})))
        .mount(&server)
        .await;
    let org = server.uri();
    let report = report(&[
        ("OKTA_ORG_URL", org.as_str()),
        ("OKTA_API_TOKEN", "00-revoked"),
    ])
    .await;
    let (status, words) = finding(&report, "okta api token");
    assert_eq!(status, Status::Fail);
    assert!(
        words.contains("401") && !words.contains("00-revoked"),
        "{words}"
    );
}

#[tokio::test]
async fn a_secret_that_cannot_be_read_fails_without_a_value() {
    let endpoint = moto().endpoint.as_str();
    let vars = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
        ("USER_NOTICE_CHANNELS", "slack"),
        ("SLACK_BOT_TOKEN_SECRET", "pg-check-no-such-secret"),
    ];
    let report = report(&vars).await;
    let (status, words) = finding(&report, "secret SLACK_BOT_TOKEN_SECRET");
    assert_eq!(status, Status::Fail);
    assert!(words.contains("pg-check-no-such-secret"), "{words}");
    assert_eq!(finding(&report, "slack bot token").0, Status::Fail);
}

#[tokio::test]
async fn a_missing_table_fails_and_an_existing_one_passes() {
    let endpoint = moto().endpoint.as_str();
    let base = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
    ];
    let missing = [
        &base[..],
        &[("IDEMPOTENCY_TABLE", "pg-check-no-such-table")],
    ]
    .concat();
    let (status, words) = finding(&report(&missing).await, "dynamodb table");
    assert_eq!(status, Status::Fail);
    assert!(words.contains("no such table"), "{words}");
    let table = crate::idempotency::table().await;
    let present = [&base[..], &[("IDEMPOTENCY_TABLE", table.as_str())]].concat();
    assert_eq!(
        finding(&report(&present).await, "dynamodb table").0,
        Status::Ok
    );
}

#[tokio::test]
async fn the_identity_servers_keys_are_read_and_a_refused_scim_token_fails() {
    let server = MockServer::start().await;
    let keys =
        json!({"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "n": "AQAB", "e": "AQAB"}]});
    Mock::given(method("GET"))
        .and(path("/oauth2/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/scim2/Users"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let (jwks, scim) = (format!("{}/oauth2/jwks", server.uri()), server.uri());
    let vars = [
        ("AUTH_MODE", "jwt"),
        ("AUTH_JWKS_URL", jwks.as_str()),
        ("AUTH_ISSUER", "https://is.example.com/oauth2/token"),
        ("AUTH_AUDIENCE", "client-1"),
        ("REPORT_URL_BASE", "https://guard.example.com"),
        ("REPORT_LINK_SECRET", "0123456789abcdef0123456789abcdef-key"),
        ("REPORT_ACTION", "lock"),
        ("WSO2_SCIM_URL", scim.as_str()),
        ("WSO2_SCIM_TOKEN", "scim-token-revoked"),
    ];
    let report = report(&vars).await;
    let (status, words) = finding(&report, "jwks");
    assert_eq!(status, Status::Ok, "{words}");
    assert!(words.contains("1 signing key"), "{words}");
    let (status, words) = finding(&report, "wso2 scim");
    assert_eq!(status, Status::Fail);
    assert!(
        words.contains("401") && !words.contains("scim-token-revoked"),
        "{words}"
    );
}
