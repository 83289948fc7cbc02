//! The Okta Event Hook route through the real router: deliveries built like Okta's (the catalog's
//! `UserConfigDebugData`, several events per delivery), moto's SES for e-mail, loopback stubs of the Slack Web API
//! and of Okta's Users API that answer the way the real ones do.

mod catchup;
mod catchup_shared;
mod messages;
mod once;
mod route;
mod smoke;
pub mod system_log;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Answer, SesScope, TestApp};

pub const SECRET: &str = "okta-hook-secret-7f3a9c";
pub const EMILY: &str = "00u1emily";
pub const ADMIN: &str = "00u9admin";

/// One `user.account.update_profile` event as Okta logs it: `actor` made the change to Emily's profile.
pub fn profile_event(uuid: &str, published: &str, actor: Value, changed: &str) -> Value {
    json!({
        "uuid": uuid, "published": published, "eventType": "user.account.update_profile", "version": "0",
        "severity": "INFO", "displayMessage": "Update user profile for Okta",
        "actor": actor,
        "client": {"ipAddress": "198.51.100.7", "userAgent": {"rawUserAgent": "Mozilla/5.0"}},
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": [{"id": EMILY, "type": "User", "alternateId": "emily@example.com", "displayName": "Emily Ng"}],
        "debugContext": {"debugData": {"requestId": "W-xILP4inm2dx@t856BdaAAABrc",
            "requestUri": format!("/api/v1/users/{EMILY}"), "changedAttributes": changed}},
        "transaction": {"type": "WEB", "id": "W-xILP4inm2dx@t856BdaAAABrc", "detail": {}}
    })
}

pub fn user_actor(id: &str, login: &str) -> Value {
    json!({"id": id, "type": "User", "alternateId": login, "displayName": "Some One"})
}

pub fn emily() -> Value {
    user_actor(EMILY, "emily@example.com")
}

pub fn admin() -> Value {
    user_actor(ADMIN, "admin@example.com")
}

/// The envelope Okta wraps the events of one delivery in.
pub fn delivery(events: Vec<Value>) -> String {
    json!({
        "eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
        "source": "https://example.okta.com/api/v1/eventHooks/who7hphp39JoHLni81d7",
        "eventId": uuid::Uuid::new_v4().to_string(), "eventTime": "2026-11-26T10:00:00.000Z",
        "contentType": "application/json", "data": {"events": events}
    })
    .to_string()
}

/// A fresh event id, so tests never share a once-per-change record.
pub fn fresh() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The app with the hook on and SES for e-mail; `extra` adds or overrides variables.
pub async fn okta_app(ses: &SesScope, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = ses.vars();
    vars.push(("OKTA_HOOK_AUTH", SECRET));
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

/// POSTs a delivery with Okta's header.
pub async fn deliver(app: &TestApp, body: String) -> Answer {
    deliver_with(app, "authorization", SECRET, body).await
}

pub async fn deliver_with(app: &TestApp, name: &str, value: &str, body: String) -> Answer {
    app.request(
        Request::post("/hooks/okta")
            .header("content-type", "application/json")
            .header(name, value)
            .body(Body::from(body))
            .expect("request builds"),
    )
    .await
}

pub const SLACK_TOKEN: &str = "xoxb-okta-test-4242";

fn slack_ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The Slack Web API under `/api`: it knows emily@example.com as U1 and checks the bot token; `post` answers
/// `chat.postMessage`.
pub async fn slack(post: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {SLACK_TOKEN}");
    Mock::given(method("GET"))
        .and(path("/api/users.lookupByEmail"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(slack_ok(json!({"ok": true, "user": {"id": "U1"}})))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.open"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(slack_ok(json!({"ok": true, "channel": {"id": "D1"}})))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(post)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(slack_ok(json!({"ok": false, "error": "invalid_auth"})))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// The texts Slack was asked to post.
pub async fn posted(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == "/api/chat.postMessage")
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            body["text"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// The app with the person's notice on `channels` (`slack` or `email,slack`) through the Slack stub.
pub async fn slack_app(ses: &SesScope, server: &MockServer, channels: &str) -> TestApp {
    let api = format!("{}/api", server.uri());
    let vars = [
        ("USER_NOTICE_CHANNELS", channels),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ("SLACK_API_URL", api.as_str()),
    ];
    okta_app(ses, &vars).await
}
