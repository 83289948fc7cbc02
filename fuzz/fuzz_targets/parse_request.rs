//! Arbitrary bytes through the request parser and the pure steps that follow it: `action::parse_request`, then
//! for a parsed envelope `policy::check_limits`, `policy::update_of` and `idempotency::key_of`; for a rejected
//! one, the answer `policy::answer_parse_error` gives. None of them may panic, and a few documented properties
//! are checked on the way (see docs/fuzzing.md).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use profile_guard::action::{ActionResponse, is_contract_text, parse_request};
use profile_guard::policy::Limits;
use profile_guard::{Config, idempotency, policy};

/// The default limits (`MAX_CLAIMS`, `MAX_VALUE_BYTES`), read once.
fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        Config::from_lookup(|_| None)
            .expect("the default configuration is valid")
            .limits
    })
}

fuzz_target!(|data: &[u8]| {
    let req = match parse_request(data) {
        Ok(req) => req,
        Err(e) => {
            let _ = (e.kind(), e.position(), e.to_string());
            check_answer(&policy::answer_parse_error(&e));
            return;
        }
    };

    if let Some(answer) = policy::check_limits(&req, limits()) {
        check_answer(&answer);
    }

    match policy::update_of(&req) {
        None => assert!(
            req.event.request.is_none(),
            "update_of found nothing to do in a request that writes claims"
        ),
        Some(update) => {
            let written = &req
                .event
                .request
                .as_ref()
                .expect("update without event.request")
                .claims;
            assert_eq!(update.written.len(), written.len());
            assert!(update.changes.len() <= update.written.len());
            for change in &update.changes {
                assert!(
                    written
                        .iter()
                        .any(|c| c.uri == change.uri && &c.value == change.new),
                    "a change that is not one of the written claims"
                );
            }
            for department in &update.departments {
                assert!(
                    !department.is_empty(),
                    "an empty department goes to the directory"
                );
            }
        }
    }

    let key = idempotency::key_of(&req);
    assert!(key.record_id().len() == 68);
    assert_eq!(
        key,
        idempotency::key_of(&req),
        "key_of is not deterministic"
    );
    // Without a requestId the key stands for the change itself: the server's claim order does not matter.
    if req.request_id.as_deref().is_none_or(str::is_empty)
        && let Some(request) = &req.event.request
        && request.claims.len() > 1
    {
        let mut reordered = req.clone();
        if let Some(r) = reordered.event.request.as_mut() {
            r.claims.reverse();
        }
        assert_eq!(
            key,
            idempotency::key_of(&reordered),
            "key_of depends on the claim order"
        );
    }
});

/// The shape rules of an answer, as in the router target (status and text rules of the contract).
fn check_answer(answer: &ActionResponse) {
    let status = answer.http_status();
    match answer {
        ActionResponse::Success => assert_eq!(status, 200),
        ActionResponse::Failed {
            failure_reason,
            failure_description,
        } => {
            assert_eq!(status, 200);
            assert!(is_contract_text(failure_reason.as_str(), 100));
            assert!(is_contract_text(failure_description.as_str(), 300));
        }
        ActionResponse::Error {
            error_message,
            error_description,
            ..
        } => {
            assert!(
                matches!(status, 400 | 401 | 500),
                "ERROR with HTTP {status}"
            );
            assert!(is_contract_text(error_message.as_str(), 100));
            assert!(is_contract_text(error_description.as_str(), 300));
        }
    }
    let body: serde_json::Value =
        serde_json::from_slice(&answer.to_json()).expect("answer is JSON");
    assert_eq!(body["actionStatus"], answer.status_name());
}
