//! The security alert in Microsoft Teams, against a loopback stub of a Workflows webhook that accepts only what a
//! real one accepts: a `message` with one Adaptive Card attachment, under 28 KB, answered 202 with no body.

use serde_json::Value;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::channel_limits::{CLAIMS, biggest_change, claim_name};
use crate::support::{
    LINK_BAIT, MENTION_BAIT, SesScope, TestApp, capture, link_bait_change, success, tutorial,
};

const FLOW: &str = "/workflows/a1b2c3/triggers/manual/paths/invoke";
/// About what a Teams message may hold.
const TEAMS_LIMIT: usize = 28 * 1024;

/// Answers 202 to a valid card, 400 to anything else, the way the flow's trigger refuses a bad payload.
struct CardCheck;

impl Respond for CardCheck {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match card_problem(&request.body) {
            None => ResponseTemplate::new(202),
            Some(problem) => ResponseTemplate::new(400).set_body_string(problem),
        }
    }
}

fn card_problem(body: &[u8]) -> Option<String> {
    if body.len() > TEAMS_LIMIT {
        return Some(format!("{} bytes", body.len()));
    }
    let message: Value = serde_json::from_slice(body).ok()?;
    let attachment = &message["attachments"][0];
    let content = &attachment["content"];
    let ok = message["type"] == "message"
        && message["attachments"].as_array().map(Vec::len) == Some(1)
        && attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        && content["type"] == "AdaptiveCard"
        && content["version"].is_string()
        && content["body"]
            .as_array()
            .is_some_and(|b| b.iter().all(element_ok));
    (!ok).then(|| "not an Adaptive Card message".to_owned())
}

/// Adaptive Cards 1.2 elements, of those a card may use: text blocks, rich text made of text runs, facts, and
/// containers of these.
fn element_ok(element: &Value) -> bool {
    let all = |key: &str, ok: fn(&Value) -> bool| {
        element[key].as_array().is_some_and(|v| v.iter().all(ok))
    };
    match element["type"].as_str() {
        Some("TextBlock") => element["text"].is_string(),
        Some("FactSet") => all("facts", |f| {
            f["title"].is_string() && f["value"].is_string()
        }),
        Some("RichTextBlock") => all("inlines", |r| {
            r["type"] == "TextRun" && r["text"].is_string()
        }),
        Some("Container") => all("items", element_ok),
        _ => false,
    }
}

/// Where strings holding `needle` sit: the type of the object holding each, and its key.
fn holders(value: &Value, needle: &str, kind: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            let kind = map.get("type").and_then(Value::as_str).unwrap_or(kind);
            for (key, v) in map {
                if v.as_str().is_some_and(|s| s.contains(needle)) {
                    out.push((kind.to_owned(), key.clone()));
                }
                holders(v, needle, kind, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| holders(v, needle, kind, out)),
        _ => {}
    }
}

async fn flow(respond: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(FLOW))
        .and(header("content-type", "application/json"))
        .respond_with(respond)
        .mount(&server)
        .await;
    server
}

async fn app_with(ses: &SesScope, url: &str, channels: &str) -> TestApp {
    let mut vars = ses.vars();
    vars.push(("TEAMS_WEBHOOK_URL", url));
    vars.push(("ALERT_CHANNELS", channels));
    TestApp::new(&vars).await
}

#[tokio::test]
async fn teams_gets_a_valid_card_beside_the_email() {
    let (logs, _guard) = capture();
    let server = flow(CardCheck).await;
    let ses = SesScope::new().await;
    let url = format!("{}{FLOW}", server.uri());
    let app = app_with(&ses, &url, "email,teams").await;
    assert_eq!(app.post(tutorial()).await.body, success());
    assert_eq!(ses.alerts().await.len(), 1);
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1);
    assert_eq!(card_problem(&received[0].body), None);
    let card: Value = serde_json::from_slice(&received[0].body).unwrap();
    let text = card.to_string();
    assert!(
        text.contains("Sensitive profile change") && text.contains("testwso2 (2210)"),
        "{text}"
    );
    assert!(
        !text.contains("+94771223448"),
        "values are masked in Teams too"
    );
    let decision = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "decision")
        .unwrap();
    let alert = decision["alert"].as_str().unwrap();
    assert!(
        alert.starts_with("email:sent:") && alert.ends_with(",teams:sent"),
        "{alert}"
    );
    assert!(
        !logs.text().contains(FLOW),
        "the webhook URL reached the logs"
    );
}

#[tokio::test]
async fn the_largest_change_still_fits_one_card() {
    let server = flow(CardCheck).await;
    let ses = SesScope::new().await;
    let url = format!("{}{FLOW}", server.uri());
    let every_claim = (0..CLAIMS).map(claim_name).collect::<Vec<_>>().join(",");
    let mut vars = ses.vars();
    vars.extend([
        ("TEAMS_WEBHOOK_URL", url.as_str()),
        ("ALERT_CHANNELS", "teams"),
        ("ALERT_VALUES", "full"),
        ("SENSITIVE_CLAIMS", every_claim.as_str()),
        ("MAX_BODY_BYTES", "1048576"),
    ]);
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(biggest_change()).await.body,
        success(),
        "the stub took the card"
    );
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].body.len() <= TEAMS_LIMIT,
        "{} bytes",
        received[0].body.len()
    );
    let text = String::from_utf8_lossy(&received[0].body).into_owned();
    assert!(text.contains("more\""), "the lines left out are counted");
}

#[tokio::test]
async fn a_refused_card_counts_as_an_undelivered_alert() {
    let server = flow(ResponseTemplate::new(400).set_body_string("Bad Request")).await;
    let ses = SesScope::new().await;
    let url = format!("{}{FLOW}", server.uri());
    let app = app_with(&ses, &url, "email,teams").await;
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.body["actionStatus"], "FAILED", "{:?}", answer.body);
    assert_eq!(answer.body["failureReason"], "email_error");
    let ok_200 = flow(ResponseTemplate::new(200)).await;
    let url = format!("{}{FLOW}", ok_200.uri());
    let app = app_with(&ses, &url, "teams").await;
    assert_eq!(
        app.post(tutorial()).await.body,
        success(),
        "200 is delivered too"
    );
}

#[tokio::test]
async fn profile_values_reach_teams_only_as_text_runs() {
    let server = flow(CardCheck).await;
    let ses = SesScope::new().await;
    let url = format!("{}{FLOW}", server.uri());
    let mut vars = ses.vars();
    vars.extend([
        ("TEAMS_WEBHOOK_URL", url.as_str()),
        ("ALERT_CHANNELS", "teams"),
        ("ALERT_VALUES", "full"),
    ]);
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(link_bait_change()).await.body,
        success(),
        "the stub took the card"
    );
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), 1);
    let card: Value = serde_json::from_slice(&received[0].body).unwrap();
    for bait in [LINK_BAIT, MENTION_BAIT, "u-bait"] {
        let mut found = Vec::new();
        holders(&card, bait, "", &mut found);
        assert!(!found.is_empty(), "{bait} is not on the card");
        for (kind, key) in found {
            assert_eq!((kind.as_str(), key.as_str()), ("TextRun", "text"), "{bait}");
        }
    }
    let runs = card.to_string();
    for bait in [LINK_BAIT, MENTION_BAIT] {
        let run = serde_json::json!({"type": "TextRun", "text": bait}).to_string();
        assert!(
            runs.contains(&run),
            "{bait} is not a run of its own: {runs}"
        );
    }
    assert!(!runs.contains('\\'), "no backslash escapes: {runs}");
}
