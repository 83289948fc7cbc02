//! Every `events/` file, decoded as Lambda decodes it (`lambda_http`), through the router, against its
//! `events/NAME.expected.json`: the answer (status, content type, body) and the e-mails SES receives. The Lambda
//! smoke replay (`make smoke`, `smoke::replay`) judges the same files with the same `differences`.
//!
//! `samples` writes the files (`make events`). The `emails` of an expected file are what the real service sent, not
//! derived from its rules here: `RECORD_EVENT_EMAILS=1 cargo test --test it events` writes them after checking the
//! answers.

mod json;
mod samples;
mod smoke;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use profile_guard::consumer::sqs_event::{BatchResponse, SqsEvent};

use crate::support::{Answer, SentMail, SesScope, TestApp};

/// The value the Okta samples carry in their authorization header, which both replays configure as
/// `OKTA_HOOK_AUTH`.
pub const OKTA_SAMPLE_SECRET: &str = "okta-sample-secret";
/// The secret the WSO2 webhook samples are signed with, which both replays configure as `WSO2_WEBHOOK_SECRET`.
pub const WSO2_SAMPLE_SECRET: &str = "wso2-sample-secret";
/// The key the forged WSO2 sample is signed with instead.
pub const WSO2_FORGED_KEY: &str = "guessed";

/// How an expected file writes any address of the security team, whatever the configuration calls it.
const SECURITY_TEAM: &str = "SECURITY_TEAM_EMAILS";

/// One message SES accepted, as the expected files list it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Email {
    to: Vec<String>,
    subject: String,
}

/// What a replay got back.
enum Reply {
    /// The endpoint's HTTP answer.
    Http(Answer),
    /// The consumer's answer: the records to redeliver.
    Batch(Value),
}

/// Every event of `events/`, sorted.
fn event_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("events/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".expected.json")
        })
        .collect();
    files.sort();
    files
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// An event's name and its expected file.
fn expected_of(file: &Path) -> (String, PathBuf) {
    let name = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    (name, file.with_extension("expected.json"))
}

/// Whether an expected file is the consumer's (an SQS batch) rather than the endpoint's.
fn for_the_consumer(expected: &Value) -> bool {
    expected.get("answer").is_some()
}

/// Messages as the expected files list them, sorted: each recipient once (a raw message lists them twice, the
/// call's and its To header), any of the security team's addresses written `SECURITY_TEAM`.
fn emails_of(mails: impl IntoIterator<Item = SentMail>, team: &[String]) -> Vec<Email> {
    let mut emails: Vec<Email> = mails
        .into_iter()
        .map(|m| Email {
            to: m
                .to
                .into_iter()
                .map(|a| match team.contains(&a) {
                    true => SECURITY_TEAM.to_owned(),
                    false => a,
                })
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            subject: m.subject,
        })
        .collect();
    emails.sort();
    emails
}

/// The text of an expected file: keys sorted, indented by two, a final newline.
fn expected_file_text(expected: &Value) -> String {
    serde_json::to_string_pretty(expected).expect("an expected file serialises") + "\n"
}

/// How what a replay got differs from the expected file: the answer, then the e-mails (unless `sent` is `None`,
/// when they are being recorded). Empty when they agree.
fn differences(expected: &Value, reply: &Reply, sent: Option<&[Email]>) -> Vec<String> {
    let mut diffs = Vec::new();
    match reply {
        Reply::Http(answer) => {
            let status = &expected["statusCode"];
            if status.as_u64() != Some(u64::from(answer.status)) {
                diffs.push(format!("status: expected {status}, got {}", answer.status));
            }
            let content_type = expected["headers"]["content-type"].as_str();
            if answer.content_type.as_deref() != content_type {
                diffs.push(format!(
                    "content type: expected {content_type:?}, got {:?}",
                    answer.content_type
                ));
            }
            if answer.body != expected["body"] {
                diffs.push(format!("body: expected {}", expected["body"]));
                diffs.push(format!("      got      {}", answer.body));
            }
        }
        Reply::Batch(answer) => {
            if !for_the_consumer(expected) {
                diffs.push(format!(
                    "a consumer's answer where an HTTP one is expected: {answer}"
                ));
            } else if batch_sorted(answer) != batch_sorted(&expected["answer"]) {
                diffs.push(format!(
                    "answer: expected {}, got {answer}",
                    expected["answer"]
                ));
            }
        }
    }
    let Some(sent) = sent else {
        return diffs;
    };
    match expected.get("emails").map(|e| serde_json::from_value::<Vec<Email>>(e.clone())) {
        None => diffs.push(
            "no \"emails\": record what the service sends with RECORD_EVENT_EMAILS=1 cargo test --test it events"
                .to_owned(),
        ),
        Some(Err(e)) => diffs.push(format!("\"emails\" is malformed: {e}")),
        Some(Ok(mut listed)) => {
            listed.sort();
            if listed != sent {
                let show = |e: &[Email]| serde_json::to_string(e).unwrap_or_default();
                diffs.push(format!("e-mails: expected {}", show(&listed)));
                diffs.push(format!("         got      {}", show(sent)));
            }
        }
    }
    diffs
}

