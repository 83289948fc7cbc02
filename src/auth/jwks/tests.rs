use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;

/// Key material of the right shape; nothing here verifies a signature with it.
fn rsa(kid: &str, alg: Option<&str>) -> Value {
    let mut key = json!({"kty": "RSA", "kid": kid, "use": "sig", "e": "AQAB",
                         "n": URL_SAFE_NO_PAD.encode([0xC5u8; 256])});
    if let Some(alg) = alg {
        key["alg"] = json!(alg);
    }
    key
}

fn ec(kid: &str) -> Value {
    json!({"kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256",
           "x": URL_SAFE_NO_PAD.encode([1u8; 32]), "y": URL_SAFE_NO_PAD.encode([2u8; 32])})
}

fn set(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

#[test]
fn only_usable_signing_keys_are_kept() {
    let mut encryption = rsa("enc", None);
    encryption["use"] = json!("enc");
    let mut short = rsa("short", None);
    short["n"] = json!(URL_SAFE_NO_PAD.encode([0xC5u8; 128]));
    let mut padded_short = rsa("padded", None);
    padded_short["n"] = json!(URL_SAFE_NO_PAD.encode([[0u8; 200], [0xC5u8; 200]].concat()));
    let mut p384 = ec("p384");
    p384["crv"] = json!("P-384");
    let mut bad_point = ec("bad-point");
    bad_point["x"] = json!("not base64!");
    let mut numeric_kid = ec("x");
    numeric_kid["kid"] = json!(7);
    let body = set(&[
        rsa("rs", Some("RS256")),
        rsa("any-rsa", None),
        ec("es"),
        encryption,
        short,
        padded_short,
        p384,
        bad_point,
        numeric_kid,
        rsa("rs512", Some("RS512")),
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"}),
        json!({"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AAAA"}),
        json!({"kty": "RSA", "kid": "no-modulus", "e": "AQAB"}),
        json!("not a key"),
    ]);
    let keys = KeySet::parse(&body).unwrap();
    assert_eq!(keys.count(), 3);
    assert_eq!(keys.kids(), "rs,any-rsa,es");
}

#[test]
fn a_document_without_usable_keys_is_refused() {
    let refused: &[(&[u8], JwksProblem)] = &[
        (b"<html>", JwksProblem::NotAKeySet),
        (b"{}", JwksProblem::NotAKeySet),
        (br#"{"keys": {}}"#, JwksProblem::NotAKeySet),
        (br#"{"keys": []}"#, JwksProblem::NoUsableKey),
        (
            br#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
            JwksProblem::NoUsableKey,
        ),
    ];
    for (body, problem) in refused {
        assert_eq!(
            KeySet::parse(body).err(),
            Some(*problem),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn the_key_is_chosen_by_kid_and_must_suit_the_algorithm() {
    let keys = KeySet::parse(&set(&[
        rsa("rs", Some("RS256")),
        rsa("any", None),
        ec("es"),
    ]))
    .unwrap();
    let kid_of = |k: Result<&VerifyKey, TokenProblem>| k.map(|k| k.kid.clone().unwrap_or_default());
    assert_eq!(
        kid_of(keys.select(Some("rs"), SigningAlg::Rs256)),
        Ok("rs".into())
    );
    assert_eq!(
        kid_of(keys.select(Some("rs"), SigningAlg::Ps256)),
        Err(TokenProblem::AlgorithmMismatch)
    );
    assert_eq!(
        kid_of(keys.select(Some("any"), SigningAlg::Ps256)),
        Ok("any".into())
    );
    assert_eq!(
        kid_of(keys.select(Some("es"), SigningAlg::Rs256)),
        Err(TokenProblem::AlgorithmMismatch)
    );
    assert_eq!(
        kid_of(keys.select(Some("new"), SigningAlg::Es256)),
        Err(TokenProblem::KeyUnknown)
    );
    // Without a kid: the one key for the algorithm, or none when that would be a guess.
    assert_eq!(
        kid_of(keys.select(None, SigningAlg::Es256)),
        Ok("es".into())
    );
    assert_eq!(
        kid_of(keys.select(None, SigningAlg::Ps256)),
        Ok("any".into())
    );
    assert_eq!(
        kid_of(keys.select(None, SigningAlg::Rs256)),
        Err(TokenProblem::KeyUnknown)
    );
    // One kid on two keys of different types: the one for the algorithm.
    let shared = KeySet::parse(&set(&[rsa("k", Some("RS256")), ec("k")])).unwrap();
    assert!(shared.select(Some("k"), SigningAlg::Es256).is_ok());
    assert!(shared.select(Some("k"), SigningAlg::Rs256).is_ok());
}

/// Answers from a list, and counts the reads.
#[derive(Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<Vec<u8>, FetchFailure>>>,
    reads: AtomicUsize,
    delay: Duration,
}

#[async_trait]
impl JwksSource for Arc<Scripted> {
    async fn fetch(&self, _timeout: Duration) -> Result<Vec<u8>, FetchFailure> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or(Err(FetchFailure::Unreachable))
    }
}

fn scripted(answers: Vec<Result<Vec<u8>, FetchFailure>>, delay: Duration) -> Arc<Scripted> {
    Arc::new(Scripted {
        answers: Mutex::new(answers.into()),
        reads: AtomicUsize::new(0),
        delay,
    })
}

const QUICK: RefetchPolicy = RefetchPolicy {
    min_interval: Duration::from_millis(300),
    timeout: Duration::from_secs(1),
};

#[tokio::test]
async fn a_read_again_happens_at_most_once_per_interval() {
    let source = scripted(
        vec![Ok(set(&[ec("k1"), ec("k2")])), Ok(set(&[ec("k3")]))],
        Duration::ZERO,
    );
    let keys = Keys::new(
        Box::new(Arc::clone(&source)),
        KeySet::parse(&set(&[ec("k1")])).unwrap(),
        QUICK,
    );
    let first = keys.current();
    // The start-up read does not count: the first unknown kid is read again at once.
    let second = keys.refetch(&first).await.expect("read again");
    assert_eq!(second.kids(), "k1,k2");
    assert!(Arc::ptr_eq(&keys.current(), &second));
    assert!(keys.refetch(&second).await.is_none(), "too soon");
    assert_eq!(source.reads.load(Ordering::SeqCst), 1);
    tokio::time::sleep(QUICK.min_interval + Duration::from_millis(50)).await;
    let third = keys.refetch(&second).await.expect("allowed again");
    assert_eq!(third.kids(), "k3");
    assert_eq!(source.reads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_read_keeps_the_keys_and_counts_against_the_interval() {
    let source = scripted(
        vec![
            Err(FetchFailure::Status(503)),
            Ok(b"{\"keys\": []}".to_vec()),
        ],
        Duration::ZERO,
    );
    let keys = Keys::new(
        Box::new(Arc::clone(&source)),
        KeySet::parse(&set(&[ec("k1")])).unwrap(),
        QUICK,
    );
    let first = keys.current();
    assert!(keys.refetch(&first).await.is_none());
    assert!(keys.refetch(&first).await.is_none());
    assert_eq!(
        source.reads.load(Ordering::SeqCst),
        1,
        "no second read within the interval"
    );
    tokio::time::sleep(QUICK.min_interval + Duration::from_millis(50)).await;
    assert!(
        keys.refetch(&first).await.is_none(),
        "an empty set replaces nothing"
    );
    assert_eq!(source.reads.load(Ordering::SeqCst), 2);
    assert!(Arc::ptr_eq(&keys.current(), &first));
}

#[tokio::test]
async fn calls_waiting_on_one_read_again_share_it() {
    let source = scripted(vec![Ok(set(&[ec("k2")]))], Duration::from_millis(100));
    let keys = Keys::new(
        Box::new(Arc::clone(&source)),
        KeySet::parse(&set(&[ec("k1")])).unwrap(),
        QUICK,
    );
    let seen = keys.current();
    let (a, b, c) = tokio::join!(
        keys.refetch(&seen),
        keys.refetch(&seen),
        keys.refetch(&seen)
    );
    assert_eq!(source.reads.load(Ordering::SeqCst), 1);
    for got in [a, b, c] {
        assert_eq!(got.expect("the read shared").kids(), "k2");
    }
}

#[tokio::test]
async fn one_read_fetches_and_parses() {
    let ok = scripted(vec![Ok(set(&[ec("k1")]))], Duration::ZERO);
    assert_eq!(read(&ok, QUICK.timeout).await.unwrap().kids(), "k1");
    let down = scripted(vec![Err(FetchFailure::Status(404))], Duration::ZERO);
    assert_eq!(
        read(&down, QUICK.timeout)
            .await
            .err()
            .map(|e| e.to_string()),
        Some("could not be read: it answered HTTP 404".into())
    );
    let html = scripted(vec![Ok(b"<html>".to_vec())], Duration::ZERO);
    assert_eq!(
        read(&html, QUICK.timeout).await.err(),
        Some(ReadFailure::Document(JwksProblem::NotAKeySet))
    );
}
