//! `AUTH_MODE=jwt`: the caller sends an OAuth2 access token, a JWT its identity server signed, and it is checked
//! against that server's published keys (`AUTH_JWKS_URL`) and the configured issuer, audience and scope. This is
//! what the WSO2 Console's Client Credential authentication sends: a token it fetched from a token endpoint.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::http::HeaderMap;
use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;

use super::jwks::{self, FetchFailure, JwksSource, Keys, ReadFailure, RefetchPolicy};
use super::token::{ClaimRules, SigningAlg, TokenClaims, TokenHeader, TokenProblem};
use super::{AuthFailure, scheme_value};
use crate::upstream::{self, TransportFailure};

/// The start-up read of the keys: a cold start can afford it, and without keys nothing could be checked.
const STARTUP_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// When the keys are read again for an unknown `kid`: at most once a minute, and within 1 s, since a call waits
/// on it (Asgardeo waits 3 s for the whole answer).
const REFETCH: RefetchPolicy = RefetchPolicy {
    min_interval: Duration::from_secs(60),
    timeout: Duration::from_secs(1),
};

/// Far larger than any real key set (a few KB).
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// `AUTH_JWKS_URL`: https, or plain http to loopback alone (a local identity server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl(reqwest::Url);

impl JwksUrl {
    pub fn parse(url: &str) -> Result<Self, &'static str> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL")?;
        if parsed.cannot_be_a_base() || parsed.host_str().is_none() {
            return Err("is not a URL");
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("must not hold a user name or password");
        }
        if !upstream::https_or_loopback(&parsed) {
            return Err(
                "must be an https:// URL: the identity server's JWKS endpoint, e.g. https://is.example.com/oauth2/jwks",
            );
        }
        Ok(JwksUrl(parsed))
    }

    /// The URL itself, to read the keys from.
    pub fn url(&self) -> &reqwest::Url {
        &self.0
    }
}

/// Shown without its query or fragment, which could hold something meant for the server alone.
impl fmt::Display for JwksUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        shown.fmt(f)
    }
}

/// `AUTH_REQUIRED_SCOPE`: one scope (RFC 6749's scope-token: printable ASCII but space, `"` and `\`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredScope(String);

impl RequiredScope {
    pub fn parse(scope: &str) -> Result<Self, &'static str> {
        let token_char = |b: u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
        if scope.is_empty() || !scope.bytes().all(token_char) {
            return Err("must be one scope, without spaces or quotes (e.g. profile-guard:call)");
        }
        Ok(RequiredScope(scope.to_owned()))
    }
}

/// What `AUTH_MODE=jwt` checks tokens against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub jwks_url: JwksUrl,
    /// `AUTH_ISSUER`: the `iss` claim, exactly.
    pub issuer: String,
    /// `AUTH_AUDIENCE`: a value the `aud` claim must hold.
    pub audience: String,
    pub required_scope: Option<RequiredScope>,
}

impl JwtSettings {
    fn rules(&self) -> ClaimRules {
        ClaimRules {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            scope: self.required_scope.as_ref().map(|s| s.0.clone()),
        }
    }
}

/// The keys could not be read at start-up: the service does not start, since it could check no token.
#[derive(Debug, thiserror::Error)]
#[error(
    "AUTH_JWKS_URL: the signing keys at {url} {problem}; without them no token can be checked, so profile-guard \
     does not start"
)]
pub struct JwksError {
    url: String,
    problem: String,
}

/// The JWKS endpoint over HTTP: the upstream client (a hard time limit, no redirects), a capped answer.
struct HttpJwks {
    client: reqwest::Client,
    url: reqwest::Url,
}

#[async_trait]
impl JwksSource for HttpJwks {
    async fn fetch(&self, timeout: Duration) -> Result<Vec<u8>, FetchFailure> {
        let request = self
            .client
            .get(self.url.clone())
            .header(
                reqwest::header::ACCEPT,
                "application/jwk-set+json, application/json",
            )
            .timeout(timeout);
        let failed = |f: TransportFailure| match f {
            TransportFailure::Timeout => FetchFailure::Timeout(timeout.as_millis()),
            TransportFailure::Unreachable => FetchFailure::Unreachable,
            TransportFailure::Tls => FetchFailure::Tls,
            TransportFailure::Broken => FetchFailure::Broken,
        };
        let response = upstream::send(request, timeout).await.map_err(failed)?;
        if !response.status().is_success() {
            return Err(FetchFailure::Status(response.status().as_u16()));
        }
        let body = upstream::read_capped(response, MAX_JWKS_BYTES + 1)
            .await
            .map_err(failed)?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(FetchFailure::TooLarge(MAX_JWKS_BYTES));
        }
        Ok(body)
    }
}

