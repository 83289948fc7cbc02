//! A loopback JWKS endpoint (a real HTTP server on 127.0.0.1 answering as an identity server's `/oauth2/jwks`
//! does: the key set as JSON, with a cache header) whose keys can be rotated or which can be made to fail; and the
//! keys the JWT tests sign with, made at test time, so no private key is kept in the repository.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair,
};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Where WSO2 Identity Server publishes its keys.
const JWKS_PATH: &str = "/oauth2/jwks";

/// One RSA key for the whole test binary: making one takes a while, and every RSA case can share it.
static RSA: LazyLock<Arc<RsaKeyPair>> =
    LazyLock::new(|| Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key")));

enum Pair {
    Rsa(Arc<RsaKeyPair>),
    Ec(EcdsaKeyPair),
}

/// A signing key as the identity server holds it: its `kid`, the `alg` its JWK names (if any), the key pair.
pub struct TestKey {
    pub kid: String,
    jwk_alg: Option<&'static str>,
    pair: Pair,
}

impl TestKey {
    /// The shared RSA key under `kid`; its JWK names `jwk_alg`, or no algorithm at all.
    pub fn rsa(kid: &str, jwk_alg: Option<&'static str>) -> Self {
        TestKey {
            kid: kid.to_owned(),
            jwk_alg,
            pair: Pair::Rsa(Arc::clone(&RSA)),
        }
    }

    /// A new P-256 key for ES256.
    pub fn ec(kid: &str) -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        TestKey {
            kid: kid.to_owned(),
            jwk_alg: Some("ES256"),
            pair: Pair::Ec(pair),
        }
    }

    /// The public half, as a JWKS member.
    pub fn jwk(&self) -> Value {
        let mut jwk = match &self.pair {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({"kty": "RSA", "e": b64(public.exponent().big_endian_without_leading_zero()),
                       "n": b64(public.modulus().big_endian_without_leading_zero())})
            }
            Pair::Ec(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..])})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        // WSO2 publishes the certificate's thumbprint too: members the check does not read.
        jwk["x5t#S256"] = json!("bm90LWEtcmVhbC10aHVtYnByaW50");
        if let Some(alg) = self.jwk_alg {
            jwk["alg"] = json!(alg);
        }
        jwk
    }

    /// A token the way the identity server makes one: this key's algorithm and kid in the header.
    pub fn token(&self, claims: &Value) -> String {
        let alg = match &self.pair {
            Pair::Rsa(_) => self.jwk_alg.unwrap_or("RS256"),
            Pair::Ec(_) => "ES256",
        };
        self.token_with(
            &json!({"alg": alg, "typ": "at+jwt", "kid": self.kid}),
            claims,
        )
    }

    /// A token with exactly this header, signed as its `alg` says: RS256, PS256 and ES256 with the private key,
    /// HS256 with the public key's bytes as the secret (the algorithm-confusion attack), `none` not at all.
    pub fn token_with(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let message = input.as_bytes();
        let rng = SystemRandom::new();
        let signature = match (header["alg"].as_str(), &self.pair) {
            (Some("none"), _) => Vec::new(),
            (Some("HS256"), _) => {
                let secret = self.jwk().to_string();
                let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
                hmac::sign(&key, message).as_ref().to_vec()
            }
            (Some(alg @ ("RS256" | "PS256")), Pair::Rsa(pair)) => {
                let padding: &'static dyn signature::RsaEncoding = if alg == "RS256" {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                };
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(padding, &rng, message, &mut out)
                    .expect("RSA signs");
                out
            }
            (Some("ES256"), Pair::Ec(pair)) => pair
                .sign(&rng, message)
                .expect("EC signs")
                .as_ref()
                .to_vec(),
            (alg, _) => panic!("this key cannot sign {alg:?}"),
        };
        format!("{input}.{}", b64(signature))
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the endpoint answers with.
#[derive(Clone)]
enum Answer {
    Keys(String),
    Status(u16, &'static str),
    /// Nothing for this long, then the keys: an endpoint that hangs.
    Stall(Duration, String),
}

struct Shared {
    answer: Mutex<Answer>,
    reads: AtomicUsize,
}

pub struct JwksServer {
    /// `http://127.0.0.1:<port>/oauth2/jwks`.
    pub url: String,
    shared: Arc<Shared>,
}

fn key_set(keys: &[&TestKey]) -> String {
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    json!({ "keys": keys }).to_string()
}

impl JwksServer {
    /// Listening on a fresh loopback port, publishing `keys`; it stops with the test's runtime.
    pub async fn start(keys: &[&TestKey]) -> Self {
        let shared = Arc::new(Shared {
            answer: Mutex::new(Answer::Keys(key_set(keys))),
            reads: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route(JWKS_PATH, get(answer))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        JwksServer {
            url: format!("http://{addr}{JWKS_PATH}"),
            shared,
        }
    }

    fn set(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// From now on the set holds exactly `keys` (a rotation).
    pub fn publish(&self, keys: &[&TestKey]) {
        self.set(Answer::Keys(key_set(keys)));
    }

    /// From now on every read gets this status and body.
    pub fn fail(&self, status: u16, body: &'static str) {
        self.set(Answer::Status(status, body));
    }

    /// From now on every read waits this long before the answer.
    pub fn stall(&self, wait: Duration, keys: &[&TestKey]) {
        self.set(Answer::Stall(wait, key_set(keys)));
    }

    /// How many times the keys were read.
    pub fn reads(&self) -> usize {
        self.shared.reads.load(Ordering::SeqCst)
    }
}

async fn answer(State(shared): State<Arc<Shared>>) -> Response {
    shared.reads.fetch_add(1, Ordering::SeqCst);
    let answer = shared.answer.lock().unwrap().clone();
    let keys = |set: String| {
        let headers = [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ];
        (headers, set).into_response()
    };
    match answer {
        Answer::Keys(set) => keys(set),
        Answer::Status(status, body) => {
            (StatusCode::from_u16(status).expect("a status"), body).into_response()
        }
        Answer::Stall(wait, set) => {
            tokio::time::sleep(wait).await;
            keys(set)
        }
    }
}
