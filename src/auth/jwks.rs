//! The identity server's signing keys (its JWKS): which of them can verify a token is decided once, when the set
//! is read; the set is read at start-up, kept, and read again when a token names a key not in it, at most once
//! per interval and in bounded time. The fetch itself is behind `JwksSource`, so the decisions are tested without
//! a network.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

use super::token::{SigningAlg, TokenProblem};

/// The smallest RSA modulus accepted, in bytes (2048 bits, as RFC 7518 requires for RS256 and PS256).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A key usable for verification: its `kid`, the algorithms it may verify, the key itself.
pub struct VerifyKey {
    kid: Option<String>,
    algs: &'static [SigningAlg],
    key: DecodingKey,
}

impl VerifyKey {
    pub fn decoding(&self) -> &DecodingKey {
        &self.key
    }
}

/// The usable keys of one JWKS document.
pub struct KeySet {
    keys: Vec<VerifyKey>,
}

/// Why a JWKS document gave no key set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwksProblem {
    #[error("the answer is not a JWK set (a JSON object with a \"keys\" array)")]
    NotAKeySet,
    #[error(
        "the set holds no key that can verify a token (RSA keys for RS256 or PS256, P-256 EC keys for ES256)"
    )]
    NoUsableKey,
}

/// One member of `keys`, as published; members this check does not read (`x5c`, `x5t`, …) are ignored.
#[derive(Deserialize)]
struct WireKey {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct WireSet {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// The usable keys of a JWKS document. A member that is not a usable signing key (an encryption key, an HMAC
    /// secret, another curve, a short RSA key, a malformed one) is left out rather than spoiling the set.
    pub fn parse(body: &[u8]) -> Result<Self, JwksProblem> {
        let wire: WireSet = serde_json::from_slice(body).map_err(|_| JwksProblem::NotAKeySet)?;
        let keys: Vec<VerifyKey> = wire
            .keys
            .into_iter()
            .filter_map(|member| serde_json::from_value::<WireKey>(member).ok())
            .filter_map(usable)
            .collect();
        if keys.is_empty() {
            return Err(JwksProblem::NoUsableKey);
        }
        Ok(KeySet { keys })
    }

    pub fn count(&self) -> usize {
        self.keys.len()
    }

    /// The `kid`s, for the start-up line (they are public).
    pub fn kids(&self) -> String {
        let kids: Vec<&str> = self.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        kids.join(",")
    }

    /// The key for a token's header. With a `kid`, that key, which must be for the header's algorithm. Without
    /// one, the only key for that algorithm (with several, guessing is not verifying).
    pub fn select(&self, kid: Option<&str>, alg: SigningAlg) -> Result<&VerifyKey, TokenProblem> {
        let Some(kid) = kid else {
            let mut for_alg = self.keys.iter().filter(|k| k.algs.contains(&alg));
            return match (for_alg.next(), for_alg.next()) {
                (Some(key), None) => Ok(key),
                _ => Err(TokenProblem::KeyUnknown),
            };
        };
        let mut named = self
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .peekable();
        if named.peek().is_none() {
            return Err(TokenProblem::KeyUnknown);
        }
        named
            .find(|k| k.algs.contains(&alg))
            .ok_or(TokenProblem::AlgorithmMismatch)
    }
}

/// A published key as a verification key, when it is one this check can use. Its algorithms are its `alg`, or,
/// without one, what its type allows among the accepted algorithms.
fn usable(wire: WireKey) -> Option<VerifyKey> {
    if wire.usage.as_deref().is_some_and(|usage| usage != "sig") {
        return None;
    }
    let (algs, key): (&'static [SigningAlg], DecodingKey) = match wire.kty.as_str() {
        "RSA" => {
            let algs: &'static [SigningAlg] = match wire.alg.as_deref() {
                None => &[SigningAlg::Rs256, SigningAlg::Ps256],
                Some("RS256") => &[SigningAlg::Rs256],
                Some("PS256") => &[SigningAlg::Ps256],
                Some(_) => return None,
            };
            let (n, e) = (wire.n?, wire.e?);
            let modulus = URL_SAFE_NO_PAD.decode(&n).ok()?;
            let significant = modulus.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return None;
            }
            (algs, DecodingKey::from_rsa_components(&n, &e).ok()?)
        }
        "EC" => {
            if wire.crv.as_deref() != Some("P-256")
                || !matches!(wire.alg.as_deref(), None | Some("ES256"))
            {
                return None;
            }
            let (x, y) = (wire.x?, wire.y?);
            let coordinate = |c: &str| URL_SAFE_NO_PAD.decode(c).ok().filter(|b| b.len() == 32);
            coordinate(&x)?;
            coordinate(&y)?;
            (
                &[SigningAlg::Es256],
                DecodingKey::from_ec_components(&x, &y).ok()?,
            )
        }
        _ => return None,
    };
    Some(VerifyKey {
        kid: wire.kid,
        algs,
        key,
    })
}