/// A consumer's answer with its failures in one order: the records it names are a set.
fn batch_sorted(answer: &Value) -> Value {
    let mut answer = answer.clone();
    if let Some(failures) = answer["batchItemFailures"].as_array_mut() {
        failures.sort_by_key(|f| f["itemIdentifier"].as_str().map(str::to_owned));
    }
    answer
}

/// Writes the e-mails into the expected file, as `make events` writes it.
fn record_emails(path: &Path, mut expected: Value, sent: &[Email]) {
    expected["emails"] = serde_json::to_value(sent).expect("e-mails serialise");
    std::fs::write(path, expected_file_text(&expected))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

#[tokio::test]
async fn every_event_gets_its_expected_answer_and_emails() {
    let files = event_files();
    assert!(
        files.len() >= 13,
        "expected the scenario events, found {files:?}"
    );
    let record = std::env::var_os("RECORD_EVENT_EMAILS").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for file in &files {
        let (name, expected_path) = expected_of(file);
        let expected = read_json(&expected_path);
        let ses = SesScope::new().await;
        let raw = issued_now(&std::fs::read_to_string(file).expect("event reads"));
        let reply = if for_the_consumer(&expected) {
            Reply::Batch(replay_to_the_consumer(&name, &raw, &ses).await)
        } else {
            Reply::Http(replay_to_the_endpoint(&name, &raw, &ses).await)
        };
        let team = [ses.security_team.clone()];
        let sent = emails_of(ses.sent().await, &team);
        let diffs = differences(&expected, &reply, (!record).then_some(&sent[..]));
        if diffs.is_empty() && record {
            record_emails(&expected_path, expected, &sent);
        }
        failures.extend(diffs.into_iter().map(|d| format!("{name}: {d}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The variables both replays give the endpoint beyond SES: the hook routes on, with the samples' secrets.
fn hook_vars() -> [(&'static str, &'static str); 2] {
    [
        ("OKTA_HOOK_AUTH", OKTA_SAMPLE_SECRET),
        ("WSO2_WEBHOOK_SECRET", WSO2_SAMPLE_SECRET),
    ]
}

/// An API Gateway event, decoded as Lambda decodes it, through the router.
async fn replay_to_the_endpoint(name: &str, raw: &str, ses: &SesScope) -> Answer {
    let mut vars = ses.vars();
    vars.extend(hook_vars());
    let app = TestApp::new(&vars).await;
    let request = lambda_http::request::from_str(raw)
        .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"))
        .map(axum::body::Body::new);
    app.request(request).await
}

/// An SQS event through the consumer, as the consumer function gets it; its answer names the records to retry.
async fn replay_to_the_consumer(name: &str, raw: &str, ses: &SesScope) -> Value {
    let mut vars = ses.vars();
    vars.push(("FUNCTION_ROLE", "alert-consumer"));
    let app = TestApp::new(&vars).await;
    let consumer = app.consumer.clone().expect("a consumer");
    let event: SqsEvent =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{name}: not an SQS event: {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let failed = consumer.handle(&event.into_records(), deadline).await;
    serde_json::to_value(BatchResponse::of(failed)).expect("the answer serialises")
}

/// The signature headers a WSO2 delivery may carry.
const SIGNATURE_HEADERS: [&str; 3] = [
    "x-wso2-event-signature",
    "x-hub-signature",
    "x-hub-signature-256",
];

/// A WSO2 delivery is refused once older than the event window, so a sample is replayed as issued now: `iat` set to
/// this moment and the body signed again with the key it was signed with (the sample secret, or for the forged
/// sample another one). Any other event is returned as it is.
pub fn issued_now(raw: &str) -> String {
    let Ok(mut event) = serde_json::from_str::<Value>(raw) else {
        return raw.to_owned();
    };
    let Some(body) = event["body"].as_str().map(str::to_owned) else {
        return raw.to_owned();
    };
    let Ok(mut set) = serde_json::from_str::<Value>(&body) else {
        return raw.to_owned();
    };
    if set.get("iat").is_none() {
        return raw.to_owned();
    }
    set["iat"] = serde_json::json!(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64
    );
    let fresh = set.to_string();
    if let Some(headers) = event["headers"].as_object_mut() {
        for name in SIGNATURE_HEADERS {
            if let Some(old) = headers.get(name).and_then(Value::as_str) {
                let genuine = old == crate::wso2_webhook::signature(WSO2_SAMPLE_SECRET, &body);
                let key = if genuine {
                    WSO2_SAMPLE_SECRET
                } else {
                    WSO2_FORGED_KEY
                };
                let signed = crate::wso2_webhook::signature(key, &fresh);
                headers.insert(name.to_owned(), Value::String(signed));
            }
        }
    }
    event["body"] = Value::String(fresh);
    event.to_string()
}
