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

const CREDENTIAL: &str = "tok-5e4d3c2b";
const MINIMAL: &str = r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#;

/// The fields of the audit line of a refusal made with one of the contract's answers.
const ANSWER_FIELDS: &[&str] = &[
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
const ROUTING_FIELDS: &[&str] = &[
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

fn error(message: &str, description: &str) -> Value {
    json!({"actionStatus": "ERROR", "errorMessage": message, "errorDescription": description})
}

/// What the caller got and what the operator read.
struct Seen {
    status: u16,
    headers: HeaderMap,
    body: Value,
    audits: Vec<Value>,
}

async fn send(app: &TestApp, request: Request<Body>) -> Seen {
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

fn post(content_type: Option<&str>, body: Body) -> Request<Body> {
    let mut request = Request::post("/pre-update-profile");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body).unwrap()
}

/// A body that sends `first`, then fails as a broken connection would.
fn broken_body(first: &'static [u8]) -> Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(first)),
        Err(std::io::Error::other("connection reset")),
    ];
    Body::from_stream(futures_util::stream::iter(chunks))
}

/// Asserts the one audit line: its fields, decision, reason, status and detail.
fn assert_audit(seen: &Seen, fields: &[&str], reason: &str, detail: &str, what: &str) {
    assert_eq!(seen.audits.len(), 1, "{what}: {:#?}", seen.audits);
    let line = &seen.audits[0];
    let keys: BTreeSet<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, fields.iter().copied().collect(), "{what}: {line}");
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

fn header_of(seen: &Seen, name: header::HeaderName) -> Option<&str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_refusal_keeps_its_answer_headers_and_audit_line() {
    let app = TestApp::new(&[
        ("AUTH_MODE", "bearer"),
        ("AUTH_CREDENTIAL", CREDENTIAL),
        ("MAX_BODY_BYTES", "2048"),
    ])
    .await;
    let bearer = format!("Bearer {CREDENTIAL}");
    let signed = |mut request: Request<Body>| {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, bearer.parse().unwrap());
        request
    };
    let unauthorized = error(
        "unauthorized",
        "Missing or invalid credentials for the profile-guard endpoint.",
    );
    let too_large = error(
        "invalid_request",
        "The request body is larger than the configured limit.",
    );
    let unreadable = error("invalid_request", "The request body could not be read.");

    let seen = send(&app, post(Some("application/json"), Body::from(MINIMAL))).await;
    assert_eq!((seen.status, &seen.body), (401, &unauthorized));
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "no credentials",
    );

    let mut wrong = post(Some("application/json"), Body::from(MINIMAL));
    wrong
        .headers_mut()
        .insert(header::AUTHORIZATION, "Bearer tok-0".parse().unwrap());
    let seen = send(&app, wrong).await;
    assert_eq!((seen.status, &seen.body), (401, &unauthorized));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_wrong",
        "wrong credentials",
    );

    let seen = send(&app, signed(post(Some("text/plain"), Body::from(MINIMAL)))).await;
    assert_eq!(seen.status, 400);
    assert_eq!(
        seen.body,
        error(
            "invalid_request",
            "The request content type must be application json."
        )
    );
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "content type is not JSON",
        "text/plain",
    );

    let mut declared = signed(post(Some("application/json"), Body::from(MINIMAL)));
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, "4096".parse().unwrap());
    let seen = send(&app, declared).await;
    assert_eq!((seen.status, &seen.body), (400, &too_large));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "declared",
    );

    let big = Body::from(vec![b' '; 4096]);
    let seen = send(&app, signed(post(Some("application/json"), big))).await;
    assert_eq!((seen.status, &seen.body), (400, &too_large));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "too big",
    );

    let broken = broken_body(b"{\"actionType\"");
    let seen = send(&app, signed(post(Some("application/json"), broken))).await;
    assert_eq!((seen.status, &seen.body), (400, &unreadable));
    assert_eq!(header_of(&seen, header::CONNECTION), Some("close"));
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "invalid_request",
        "body limit 2048 bytes",
        "broken",
    );

    let seen = send(&app, signed(post(None, Body::from(MINIMAL)))).await;
    assert_eq!(
        (seen.status, &seen.body),
        (200, &success()),
        "no content type"
    );
}

