//! Start-up in jwt mode: the keys are read once, and a service that could check no token does not start. Each
//! failure is one line naming the variable, the endpoint and what went wrong.

use std::collections::HashMap;

use profile_guard::{Config, build_with};

use super::{CLIENT, ISSUER};
use crate::support::{JwksServer, TestKey, capture, closed_port};

/// Builds the state from exactly these variables: `Ok` or the start-up error's line.
async fn start(jwks_url: &str) -> Result<(), String> {
    let vars: HashMap<&str, &str> = [
        ("AUTH_MODE", "jwt"),
        ("AUTH_JWKS_URL", jwks_url),
        ("AUTH_ISSUER", ISSUER),
        ("AUTH_AUDIENCE", CLIENT),
    ]
    .into();
    let config = Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
        .expect("the configuration is valid");
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials();
    build_with(&config, loader)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_keys_are_read_once_and_named_in_the_log() {
    let (logs, _guard) = capture();
    let server = JwksServer::start(&[&TestKey::ec("es-1"), &TestKey::rsa("rs-1", None)]).await;
    assert_eq!(start(&server.url).await, Ok(()));
    assert_eq!(server.reads(), 1);
    let read = logs
        .lines()
        .into_iter()
        .find(|l| l["message"] == "signing keys read")
        .expect("a start-up line for the keys");
    assert_eq!(read["keys"], 2);
    assert_eq!(read["kids"], "es-1,rs-1");
}

#[tokio::test]
async fn without_usable_keys_start_up_fails_naming_the_variable() {
    let server = JwksServer::start(&[]).await;
    let cases: [(u16, &'static str, &str); 4] = [
        (500, "oops", "could not be read: it answered HTTP 500"),
        (404, "", "could not be read: it answered HTTP 404"),
        (
            200,
            "<html>login</html>",
            "were read, but the answer is not a JWK set",
        ),
        (
            200,
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}]}"#,
            "were read, but the set holds no key that can verify a token",
        ),
    ];
    for (status, body, problem) in cases {
        server.fail(status, body);
        let error = start(&server.url).await.expect_err("start-up fails");
        let expected = format!(
            "AUTH_JWKS_URL: the signing keys at {} {problem}",
            server.url
        );
        assert!(error.starts_with(&expected), "{error}");
        assert!(
            error
                .ends_with("without them no token can be checked, so profile-guard does not start"),
            "{error}"
        );
    }
    let empty = JwksServer::start(&[]).await;
    let error = start(&empty.url).await.expect_err("an empty set");
    assert!(error.contains("the set holds no key"), "{error}");
}

#[tokio::test]
async fn an_unreachable_jwks_stops_start_up() {
    let url = format!("http://127.0.0.1:{}/oauth2/jwks", closed_port());
    let error = start(&url).await.expect_err("start-up fails");
    assert_eq!(
        error,
        format!(
            "AUTH_JWKS_URL: the signing keys at {url} could not be read: unreachable (connection refused, no \
             route, or no such host); without them no token can be checked, so profile-guard does not start"
        )
    );
}