/// Why a read of the JWKS brought no document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailure {
    #[error("no answer within {0} ms")]
    Timeout(u128),
    #[error("unreachable (connection refused, no route, or no such host)")]
    Unreachable,
    #[error("the TLS handshake failed (certificate or protocol)")]
    Tls,
    #[error("the exchange broke off, or the answer was not HTTP")]
    Broken,
    #[error("it answered HTTP {0}")]
    Status(u16),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// Where the key set comes from: the identity server's JWKS endpoint, or a stand-in in tests.
#[async_trait]
pub trait JwksSource: Send + Sync {
    /// The JWKS document, read within `timeout`.
    async fn fetch(&self, timeout: Duration) -> Result<Vec<u8>, FetchFailure>;
}

/// How often and how long the keys are read again for a token with an unknown `kid`.
#[derive(Debug, Clone, Copy)]
pub struct RefetchPolicy {
    /// At most one read per interval, whatever the tokens name: a stream of made-up `kid`s cannot make the
    /// service hammer the identity server.
    pub min_interval: Duration,
    /// The read happens while a call waits: well under the identity server's own timeout.
    pub timeout: Duration,
}

/// Why a read of the keys gave no usable set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadFailure {
    #[error("could not be read: {0}")]
    Fetch(#[from] FetchFailure),
    #[error("were read, but {0}")]
    Document(#[from] JwksProblem),
}

/// One read of the key set, fetched and parsed.
pub async fn read(source: &dyn JwksSource, timeout: Duration) -> Result<KeySet, ReadFailure> {
    let body = source.fetch(timeout).await?;
    Ok(KeySet::parse(&body)?)
}

/// The key set in use, and the one read-again that an unknown `kid` may cause.
pub struct Keys {
    source: Box<dyn JwksSource>,
    current: RwLock<Arc<KeySet>>,
    /// When the last read-again started; `None` until the first. Held while a read-again runs, so concurrent
    /// calls with unknown `kid`s wait for that one instead of each starting their own.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
    policy: RefetchPolicy,
}

impl Keys {
    /// Keys that start from `first` (the start-up read). That read does not count against the interval: a key
    /// rotated just after start-up is picked up by the first token that names it.
    pub fn new(source: Box<dyn JwksSource>, first: KeySet, policy: RefetchPolicy) -> Self {
        Keys {
            source,
            current: RwLock::new(Arc::new(first)),
            last_refetch: tokio::sync::Mutex::new(None),
            policy,
        }
    }

    /// The set in use. Its writer only swaps an `Arc`, so a poisoned lock still holds a whole set.
    pub fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// A newer set than `seen`, read again for a token whose `kid` is not in it: the one another call read while
    /// this one waited, or a fresh read when the interval allows one. `None` when there is none (too soon, or
    /// the read failed: the set in use stays, so tokens with known keys keep working).
    pub async fn refetch(&self, seen: &Arc<KeySet>) -> Option<Arc<KeySet>> {
        let mut last = self.last_refetch.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current, seen) {
            return Some(current);
        }
        if last.is_some_and(|at| at.elapsed() < self.policy.min_interval) {
            return None;
        }
        *last = Some(Instant::now());
        match read(self.source.as_ref(), self.policy.timeout).await {
            Ok(set) => {
                tracing::info!(keys = set.count(), kids = %set.kids(), "signing keys read again for an unknown kid");
                let set = Arc::new(set);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&set);
                Some(set)
            }
            Err(failure) => {
                tracing::warn!(
                    problem = %failure,
                    "signing keys read again for an unknown kid: the read failed, the keys read before stay in use"
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
