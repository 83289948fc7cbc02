//! The edges of the router: whatever the request line (a path that decodes to invalid UTF-8, an unknown path, a
//! query string, a method other than POST), the answer is JSON and the refusal has its audit line.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::{TestApp, success};

/// Log lines written on this thread while the guard lives.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The audit lines written so far, oldest first (and forgets them).
    pub fn take_audits(&self) -> Vec<Value> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l["target"] == "profile_guard::audit")
            .collect()
    }
}

pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    // While only one subscriber exists, tracing caches a log statement's interest from the subscriber of the
    // thread that reaches it first: a statement first reached by a test without a subscriber would never be
    // logged here. With a second (idle) subscriber alive it asks all of them.
    static IDLE: OnceLock<tracing::Dispatch> = OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn routing(message: &str, description: &str) -> Value {
    json!({"actionStatus": "ERROR", "errorMessage": message, "errorDescription": description})
}

#[tokio::test]
async fn odd_request_lines_get_json_answers_and_an_audit_line() {
    let (logs, _guard) = capture();
    let app = TestApp::new(&[]).await;
    let not_found = routing(
        "not_found",
        "No action endpoint here. Send POST requests to the pre-update-profile path.",
    );
    let not_allowed = routing(
        "method_not_allowed",
        "The action endpoint accepts POST only.",
    );
    let cases = [
        (
            Method::POST,
            "/%FF/pre-update-profile",
            404,
            not_found.clone(),
        ),
        (
            Method::POST,
            "/%C3%28/pre-update-profile?x=%FF",
            404,
            not_found.clone(),
        ),
        (
            Method::POST,
            "/prod/pre-update-profile",
            404,
            not_found.clone(),
        ),
        (Method::POST, "/no/such/path", 404, not_found),
        (Method::GET, "/pre-update-profile", 405, not_allowed.clone()),
        (
            Method::PUT,
            "/%FF/pre-update-profile",
            405,
            not_allowed.clone(),
        ),
        (Method::from_bytes(b"FOO").unwrap(), "/", 405, not_allowed),
        (
            Method::POST,
            "/pre-update-profile?%FF=%FE&&=&a=%",
            200,
            success(),
        ),
    ];
    for (method, uri, status, body) in cases {
        let what = format!("{method} {uri}");
        let answer = app
            .request(
                Request::builder()
                    .method(method)
                    .uri(uri)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#,
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, status, "{what}");
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/json"),
            "{what}"
        );
        assert_eq!(answer.body, body, "{what}");
        let audits = logs.take_audits();
        assert_eq!(audits.len(), 1, "{what}: {audits:#?}");
        let reason = body["errorMessage"].as_str();
        assert_eq!(audits[0]["reason"].as_str(), reason, "{what}");
        assert_eq!(audits[0]["http_status"], status, "{what}");
        assert!(
            audits[0]["request_id"]
                .as_str()
                .is_some_and(|id| id.starts_with("pg-")),
            "{what}: {:?}",
            audits[0]
        );
        // The request line is the caller's input: it never reaches the log.
        assert!(!audits[0].to_string().contains("%FF"), "{what}");
    }
}