#[tokio::test]
async fn routing_refusals_keep_their_answer_headers_and_audit_line() {
    let app = TestApp::new(&[("AUTH_MODE", "bearer"), ("AUTH_CREDENTIAL", CREDENTIAL)]).await;
    let request = |method: Method, uri: &str| Request::builder().method(method).uri(uri);

    let seen = send(
        &app,
        request(Method::POST, "/elsewhere")
            .body(Body::from(MINIMAL))
            .unwrap(),
    )
    .await;
    assert_eq!(seen.status, 404);
    assert_eq!(
        seen.body,
        error(
            "not_found",
            "No action endpoint here. Send POST requests to the pre-update-profile path."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(header_of(&seen, header::ALLOW), None);
    assert_audit(
        &seen,
        ROUTING_FIELDS,
        "not_found",
        "no action endpoint at this path",
        "404",
    );

    // Unauthenticated: the method is refused before any credential is asked for.
    let seen = send(
        &app,
        request(Method::GET, "/pre-update-profile")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(seen.status, 405);
    assert_eq!(
        seen.body,
        error(
            "method_not_allowed",
            "The action endpoint accepts POST only."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(header_of(&seen, header::ALLOW), Some("POST"));
    assert_audit(
        &seen,
        ROUTING_FIELDS,
        "method_not_allowed",
        "the method is not POST",
        "405",
    );
}

/// A request on the staged path, as API Gateway's REST API (payload 1.0) delivers it through `stage`, if any.
fn staged(stage: Option<&str>, authorization: Option<&str>) -> Request<Body> {
    let mut request = post(Some("application/json"), Body::from(tutorial()));
    *request.uri_mut() = "/prod/pre-update-profile".parse().unwrap();
    if let Some(stage) = stage {
        let mut context = ApiGatewayProxyRequestContext::default();
        context.stage = Some(stage.to_owned());
        request
            .extensions_mut()
            .insert(RequestContext::ApiGatewayV1(context));
    }
    if let Some(value) = authorization {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, value.parse().unwrap());
    }
    request
}

#[tokio::test]
async fn the_stage_is_checked_before_the_credentials() {
    let app = TestApp::new(&[("AUTH_MODE", "bearer"), ("AUTH_CREDENTIAL", CREDENTIAL)]).await;
    let bearer = format!("Bearer {CREDENTIAL}");

    // Not through that stage: no endpoint there, whatever the credentials.
    for authorization in [None, Some(bearer.as_str())] {
        let seen = send(&app, staged(None, authorization)).await;
        assert_eq!(seen.status, 404, "{authorization:?}");
        assert_audit(
            &seen,
            ROUTING_FIELDS,
            "not_found",
            "no action endpoint at this path",
            "no stage",
        );
        let seen = send(&app, staged(Some("test"), authorization)).await;
        assert_eq!(seen.status, 404, "another stage, {authorization:?}");
    }

    let seen = send(&app, staged(Some("prod"), None)).await;
    assert_eq!(seen.status, 401);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "staged",
    );

    let seen = send(&app, staged(Some("prod"), Some(&bearer))).await;
    assert_eq!((seen.status, &seen.body), (200, &success()));
}

#[tokio::test]
async fn a_refused_caller_is_answered_at_once_and_its_body_never_read() {
    let app = TestApp::new(&[
        ("AUTH_MODE", "bearer"),
        ("AUTH_CREDENTIAL", CREDENTIAL),
        ("DEADLINE_MS", "2000"),
    ])
    .await;
    // A body that never ends: were it read, the answer would wait for the deadline.
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let endless = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
    });
    tx.send(Bytes::from_static(b"{\"actionType\""))
        .await
        .unwrap();
    let started = Instant::now();
    let seen = timeout(
        Duration::from_secs(1),
        send(
            &app,
            post(Some("application/json"), Body::from_stream(endless)),
        ),
    )
    .await
    .expect("answered before the deadline");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(seen.status, 401);
    assert_eq!(header_of(&seen, header::CONNECTION), None);
    assert_audit(
        &seen,
        ANSWER_FIELDS,
        "unauthorized",
        "credentials_missing",
        "endless",
    );
    drop(tx);
}

#[tokio::test]
async fn a_panic_keeps_its_answer_and_its_error_line() {
    let app = TestApp::with(&[], |state| state.pipeline.directory = Arc::new(Exploding)).await;
    let seen = send(&app, post(Some("application/json"), Body::from(tutorial()))).await;
    assert_eq!(seen.status, 500);
    assert_eq!(
        seen.body,
        error(
            "server_error",
            "profile-guard failed while checking the update."
        )
    );
    assert_eq!(
        header_of(&seen, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert_eq!(seen.audits.len(), 1, "{:#?}", seen.audits);
    let line = &seen.audits[0];
    let keys: BTreeSet<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "decision",
        "level",
        "message",
        "reason",
        "target",
        "timestamp",
    ]
    .into();
    assert_eq!(keys, expected, "{line}");
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["message"], "a request panicked");
    assert_eq!(line["decision"], "ERROR");
    assert_eq!(line["reason"], "server_error");
}
