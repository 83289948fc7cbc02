use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::http::{HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::*;

/// A P-256 key made for the test, its JWK, and tokens signed with it.
struct TestKey {
    kid: &'static str,
    pair: EcdsaKeyPair,
}

impl TestKey {
    fn new(kid: &'static str) -> Self {
        TestKey {
            kid,
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig",
               "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])})
    }

    /// `header.payload.signature`, the payload given as raw bytes so a broken one can be signed too.
    fn sign_raw(&self, header: &Value, payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "at+jwt", "kid": self.kid});
        self.sign_raw(&header, claims.to_string().as_bytes())
    }
}

const NOW: i64 = 1_750_000_000;

fn claims() -> Value {
    json!({"iss": "https://is.example.com/oauth2/token", "aud": ["client-7"], "exp": NOW + 600,
           "nbf": NOW - 5, "scope": "profile-guard:call", "client_id": "client-7", "sub": "client-7"})
}

fn rules() -> ClaimRules {
    ClaimRules {
        issuer: "https://is.example.com/oauth2/token".into(),
        audience: "client-7".into(),
        scope: Some("profile-guard:call".into()),
    }
}

/// The key sets to hand out, in order, counting the reads.
struct Published {
    sets: Mutex<Vec<Vec<u8>>>,
    reads: Arc<AtomicUsize>,
}

#[async_trait]
impl JwksSource for Published {
    async fn fetch(&self, _timeout: Duration) -> Result<Vec<u8>, FetchFailure> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let mut sets = self.sets.lock().unwrap();
        match sets.len() {
            0 => Err(FetchFailure::Unreachable),
            1 => Ok(sets[0].clone()),
            _ => Ok(sets.remove(0)),
        }
    }
}

fn jwks(keys: &[&TestKey]) -> Vec<u8> {
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    json!({ "keys": keys }).to_string().into_bytes()
}

async fn authenticator(sets: Vec<Vec<u8>>) -> (JwtAuthenticator, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let source = Published {
        sets: Mutex::new(sets),
        reads: Arc::clone(&reads),
    };
    let auth = JwtAuthenticator::with_source(Box::new(source), rules(), REFETCH)
        .await
        .expect("keys read");
    (auth, reads)
}