/// Checks bearer tokens as JWTs. Built once at start-up, with the keys already read.
pub struct JwtAuthenticator {
    keys: Keys,
    rules: ClaimRules,
    /// One per accepted algorithm, built once. The library checks the token's form, its algorithm against the
    /// key's and the signature; the claims are decided by `ClaimRules` (an exact issuer, the clock passed in).
    validations: [Validation; 3],
}

impl JwtAuthenticator {
    /// Reads the keys at `AUTH_JWKS_URL`; without a usable set the service does not start.
    pub async fn start(settings: &JwtSettings) -> Result<Self, JwksError> {
        let error = |problem: String| JwksError {
            url: settings.jwks_url.to_string(),
            problem,
        };
        let client = upstream::client(STARTUP_READ_TIMEOUT)
            .map_err(|e| error(format!("could not be read: no HTTP client ({e})")))?;
        let source = HttpJwks {
            client,
            url: settings.jwks_url.0.clone(),
        };
        Self::with_source(Box::new(source), settings.rules(), REFETCH)
            .await
            .map_err(|failure| error(failure.to_string()))
    }

    /// As `start`, with the keys from `source`.
    pub(crate) async fn with_source(
        source: Box<dyn JwksSource>,
        rules: ClaimRules,
        policy: RefetchPolicy,
    ) -> Result<Self, ReadFailure> {
        let first = jwks::read(source.as_ref(), STARTUP_READ_TIMEOUT).await?;
        tracing::info!(keys = first.count(), kids = %first.kids(), "signing keys read");
        Ok(JwtAuthenticator {
            keys: Keys::new(source, first, policy),
            rules,
            validations: ALGS.map(validation),
        })
    }

    fn validation(&self, alg: SigningAlg) -> &Validation {
        let at = ALGS.iter().position(|a| *a == alg).unwrap_or_default();
        &self.validations[at]
    }

    /// The `Authorization: Bearer` token, checked now.
    pub async fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        let token = scheme_value(headers, "bearer")?;
        self.verify(token, unix_now())
            .await
            .map_err(AuthFailure::Token)
    }

    /// The whole check of one token at `now` (seconds since the epoch): its header, its key (read again once
    /// when the `kid` is new), its signature, its claims.
    pub(crate) async fn verify(&self, token: &str, now: i64) -> Result<(), TokenProblem> {
        let header = TokenHeader::parse(token)?;
        let kid = header.kid.as_deref();
        let mut keys = self.keys.current();
        if kid.is_some() && matches!(keys.select(kid, header.alg), Err(TokenProblem::KeyUnknown)) {
            keys = self
                .keys
                .refetch(&keys)
                .await
                .ok_or(TokenProblem::KeyUnknown)?;
        }
        let key = keys.select(kid, header.alg)?;
        let data =
            jsonwebtoken::decode::<TokenClaims>(token, key.decoding(), self.validation(header.alg))
                .map_err(|e| classify(e.kind()))?;
        self.rules.check(&data.claims, now)
    }
}

/// The accepted algorithms, in the order of `JwtAuthenticator::validations`.
const ALGS: [SigningAlg; 3] = [SigningAlg::Rs256, SigningAlg::Ps256, SigningAlg::Es256];

/// The library's checks for `alg` alone: form, algorithm, signature. Its claim checks are off, `ClaimRules`
/// makes those decisions.
fn validation(alg: SigningAlg) -> Validation {
    let mut v = Validation::new(alg.algorithm());
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v
}

/// What a failed library check means for the caller's token. Every one is refused the same way; the kinds only
/// name the problem in the audit line, and an unforeseen kind counts as a malformed token.
fn classify(kind: &ErrorKind) -> TokenProblem {
    match kind {
        ErrorKind::InvalidSignature
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => TokenProblem::SignatureInvalid,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => TokenProblem::AlgorithmRefused,
        ErrorKind::Json(_) | ErrorKind::Utf8(_) => TokenProblem::ClaimsUnreadable,
        _ => TokenProblem::NotAJwt,
    }
}

/// Seconds since the epoch. A clock before 1970 is broken: every token then counts as expired.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(i64::MAX, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
