//! The bearer token as data: its JOSE header read before anything is trusted (only to pick the key), its claims as
//! typed values, and the decisions about them (algorithm, time, issuer, audience, scope) as pure functions of the
//! token, the settings and the time. Nothing here does I/O or checks a signature.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::IgnoredAny;

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// Longer than any access token an identity server sends (theirs are a few KB): not read at all.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// A decoded header longer than this is refused; real ones are 100 to 300 bytes. Decoded on the stack.
const MAX_HEADER_BYTES: usize = 1024;

/// Why a bearer token was refused. The caller never learns which (every refusal is the same 401); the audit line
/// names it, so an administrator can tell an expired token from one meant for another audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not three base64url parts with a JSON header: an opaque token, or no token at all.
    NotAJwt,
    /// `none`, an HMAC algorithm, or anything but RS256, PS256 and ES256.
    AlgorithmRefused,
    /// A `crit` header: an extension this check cannot honour.
    CriticalHeader,
    /// No key with the token's `kid` (after a fresh read of the keys, when one was allowed).
    KeyUnknown,
    /// The key named by `kid` is for another algorithm than the header's.
    AlgorithmMismatch,
    SignatureInvalid,
    /// The signed claims are not a JSON object of the expected types.
    ClaimsUnreadable,
    ExpiryMissing,
    Expired,
    NotYetValid,
    IssuerWrong,
    AudienceWrong,
    ScopeMissing,
}

impl TokenProblem {
    /// The audit line's `token_problem`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenProblem::NotAJwt => "not_a_jwt",
            TokenProblem::AlgorithmRefused => "algorithm_refused",
            TokenProblem::CriticalHeader => "critical_header",
            TokenProblem::KeyUnknown => "key_unknown",
            TokenProblem::AlgorithmMismatch => "algorithm_mismatch",
            TokenProblem::SignatureInvalid => "signature_invalid",
            TokenProblem::ClaimsUnreadable => "claims_unreadable",
            TokenProblem::ExpiryMissing => "expiry_missing",
            TokenProblem::Expired => "expired",
            TokenProblem::NotYetValid => "not_yet_valid",
            TokenProblem::IssuerWrong => "issuer_wrong",
            TokenProblem::AudienceWrong => "audience_wrong",
            TokenProblem::ScopeMissing => "scope_missing",
        }
    }
}

/// The signature algorithms accepted: asymmetric only, so the keys the identity server publishes can verify but
/// never sign. `none` and HMAC (a shared secret, or a public key misused as one) are never among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlg {
    Rs256,
    Ps256,
    Es256,
}

impl SigningAlg {
    /// The JWA name, matched exactly (RFC 7518 names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(SigningAlg::Rs256),
            "PS256" => Some(SigningAlg::Ps256),
            "ES256" => Some(SigningAlg::Es256),
            _ => None,
        }
    }

    pub fn algorithm(self) -> jsonwebtoken::Algorithm {
        match self {
            SigningAlg::Rs256 => jsonwebtoken::Algorithm::RS256,
            SigningAlg::Ps256 => jsonwebtoken::Algorithm::PS256,
            SigningAlg::Es256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

/// The header as sent; unknown members (`typ`, `x5t`, …) are ignored.
#[derive(Deserialize)]
struct WireHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

/// What the header says, before anything is verified: enough to pick the key, nothing to rely on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    pub alg: SigningAlg,
    pub kid: Option<String>,
}

impl TokenHeader {
    /// The header of a compact JWS (`header.payload.signature`); anything else is not a JWT.
    pub fn parse(token: &str) -> Result<Self, TokenProblem> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenProblem::NotAJwt);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::NotAJwt);
        };
        if payload.is_empty() {
            return Err(TokenProblem::NotAJwt);
        }
        let mut buf = [0u8; MAX_HEADER_BYTES];
        let len = URL_SAFE_NO_PAD
            .decode_slice(header, &mut buf)
            .map_err(|_| TokenProblem::NotAJwt)?;
        let wire: WireHeader<'_> =
            serde_json::from_slice(&buf[..len]).map_err(|_| TokenProblem::NotAJwt)?;
        let alg = SigningAlg::from_name(&wire.alg).ok_or(TokenProblem::AlgorithmRefused)?;
        if wire.crit.is_some() {
            return Err(TokenProblem::CriticalHeader);
        }
        Ok(TokenHeader {
            alg,
            kid: wire.kid.map(Cow::into_owned),
        })
    }
}

/// A JSON string, or an array of strings (`aud`, `scp`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            OneOrMany::One(value) => value == wanted,
            OneOrMany::Many(values) => values.iter().any(|v| v == wanted),
        }
    }

    /// As a scope list: a string holds space-separated scopes (Azure's `scp`), an array one scope each (Okta's).
    fn grants(&self, scope: &str) -> bool {
        match self {
            OneOrMany::One(list) => has_scope(list, scope),
            OneOrMany::Many(values) => values.iter().any(|v| v == scope),
        }
    }
}

/// Seconds since the epoch; a JSON number, which may have a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct NumericDate(f64);

impl NumericDate {
    /// Whole seconds, rounded down (an `as` cast saturates, so a huge value stays huge).
    fn secs(self) -> i64 {
        self.0.floor() as i64
    }
}

/// The claims the check reads, as signed; the rest of the payload is ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TokenClaims {
    #[serde(default)]
    pub iss: Option<String>,
    #[serde(default)]
    pub aud: Option<OneOrMany>,
    #[serde(default)]
    pub exp: Option<NumericDate>,
    #[serde(default)]
    pub nbf: Option<NumericDate>,
    /// OAuth 2.0's space-separated scopes (WSO2, RFC 9068).
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub scp: Option<OneOrMany>,
}

/// `scope` holds `wanted` as one of its space-separated items (case-sensitive, as RFC 6749 says).
fn has_scope(list: &str, wanted: &str) -> bool {
    list.split(' ').any(|item| item == wanted)
}

/// What a verified token's claims must say: `AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_REQUIRED_SCOPE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRules {
    pub issuer: String,
    pub audience: String,
    pub scope: Option<String>,
}

impl ClaimRules {
    /// The decision on a signed token's claims at `now` (seconds since the epoch): the issuer exactly, the
    /// audience among `aud`, `exp` required and `nbf` honoured with `LEEWAY_SECS` either way, the scope when one
    /// is required.
    pub fn check(&self, claims: &TokenClaims, now: i64) -> Result<(), TokenProblem> {
        if claims.iss.as_deref() != Some(self.issuer.as_str()) {
            return Err(TokenProblem::IssuerWrong);
        }
        if !claims
            .aud
            .as_ref()
            .is_some_and(|aud| aud.contains(&self.audience))
        {
            return Err(TokenProblem::AudienceWrong);
        }
        let exp = claims.exp.ok_or(TokenProblem::ExpiryMissing)?;
        if now >= exp.secs().saturating_add(LEEWAY_SECS) {
            return Err(TokenProblem::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| now < nbf.secs().saturating_sub(LEEWAY_SECS))
        {
            return Err(TokenProblem::NotYetValid);
        }
        match &self.scope {
            Some(scope) if !grants(claims, scope) => Err(TokenProblem::ScopeMissing),
            _ => Ok(()),
        }
    }
}

/// `scope` (space-separated) or `scp` (an array, or a space-separated string) holds `wanted`.
fn grants(claims: &TokenClaims, wanted: &str) -> bool {
    claims
        .scope
        .as_deref()
        .is_some_and(|list| has_scope(list, wanted))
        || claims.scp.as_ref().is_some_and(|scp| scp.grants(wanted))
}

#[cfg(test)]
mod tests;