#[tokio::test]
async fn a_token_signed_with_a_published_key_passes() {
    let key = TestKey::new("k1");
    let (auth, reads) = authenticator(vec![jwks(&[&key])]).await;
    assert_eq!(auth.verify(&key.sign(&claims()), NOW).await, Ok(()));
    let mut expired = claims();
    expired["exp"] = json!(NOW - 61);
    assert_eq!(
        auth.verify(&key.sign(&expired), NOW).await,
        Err(TokenProblem::Expired)
    );
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn signatures_keys_and_algorithms_are_checked() {
    let key = TestKey::new("k1");
    let impostor = TestKey::new("k1");
    let (auth, _) = authenticator(vec![jwks(&[&key])]).await;
    let good = key.sign(&claims());
    let (signed, _) = good.rsplit_once('.').unwrap();
    let forged_payload = URL_SAFE_NO_PAD.encode(json!({"iss": "x"}).to_string());
    let (header, _) = signed.split_once('.').unwrap();
    let signature = good.rsplit('.').next().unwrap();
    let tampered = format!("{header}.{forged_payload}.{signature}");
    let cases = [
        (impostor.sign(&claims()), TokenProblem::SignatureInvalid),
        (tampered, TokenProblem::SignatureInvalid),
        (format!("{signed}.AAAA"), TokenProblem::SignatureInvalid),
        (format!("{signed}.!!"), TokenProblem::NotAJwt),
        (
            key.sign_raw(&json!({"alg": "RS256", "kid": "k1"}), b"{}"),
            TokenProblem::AlgorithmMismatch,
        ),
        (
            key.sign_raw(&json!({"alg": "ES256", "kid": "k1"}), b"not json"),
            TokenProblem::ClaimsUnreadable,
        ),
        (
            key.sign_raw(&json!({"alg": "HS256", "kid": "k1"}), b"{}"),
            TokenProblem::AlgorithmRefused,
        ),
    ];
    for (token, problem) in cases {
        assert_eq!(auth.verify(&token, NOW).await, Err(problem), "{token:.50}");
    }
    // Without a kid, the only key there is.
    let no_kid = key.sign_raw(&json!({"alg": "ES256"}), claims().to_string().as_bytes());
    assert_eq!(auth.verify(&no_kid, NOW).await, Ok(()));
}

#[tokio::test]
async fn a_new_kid_reads_the_keys_again_once() {
    let old = TestKey::new("k1");
    let rotated = TestKey::new("k2");
    let later = TestKey::new("k3");
    let (auth, reads) = authenticator(vec![jwks(&[&old]), jwks(&[&old, &rotated])]).await;
    assert_eq!(auth.verify(&rotated.sign(&claims()), NOW).await, Ok(()));
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    // Within the minute an unknown kid reads nothing: refused as unknown.
    assert_eq!(
        auth.verify(&later.sign(&claims()), NOW).await,
        Err(TokenProblem::KeyUnknown)
    );
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    assert_eq!(auth.verify(&old.sign(&claims()), NOW).await, Ok(()));
}

#[tokio::test]
async fn the_header_decides_what_the_check_refuses() {
    let key = TestKey::new("k1");
    let (auth, _) = authenticator(vec![jwks(&[&key])]).await;
    let mut headers = HeaderMap::new();
    assert_eq!(auth.check(&headers).await, Err(AuthFailure::Missing));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Basic d3NvMjpwdw=="),
    );
    assert_eq!(auth.check(&headers).await, Err(AuthFailure::Malformed));
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer tok-9f8e7d6c"),
    );
    let opaque = auth.check(&headers).await;
    assert_eq!(opaque, Err(AuthFailure::Token(TokenProblem::NotAJwt)));
    assert_eq!(opaque.unwrap_err().as_str(), "credentials_wrong");
}

#[tokio::test]
async fn start_up_needs_a_usable_key_set() {
    let failed = JwtAuthenticator::with_source(
        Box::new(Published {
            sets: Mutex::new(vec![]),
            reads: Arc::default(),
        }),
        rules(),
        REFETCH,
    )
    .await;
    assert_eq!(
        failed.err().map(|e| e.to_string()),
        Some(
            "could not be read: unreachable (connection refused, no route, or no such host)".into()
        )
    );
    let settings = JwtSettings {
        jwks_url: JwksUrl::parse("http://127.0.0.1:9/oauth2/jwks?tenant=secret-7#x").unwrap(),
        issuer: "i".into(),
        audience: "a".into(),
        required_scope: None,
    };
    let error = JwtAuthenticator::start(&settings)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with(
            "AUTH_JWKS_URL: the signing keys at http://127.0.0.1:9/oauth2/jwks could not be read: "
        ),
        "{error}"
    );
    assert!(!error.contains("secret-7"), "{error}");
}

#[test]
fn the_settings_are_parsed_at_start_up() {
    for good in [
        "https://is.example.com/oauth2/jwks",
        "https://api.asgardeo.io/t/acme/oauth2/jwks",
        "http://localhost:9443/oauth2/jwks",
    ] {
        assert!(JwksUrl::parse(good).is_ok(), "{good}");
    }
    for bad in [
        "http://is.example.com/oauth2/jwks",
        "is.example.com/oauth2/jwks",
        "https://user:pw@is.example.com/oauth2/jwks",
        "mailto:keys@example.com",
    ] {
        assert!(JwksUrl::parse(bad).is_err(), "{bad}");
    }
    assert!(RequiredScope::parse("profile-guard:call").is_ok());
    assert!(RequiredScope::parse("internal_user_mgt_view").is_ok());
    for bad in ["two scopes", "quote\"", "back\\slash", "", "tab\t"] {
        assert!(RequiredScope::parse(bad).is_err(), "{bad:?}");
    }
}
