//! The security alert in Slack, against a real HTTP stub of the incoming webhook.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    LINK_BAIT, MENTION_BAIT, SesScope, TestApp, link_bait_change, success, tutorial,
};

async fn webhook(status: u16, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXX"))
        .and(header("content-type", "application/json"))
        .respond_with(
            ResponseTemplate::new(status)
                .set_body_string("ok")
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

fn url(server: &MockServer) -> String {
    format!("{}/services/T000/B000/XXXX", server.uri())
}

#[tokio::test]
async fn the_alert_reaches_slack_as_well_as_email() {
    let server = webhook(200, Duration::ZERO).await;
    let ses = SesScope::new().await;
    let hook = url(&server);
    let mut vars = ses.vars();
    vars.push(("SLACK_WEBHOOK_URL", hook.as_str()));
    let app = TestApp::new(&vars).await;
    assert_eq!(app.post(tutorial()).await.body, success());
    assert_eq!(ses.alerts().await.len(), 1);

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    let text = payload["text"].as_str().unwrap();
    assert!(
        text.starts_with("Sensitive profile change (Department, Mobile number, Email address)"),
        "{text}"
    );
    assert!(text.contains("testwso2 (2210)") && text.contains("an administrator"));
    let blocks = payload["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    let changes = blocks[2]["text"]["text"].as_str().unwrap();
    assert!(
        changes.contains("*Mobile number*: (not sent) → +9477*****48"),
        "{changes}"
    );
    assert!(!payload.to_string().contains("+94771223448"));
}

#[tokio::test]
async fn slack_only_sends_no_alert_email() {
    let server = webhook(200, Duration::ZERO).await;
    let ses = SesScope::new().await;
    let hook = url(&server);
    let mut vars = ses.vars();
    vars.push(("SLACK_WEBHOOK_URL", hook.as_str()));
    vars.push(("ALERT_CHANNELS", "slack"));
    let app = TestApp::new(&vars).await;
    assert_eq!(app.post(tutorial()).await.body, success());
    assert!(ses.alerts().await.is_empty());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_failing_or_slow_webhook_fails_the_update_even_when_email_got_through() {
    for (status, delay) in [
        (404, Duration::ZERO),
        (500, Duration::ZERO),
        (200, Duration::from_secs(3)),
    ] {
        let server = webhook(status, delay).await;
        let ses = SesScope::new().await;
        let hook = url(&server);
        let mut vars = ses.vars();
        vars.push(("SLACK_WEBHOOK_URL", hook.as_str()));
        vars.push(("SLACK_TIMEOUT_MS", "300"));
        let app = TestApp::new(&vars).await;
        let started = Instant::now();
        let answer = app.post(tutorial()).await;
        assert_eq!(
            answer.body,
            json!({"actionStatus": "FAILED", "failureReason": "email_error",
                   "failureDescription": "Failed to notify security team about sensitive data update."}),
            "webhook {status} after {delay:?}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "took {:?}",
            started.elapsed()
        );
        assert!(
            ses.notices().await.is_empty(),
            "a blocked update is not announced to the person"
        );
    }
}

#[tokio::test]
async fn profile_values_reach_slack_as_plain_text_that_never_links() {
    let server = webhook(200, Duration::ZERO).await;
    let ses = SesScope::new().await;
    let hook = url(&server);
    let mut vars = ses.vars();
    vars.push(("SLACK_WEBHOOK_URL", hook.as_str()));
    vars.push(("ALERT_VALUES", "full"));
    let app = TestApp::new(&vars).await;
    assert_eq!(app.post(link_bait_change()).await.body, success());

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    let sections: Vec<&Value> = payload["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "section")
        .collect();
    assert!(!sections.is_empty());
    for section in &sections {
        assert_eq!(section["text"]["type"], "mrkdwn");
        assert_eq!(section["text"]["verbatim"], true, "{section}");
    }
    let changes = sections.last().unwrap()["text"]["text"].as_str().unwrap();
    assert_eq!(
        changes,
        format!("• *Mobile number*: @channel &lt;!channel&gt; → {LINK_BAIT}")
    );
    let body = payload.to_string();
    assert!(
        !body.contains(MENTION_BAIT) && !body.contains("<http"),
        "{body}"
    );
}
