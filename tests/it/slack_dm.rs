//! The person's notice as a Slack direct message, against a loopback stub of the Slack Web API that checks the
//! bot token and answers the way Slack does (errors as HTTP 200 with `ok: false`, rate limits as 429).

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::{Captured, SesScope, TestApp, capture, success};

const TOKEN: &str = "xoxb-test-token-4242";
const BEARER: &str = "Bearer xoxb-test-token-4242";

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The Web API under `/api`, answering `users.lookupByEmail` for emily@aol.com with `lookup`; any call without
/// the right token gets Slack's `invalid_auth`.
async fn slack(lookup: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/users.lookupByEmail"))
        .and(query_param("email", "emily@aol.com"))
        .and(header("authorization", BEARER))
        .respond_with(lookup)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.open"))
        .and(header("authorization", BEARER))
        .and(wiremock::matchers::body_json(json!({"users": "U123"})))
        .respond_with(ok(json!({"ok": true, "channel": {"id": "D123"}})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", BEARER))
        .respond_with(ok(json!({"ok": true, "channel": "D123", "ts": "1.2"})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ok(json!({"ok": false, "error": "invalid_auth"})))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn found() -> ResponseTemplate {
    ok(json!({"ok": true, "user": {"id": "U123"}}))
}

fn mobile_change(initiator: &str) -> String {
    json!({"requestId": format!("dm-{}", uuid::Uuid::new_v4()), "actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94771234567"}]},
        "tenant": {"id": "12402", "name": "bar.com"},
        "user": {"id": "u-emily", "claims": [
            {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"},
            {"uri": "http://wso2.org/claims/givenname", "value": "Emily"}]},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": initiator, "action": "UPDATE"}})
    .to_string()
}

/// The app with SES for e-mail and the stub as the Web API; `extra` adds or overrides variables.
async fn app(ses: &SesScope, server: &MockServer, extra: &[(&str, &str)]) -> TestApp {
    let api = format!("{}/api", server.uri());
    let mut vars = ses.vars();
    vars.push(("SLACK_API_URL", api.as_str()));
    vars.push(("SLACK_BOT_TOKEN", TOKEN));
    vars.push(("USER_NOTICE_CHANNELS", "email,slack"));
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

async fn calls_to(server: &MockServer, method_name: &str) -> Vec<Request> {
    let wanted = format!("/api/{method_name}");
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == wanted)
        .collect()
}

/// The audit line's `notice` field of the only decision logged.
fn notice_field(logs: &Captured) -> String {
    let audits = logs.audits();
    assert_eq!(audits.len(), 1, "{audits:#?}");
    audits[0]["notice"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_self_service_change_is_told_by_email_and_by_slack_dm() {
    let (logs, _guard) = capture();
    let server = slack(found()).await;
    let ses = SesScope::new().await;
    let app = app(&ses, &server, &[]).await;
    assert_eq!(app.post(mobile_change("USER")).await.body, success());

    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(notices[0].to, ["emily@aol.com"]);
    let posted = calls_to(&server, "chat.postMessage").await;
    assert_eq!(posted.len(), 1);
    let message: Value = serde_json::from_slice(&posted[0].body).unwrap();
    assert_eq!(message["channel"], "D123");
    let text = message["text"].as_str().unwrap();
    for needle in [
        "Hello Emily,",
        "You changed these details of your *bar.com* account",
        "• *Mobile number*: +9477*****67",
        "change your password",
    ] {
        assert!(text.contains(needle), "the DM lacks {needle:?}:\n{text}");
    }
    assert!(!text.contains("+94771234567"), "{text}");

    let notice = notice_field(&logs);
    assert!(notice.starts_with("sent:"), "{notice}");
    assert!(notice.ends_with(":current_address,slack:sent"), "{notice}");
    assert!(
        !logs.text().contains(TOKEN),
        "the bot token reached the logs"
    );
}

#[tokio::test]
async fn slack_only_sends_no_notice_email() {
    let (logs, _guard) = capture();
    let server = slack(found()).await;
    let ses = SesScope::new().await;
    let app = app(&ses, &server, &[("USER_NOTICE_CHANNELS", "slack")]).await;
    assert_eq!(app.post(mobile_change("ADMIN")).await.body, success());
    assert_eq!(
        ses.alerts().await.len(),
        1,
        "the alert still goes by e-mail"
    );
    assert!(ses.notices().await.is_empty());
    let posted = calls_to(&server, "chat.postMessage").await;
    assert_eq!(posted.len(), 1);
    let message: Value = serde_json::from_slice(&posted[0].body).unwrap();
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .contains("An administrator changed"),
        "{message}"
    );
    assert_eq!(notice_field(&logs), "slack:sent");
}

#[tokio::test]
async fn a_person_without_a_slack_account_is_skipped_not_failed() {
    let (logs, _guard) = capture();
    let server = slack(ok(json!({"ok": false, "error": "users_not_found"}))).await;
    let ses = SesScope::new().await;
    let app = app(&ses, &server, &[]).await;
    assert_eq!(app.post(mobile_change("USER")).await.body, success());
    assert_eq!(ses.notices().await.len(), 1, "the e-mail still goes");
    assert!(calls_to(&server, "conversations.open").await.is_empty());
    assert!(calls_to(&server, "chat.postMessage").await.is_empty());
    let notice = notice_field(&logs);
    assert!(
        notice.starts_with("sent:") && notice.ends_with(",slack:skipped:users_not_found"),
        "{notice}"
    );
}

#[tokio::test]
async fn a_wrong_token_fails_the_dm_only() {
    let (logs, _guard) = capture();
    let server = slack(found()).await;
    let ses = SesScope::new().await;
    let wrong = "xoxb-wrong-token-9999";
    let app = app(&ses, &server, &[("SLACK_BOT_TOKEN", wrong)]).await;
    assert_eq!(app.post(mobile_change("USER")).await.body, success());
    assert_eq!(ses.notices().await.len(), 1, "the e-mail still goes");
    assert!(calls_to(&server, "chat.postMessage").await.is_empty());
    let notice = notice_field(&logs);
    assert!(
        notice.starts_with("sent:") && notice.ends_with(",slack:failed:credentials:invalid_auth"),
        "{notice}"
    );
    let all = logs.text();
    assert!(
        !all.contains(wrong) && !all.contains("xoxb-"),
        "a token reached the logs"
    );
}

#[tokio::test]
async fn a_rate_limit_fails_the_dm_without_waiting_or_retrying() {
    let (logs, _guard) = capture();
    let limited = ResponseTemplate::new(429)
        .insert_header("Retry-After", "1")
        .set_body_json(json!({"ok": false, "error": "ratelimited"}));
    let server = slack(limited).await;
    let ses = SesScope::new().await;
    let app = app(&ses, &server, &[]).await;
    assert_eq!(app.post(mobile_change("USER")).await.body, success());
    assert_eq!(ses.notices().await.len(), 1, "the e-mail still goes");
    assert_eq!(calls_to(&server, "users.lookupByEmail").await.len(), 1);
    assert!(calls_to(&server, "chat.postMessage").await.is_empty());
    let notice = notice_field(&logs);
    assert!(
        notice.ends_with(",slack:failed:throttled:ratelimited (retry after 1 s)"),
        "{notice}"
    );
}
