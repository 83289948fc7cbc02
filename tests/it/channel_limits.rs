//! The largest change the limits let in still reaches every channel: a Slack stub that rejects what Slack rejects,
//! and the SES emulator.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::{SesScope, TestApp, success};

/// Slack's documented limits for an incoming webhook's message.
const MAX_BLOCKS: usize = 50;
const SECTION_TEXT_CHARS: usize = 3000;
const HEADER_TEXT_CHARS: usize = 150;
/// Longer `text` is not rejected but silently truncated.
const TEXT_CHARS: usize = 40_000;

/// Judges a webhook body the way Slack does; the error is Slack's answer body.
fn slack_verdict(body: &[u8]) -> Result<(), &'static str> {
    let payload: Value = serde_json::from_slice(body).map_err(|_| "invalid_payload")?;
    let blocks = payload["blocks"].as_array().map_or(&[][..], Vec::as_slice);
    if blocks.len() > MAX_BLOCKS {
        return Err("invalid_blocks");
    }
    for block in blocks {
        let limit = match block["type"].as_str() {
            Some("section") => SECTION_TEXT_CHARS,
            Some("header") => HEADER_TEXT_CHARS,
            _ => continue,
        };
        let text = block["text"]["text"].as_str().ok_or("invalid_blocks")?;
        if text.chars().count() > limit {
            return Err("invalid_blocks");
        }
    }
    Ok(())
}

struct SlackLike;

impl Respond for SlackLike {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match slack_verdict(&request.body) {
            Ok(()) => ResponseTemplate::new(200).set_body_string("ok"),
            Err(why) => ResponseTemplate::new(400).set_body_string(why),
        }
    }
}

pub const CLAIMS: usize = 100; // MAX_CLAIMS's default
const VALUE_BYTES: usize = 4096; // MAX_VALUE_BYTES's default

pub fn claim_name(i: usize) -> String {
    format!("custom{i:03}")
}

/// A value of exactly `VALUE_BYTES` bytes, full of what Slack and HTML escape.
fn long_value(i: usize) -> String {
    let mut v = format!("{i} <b>call me</b> & ").repeat(VALUE_BYTES);
    v.truncate(VALUE_BYTES);
    v
}

pub fn biggest_change() -> String {
    let claims: Vec<Value> = (0..CLAIMS)
        .map(|i| {
            json!({"uri": format!("http://wso2.org/claims/{}", claim_name(i)), "value": long_value(i)})
        })
        .collect();
    json!({"actionType": "PRE_UPDATE_PROFILE", "requestId": "limits-1", "event": {
        "request": {"claims": claims},
        "tenant": {"id": "12402", "name": "bar.com"},
        "user": {"id": "u-limits"},
        "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}

async fn the_biggest_change_reaches_every_channel(values: &str) {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXX"))
        .respond_with(SlackLike)
        .mount(&slack)
        .await;
    let hook = format!("{}/services/T000/B000/XXXX", slack.uri());
    let every_claim = (0..CLAIMS).map(claim_name).collect::<Vec<_>>().join(",");
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.extend([
        ("SLACK_WEBHOOK_URL", hook.as_str()),
        ("SENSITIVE_CLAIMS", every_claim.as_str()),
        ("MAX_BODY_BYTES", "1048576"),
        ("ALERT_VALUES", values),
    ]);
    let app = TestApp::new(&vars).await;

    let answer = app.post(biggest_change()).await;
    assert_eq!(answer.body, success(), "ALERT_VALUES={values}");

    let received = slack.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(slack_verdict(&received[0].body), Ok(()));
    let payload: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert!(payload["text"].as_str().unwrap().chars().count() <= TEXT_CHARS);
    let sections: Vec<&str> = payload["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "section")
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    let last_line = sections.last().unwrap().lines().last().unwrap();
    assert!(
        last_line.starts_with("…and ") && last_line.ends_with(" more"),
        "{last_line:?}"
    );
    assert!(sections.concat().contains(&claim_name(0)));

    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), 1, "ALERT_VALUES={values}");
    let subject = &alerts[0].subject;
    assert!(subject.chars().count() <= 200, "{subject}");
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    assert!(subject.contains(" more)"), "{subject}");
    assert!(subject.contains("u-limits"), "{subject}");
    for i in 0..CLAIMS {
        assert!(
            alerts[0]
                .body
                .contains(&format!("<td>{}</td>", claim_name(i))),
            "the e-mail lists every attribute, {} is missing",
            claim_name(i)
        );
    }
}

#[tokio::test]
async fn the_biggest_change_reaches_slack_and_email_with_masked_values() {
    the_biggest_change_reaches_every_channel("masked").await;
}

#[tokio::test]
async fn the_biggest_change_reaches_slack_and_email_with_full_values() {
    the_biggest_change_reaches_every_channel("full").await;
}

#[test]
fn the_stub_judges_as_slack_does() {
    let section =
        |n: usize| json!({"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(n)}});
    let header =
        |n: usize| json!({"type": "header", "text": {"type": "plain_text", "text": "x".repeat(n)}});
    let body = |blocks: Vec<Value>| json!({"text": "t", "blocks": blocks}).to_string();
    assert_eq!(
        slack_verdict(body(vec![header(150), section(3000)]).as_bytes()),
        Ok(())
    );
    assert_eq!(
        slack_verdict(body(vec![section(3001)]).as_bytes()),
        Err("invalid_blocks")
    );
    assert_eq!(
        slack_verdict(body(vec![header(151)]).as_bytes()),
        Err("invalid_blocks")
    );
    assert_eq!(
        slack_verdict(body(vec![section(1); 51]).as_bytes()),
        Err("invalid_blocks")
    );
    assert_eq!(slack_verdict(b"{not json"), Err("invalid_payload"));
}
