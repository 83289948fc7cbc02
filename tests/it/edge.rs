//! The edges of the router: whatever the request line (a path that decodes to invalid UTF-8, an unknown path, a
//! query string, a method other than POST), the answer is JSON and the refusal has its audit line.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::{TestApp, capture, success};

/// A minimal action body sent with `method` to `uri`.
fn odd_request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#,
        ))
        .unwrap()
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
        let answer = app.request(odd_request(method, uri)).await;
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
