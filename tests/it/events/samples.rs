//! The scenarios of `events/`: each one's request (an action call, an Okta or WSO2 hook delivery, an SQS batch of
//! queued alerts), wrapped as Lambda receives it, beside the answer the default local configuration gives (embedded
//! departments Engineering, HR, Sales, Finance; default sensitive claims).
//!
//! `make events` writes the files from here (`write`); `committed_files_are_as_written` fails when a committed file
//! differs from what would be written, e.g. after a change of `QueuedAlert`'s layout or of an answer's text. Answers
//! and queued alerts come from the service's own types; what the samples imitate (API Gateway, Okta, WSO2, SQS
//! payloads) is spelled out here.
//!
//! The e-mails each event causes (`emails` in its expected file) are not written here: they are what the real service
//! sends, recorded by `RECORD_EVENT_EMAILS=1 cargo test --test it events`. Writing keeps those already recorded; a new
//! scenario has none until they are recorded. Every event must be a change of its own (its own requestId or
//! content): `make smoke` replays them all through one warm instance, where a repeated change is delivered once.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use profile_guard::action::ActionResponse;

use super::json::Json;

mod action;
mod gateway;
mod hooks;
mod sqs;

/// One file of `events/` with what goes beside it.
struct Sample {
    /// The file stem: `events/NAME.json`, `events/NAME.expected.json`.
    name: String,
    /// The event, as Lambda receives it.
    event: Json,
    /// The request body alone, for `events/bodies/NAME.json` (curl against `make run`), when there is one.
    body: Option<String>,
    /// The expected answer, without the recorded `emails`.
    expected: Value,
}

/// What an HTTP answer carries.
enum Content {
    /// No body (204).
    Empty,
    Json(Value),
    Text(&'static str),
}

/// The expected file of an HTTP answer (without its e-mails).
fn http_expected(status: u16, content: Content) -> Value {
    let (headers, body) = match content {
        Content::Empty => (json!({}), Value::Null),
        Content::Json(v) => (json!({"content-type": "application/json"}), v),
        Content::Text(t) => (
            json!({"content-type": "text/plain; charset=utf-8"}),
            Value::from(t),
        ),
    };
    json!({"statusCode": status, "headers": headers, "body": body})
}

/// The expected file of an action answer: its status and body as the service writes them.
fn action_expected(answer: &ActionResponse) -> Value {
    let body = serde_json::to_value(answer).expect("an answer serialises");
    http_expected(answer.http_status(), Content::Json(body))
}

/// Every sample, in no particular order.
fn samples() -> Vec<Sample> {
    let mut all = Vec::new();
    action::samples(&mut all);
    hooks::okta_samples(&mut all);
    hooks::wso2_samples(&mut all);
    sqs::samples(&mut all);
    all
}

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// The text of an expected file: the answer, with the e-mails already recorded in `path`; keys sorted.
fn expected_text(sample: &Sample, path: &Path) -> String {
    let mut expected = sample.expected.clone();
    let recorded = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("emails").cloned());
    if let Some(emails) = recorded {
        expected["emails"] = emails;
    }
    super::expected_file_text(&expected)
}

/// Every file of a sample: path and text.
fn files(sample: &Sample) -> Vec<(PathBuf, String)> {
    let dir = events_dir();
    let expected = dir.join(format!("{}.expected.json", sample.name));
    let mut files = vec![
        (
            dir.join(format!("{}.json", sample.name)),
            sample.event.pretty(),
        ),
        (expected.clone(), expected_text(sample, &expected)),
    ];
    if let Some(body) = &sample.body {
        files.push((
            dir.join("bodies").join(format!("{}.json", sample.name)),
            body.clone(),
        ));
    }
    files
}

/// `make events`: writes every sample, its body and its expected answer into `events/`.
#[test]
#[ignore = "run by make events"]
fn write() {
    for sample in samples() {
        for (path, text) in files(&sample) {
            std::fs::create_dir_all(path.parent().expect("a folder"))
                .expect("the folder can be made");
            std::fs::write(&path, text)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        }
    }
}

/// The committed `events/` are what `make events` writes, and nothing else: the replays read what the service's
/// types and texts make today.
#[test]
fn committed_files_are_as_written() {
    let mut stale = Vec::new();
    let mut written = std::collections::BTreeSet::new();
    for sample in samples() {
        for (path, text) in files(&sample) {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed != text {
                stale.push(format!("{} differs", path.display()));
            }
            written.insert(path);
        }
    }
    let dir = events_dir();
    for folder in [dir.clone(), dir.join("bodies")] {
        for entry in std::fs::read_dir(&folder).expect("events/ reads") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|x| x == "json") && !written.contains(&path) {
                stale.push(format!("{} is no sample's: remove it", path.display()));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "events/ is not what the scenarios write: run `make events`\n{}",
        stale.join("\n")
    );
}
