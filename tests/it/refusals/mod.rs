//! Every refusal the edge makes, exactly as a caller and an operator see it: status, JSON body, the headers that
//! go with it (`Connection: close` when the body is left unread, `Allow` on a 405) and one audit line with its
//! fields. And the order of the checks: the stage before the credentials, the credentials before the body.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, header};
use bytes::Bytes;
use http_body_util::BodyExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tower::ServiceExt;

use crate::support::{Exploding, TestApp, capture, success, tutorial};

pub(super) const CREDENTIAL: &str = "tok-5e4d3c2b";
pub(super) const MINIMAL: &str = r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#;

/// The fields of the audit line of a refusal made with one of the contract's answers.
pub(super) const ANSWER_FIELDS: &[&str] = &[
    "alert",
    "claims_changed",
    "claims_written",
    "decision",
    "detail",
    "http_status",
    "level",
    "message",
    "reason",
    "request_id",
    "sensitive_changed",
    "target",
    "timestamp",
    "total_ms",
];

/// The fields of the audit line of a routing refusal (404, 405).
pub(super) const ROUTING_FIELDS: &[&str] = &[
    "decision",
    "detail",
    "http_status",
    "level",
    "message",
    "reason",
    "request_id",
    "target",
    "timestamp",
];

pub(super) fn error(message: &str, description: &str) -> Value {
    json!({"actionStatus": "ERROR", "errorMessage": message, "errorDescription": description})
}

/// What the caller got and what the operator read.
pub(super) struct Seen {
    status: u16,
    headers: HeaderMap,
    body: Value,
    audits: Vec<Value>,
}

pub(super) async fn send(app: &TestApp, request: Request<Body>) -> Seen {
    let (logs, _guard) = capture();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.into_body().collect().await.unwrap().to_bytes();
    Seen {
        status,
        headers,
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        audits: logs.take_audits(),
    }
}

pub(super) fn post(content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut request = Request::post("/pre-update-profile");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body).unwrap()
}

/// A body that sends `first`, then fails as a broken connection would.
pub(super) fn broken_body(first: &'static [u8]) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(first)),
        Err(std::io::Error::other("connection reset")),
    ];
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// The field names of one log line.
pub(super) fn keys_of(line: &Value) -> BTreeSet<&str> {
    line.as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// Asserts the one audit line: its fields, decision, reason, status and detail.
pub(super) fn assert_audit(seen: &Seen, fields: &[&str], reason: &str, detail: &str, what: &str) {
    assert_eq!(seen.audits.len(), 1, "{what}: {:#?}", seen.audits);
    let line = &seen.audits[0];
    assert_eq!(
        keys_of(line),
        fields.iter().copied().collect(),
        "{what}: {line}"
    );
    assert_eq!(line["level"], "INFO", "{what}");
    assert_eq!(line["message"], "decision", "{what}");
    assert_eq!(line["decision"], "ERROR", "{what}");
    assert_eq!(line["reason"], reason, "{what}");
    assert_eq!(line["http_status"], seen.status, "{what}");
    assert_eq!(line["detail"], detail, "{what}");
    assert!(
        line["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("pg-")),
        "{what}: {line}"
    );
}

pub(super) fn header_of(seen: &Seen, name: header::HeaderName) -> Option<&str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

mod body;
mod routing;

/// The router with bearer credentials required, plus `extra` settings.
pub(super) async fn guarded_app(extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("AUTH_MODE", "bearer"), ("AUTH_CREDENTIAL", CREDENTIAL)];
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}
