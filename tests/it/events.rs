//! Every `events/` file, decoded as Lambda decodes it (`lambda_http`), through the router, against its
//! `events/NAME.expected.json`: the answer (status, content type, body) and the e-mails SES receives. The Lambda
//! smoke replay (`make smoke`) checks the same files, so both replays read one source of truth.
//!
//! `samples` writes the files (`make events`). The `emails` of an expected file are what the real service sent, not
//! derived from its rules here: `RECORD_EVENT_EMAILS=1 cargo test --test it events` writes them after checking the
//! answers.

mod json;
mod samples;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use profile_guard::consumer::sqs_event::{BatchResponse, SqsEvent};

use crate::support::{SesScope, TestApp};

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

/// The e-mails the emulator holds for this scope, sorted, the security team's address written `SECURITY_TEAM`.
async fn emails_sent(ses: &SesScope) -> Vec<Email> {
    let mut sent: Vec<Email> = ses
        .sent()
        .await
        .into_iter()
        .map(|m| Email {
            // A raw message lists its recipients twice (the call's and its To header): once each, sorted.
            to: m
                .to
                .into_iter()
                .map(|a| {
                    if a == ses.security_team {
                        SECURITY_TEAM.to_owned()
                    } else {
                        a
                    }
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
            subject: m.subject,
        })
        .collect();
    sent.sort();
    sent
}

fn expected_emails(name: &str, expected: &Value) -> Vec<Email> {
    let listed = expected.get("emails").unwrap_or_else(|| {
        panic!(
            "events/{name}.expected.json has no \"emails\": record what the service sends with \
             RECORD_EVENT_EMAILS=1 cargo test --test it events"
        )
    });
    let mut emails: Vec<Email> = serde_json::from_value(listed.clone())
        .unwrap_or_else(|e| panic!("events/{name}.expected.json: \"emails\" is malformed: {e}"));
    emails.sort();
    emails
}

/// The text of an expected file: keys sorted, indented by two, a final newline.
fn expected_file_text(expected: &Value) -> String {
    serde_json::to_string_pretty(expected).expect("an expected file serialises") + "\n"
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
    for file in &files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        let expected_path = file.with_extension("expected.json");
        let expected = read_json(&expected_path);
        let ses = SesScope::new().await;
        let raw = issued_now(&std::fs::read_to_string(file).expect("event reads"));
        if expected.get("answer").is_some() {
            replay_to_the_consumer(&name, &raw, &expected, &ses).await;
        } else {
            replay_to_the_endpoint(&name, &raw, &expected, &ses).await;
        }
        let sent = emails_sent(&ses).await;
        if record {
            record_emails(&expected_path, expected, &sent);
        } else {
            assert_eq!(sent, expected_emails(&name, &expected), "{name}: e-mails");
        }
    }
}

/// An API Gateway event, decoded as Lambda decodes it, through the router.
async fn replay_to_the_endpoint(name: &str, raw: &str, expected: &Value, ses: &SesScope) {
    let mut vars = ses.vars();
    vars.push(("OKTA_HOOK_AUTH", OKTA_SAMPLE_SECRET));
    vars.push(("WSO2_WEBHOOK_SECRET", WSO2_SAMPLE_SECRET));
    let app = TestApp::new(&vars).await;
    let request = lambda_http::request::from_str(raw)
        .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"))
        .map(axum::body::Body::new);
    let answer = app.request(request).await;
    assert_eq!(
        answer.status as u64,
        expected["statusCode"].as_u64().unwrap_or_default(),
        "{name}: status"
    );
    assert_eq!(
        answer.content_type.as_deref(),
        expected["headers"]["content-type"].as_str(),
        "{name}: content type"
    );
    assert_eq!(answer.body, expected["body"], "{name}: body");
}

/// An SQS event through the consumer, as the consumer function gets it; its answer names the records to retry.
async fn replay_to_the_consumer(name: &str, raw: &str, expected: &Value, ses: &SesScope) {
    let mut vars = ses.vars();
    vars.push(("FUNCTION_ROLE", "alert-consumer"));
    let app = TestApp::new(&vars).await;
    let consumer = app.consumer.clone().expect("a consumer");
    let event: SqsEvent =
        serde_json::from_str(raw).unwrap_or_else(|e| panic!("{name}: not an SQS event: {e}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let failed = consumer.handle(&event.into_records(), deadline).await;
    let answer = serde_json::to_value(BatchResponse::of(failed)).expect("the answer serialises");
    assert_eq!(answer, expected["answer"], "{name}: answer");
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

/// For the Lambda smoke replay: writes every sample and its expected file into `SAMPLES_OUT`, the WSO2 deliveries
/// issued now (`make smoke` runs it; nothing else does).
#[test]
#[ignore = "run by make smoke with SAMPLES_OUT set"]
fn write_samples_issued_now() {
    let out = PathBuf::from(std::env::var_os("SAMPLES_OUT").expect("SAMPLES_OUT names a folder"));
    std::fs::create_dir_all(&out).expect("the folder can be made");
    for file in event_files() {
        let name = file.file_name().expect("a file name");
        let raw = std::fs::read_to_string(&file).expect("event reads");
        std::fs::write(out.join(name), issued_now(&raw)).expect("sample written");
        let expected = file.with_extension("expected.json");
        let expected_name = expected.file_name().expect("a file name");
        std::fs::copy(&expected, out.join(expected_name)).expect("expected file copied");
    }
}
