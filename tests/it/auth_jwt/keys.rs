//! The keys after start-up: a rotated key is picked up by the first token that names it, at most one read a
//! minute whatever the tokens name, and a JWKS that fails or hangs later costs only the tokens with new keys.

use std::time::{Duration, Instant};

use super::{assert_passed, assert_refused, bearer, call, claims, jwt_app};
use crate::support::{JwksServer, TestKey};

#[tokio::test]
async fn a_rotated_key_is_read_once_and_reads_are_limited_to_one_a_minute() {
    let old = TestKey::ec("es-2024");
    let rotated = TestKey::ec("es-2025");
    let later = TestKey::ec("es-2026");
    let server = JwksServer::start(&[&old]).await;
    let app = jwt_app(&server, &[]).await;
    assert_eq!(server.reads(), 1, "read at start-up");

    // The identity server rotates: the new kid appears after start-up and is read on first sight.
    server.publish(&[&old, &rotated]);
    assert_passed(
        &call(&app, Some(&bearer(&rotated.token(&claims())))).await,
        "rotated",
    );
    assert_eq!(server.reads(), 2);
    assert_passed(
        &call(&app, Some(&bearer(&rotated.token(&claims())))).await,
        "kept",
    );
    assert_passed(
        &call(&app, Some(&bearer(&old.token(&claims())))).await,
        "old key kept",
    );
    assert_eq!(server.reads(), 2, "known keys read nothing");

    // Another rotation within the minute: not read yet, so its tokens are refused as unknown, however many.
    server.publish(&[&rotated, &later]);
    for _ in 0..5 {
        let seen = call(&app, Some(&bearer(&later.token(&claims())))).await;
        assert_refused(&seen, "key_unknown", "within the minute");
    }
    let made_up = later.token_with(
        &serde_json::json!({"alg": "ES256", "kid": "made-up"}),
        &claims(),
    );
    assert_refused(
        &call(&app, Some(&bearer(&made_up))).await,
        "key_unknown",
        "made up",
    );
    assert_eq!(server.reads(), 2, "at most one read again a minute");
    assert_passed(
        &call(&app, Some(&bearer(&old.token(&claims())))).await,
        "the set in use stays",
    );
}

#[tokio::test]
async fn a_jwks_that_fails_later_costs_only_tokens_with_new_keys() {
    let known = TestKey::ec("es-1");
    let unknown = TestKey::ec("es-2");
    let server = JwksServer::start(&[&known]).await;
    let app = jwt_app(&server, &[]).await;
    server.fail(503, "maintenance");
    let seen = call(&app, Some(&bearer(&unknown.token(&claims())))).await;
    assert_refused(&seen, "key_unknown", "the read again failed");
    assert!(
        seen.log
            .contains("signing keys read again for an unknown kid: the read failed"),
        "{}",
        seen.log
    );
    assert!(seen.log.contains("it answered HTTP 503"), "{}", seen.log);
    assert_passed(
        &call(&app, Some(&bearer(&known.token(&claims())))).await,
        "known key",
    );
    assert_eq!(server.reads(), 2);
}

#[tokio::test]
async fn a_hanging_jwks_holds_a_call_about_a_second_at_most() {
    let known = TestKey::ec("es-1");
    let unknown = TestKey::ec("es-2");
    let server = JwksServer::start(&[&known]).await;
    let app = jwt_app(&server, &[]).await;
    server.stall(Duration::from_secs(20), &[&known, &unknown]);
    let started = Instant::now();
    let seen = call(&app, Some(&bearer(&unknown.token(&claims())))).await;
    let waited = started.elapsed();
    assert_refused(&seen, "key_unknown", "the read again timed out");
    assert!(
        seen.log.contains("no answer within 1000 ms"),
        "{}",
        seen.log
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}
