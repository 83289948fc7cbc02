//! Arbitrary bytes as the body of `POST /pre-update-profile`, through the real router with the default local
//! configuration (embedded departments, log outbox, no authentication, no network). Whatever the body, the answer
//! must be one the identity server accepts: see docs/fuzzing.md and the shared action contract.
//!
//! The router is built once and kept warm, like a Lambda instance: the idempotency cache remembers the answers
//! of earlier inputs, so an input may get a replayed answer. Both kinds must be contract-valid.

#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use profile_guard::Config;
use profile_guard::action::is_contract_text;
use tokio::runtime::Runtime;
use tower::ServiceExt;

struct Harness {
    runtime: Runtime,
    app: Router,
}

/// No tracing subscriber is installed: the audit lines and the log outbox stay silent.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let config = Config::from_lookup(|_| None).expect("the default configuration is valid");
        let state = runtime
            .block_on(profile_guard::build(&config))
            .expect("state from the default configuration")
            .state;
        let app = profile_guard::router(Arc::new(state));
        Harness { runtime, app }
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let request = Request::builder()
        .method("POST")
        .uri("/pre-update-profile")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(data.to_vec()))
        .expect("request");
    let (status, content_types, body) = h.runtime.block_on(async {
        let response = h
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status().as_u16();
        let content_types: Vec<Vec<u8>> = response
            .headers()
            .get_all(header::CONTENT_TYPE)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        (status, content_types, body)
    });
    check_contract(status, &content_types, &body);
});

/// What the identity server accepts (shared docs, action-contract.md, "Responses").
fn check_contract(status: u16, content_types: &[Vec<u8>], body: &[u8]) {
    let shown = || String::from_utf8_lossy(body).into_owned();
    assert!(
        matches!(status, 200 | 400 | 401 | 500),
        "HTTP {status} is not an action answer: {}",
        shown()
    );
    assert_eq!(
        content_types,
        [b"application/json".to_vec()],
        "content type must be exactly application/json"
    );
    let json: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("the answer is not JSON ({e}): {}", shown()));
    let object = json
        .as_object()
        .unwrap_or_else(|| panic!("the answer is not a JSON object: {}", shown()));
    let text = |key: &str| -> Option<&str> {
        object.get(key).map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{key} is not a string: {}", shown()))
        })
    };
    let (reason_key, description_key) = match (status, text("actionStatus")) {
        (200, Some("SUCCESS")) => {
            assert_eq!(object.len(), 1, "SUCCESS carries other keys: {}", shown());
            return;
        }
        (200, Some("FAILED")) => ("failureReason", "failureDescription"),
        (400 | 401 | 500, Some("ERROR")) => ("errorMessage", "errorDescription"),
        (status, other) => panic!("actionStatus {other:?} with HTTP {status}: {}", shown()),
    };
    let reason = text(reason_key).unwrap_or_else(|| panic!("no {reason_key}: {}", shown()));
    assert!(
        is_contract_text(reason, 100),
        "{reason_key} outside the contract: {}",
        shown()
    );
    if let Some(description) = text(description_key) {
        assert!(
            is_contract_text(description, 300),
            "{description_key} outside the contract: {}",
            shown()
        );
    }
    for key in object.keys() {
        assert!(
            ["actionStatus", reason_key, description_key].contains(&key.as_str()),
            "undocumented key {key}: {}",
            shown()
        );
    }
}
