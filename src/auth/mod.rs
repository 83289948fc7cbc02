//! Authentication of the caller, in the modes the WSO2 Console offers: a static credential (basic, bearer, API
//! key) compared in constant time (over SHA-256 digests, so neither content nor length leaks through timing), or
//! an OAuth2 access token checked as a JWT (`jwt`).

mod jwks;
mod jwt;
mod token;

pub use jwt::{JwksError, JwksUrl, JwtAuthenticator, JwtSettings, RequiredScope};
pub use token::TokenProblem;

use axum::http::{HeaderMap, HeaderName, header};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secrets::SecretSource;

/// How the caller (the identity server) must authenticate (`AUTH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    None,
    Basic,
    Bearer,
    ApiKey,
    /// An OAuth2 access token, checked as a JWT against the identity server's keys.
    Jwt,
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthMode,
    pub api_key_header: ApiKeyHeader,
    /// `AUTH_CREDENTIAL` / `AUTH_CREDENTIAL_SECRET`: the key, the token, or `user:password`.
    pub credential: Option<SecretSource>,
    /// With `AUTH_MODE=jwt`: what tokens are checked against.
    pub jwt: Option<JwtSettings>,
}

/// `AUTH_API_KEY_HEADER` (default `api-key`): the header that carries the key with `AUTH_MODE=api-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyHeader(HeaderName);

/// The name is not a valid HTTP header name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid HTTP header name")]
pub struct NotAHeaderName;

impl ApiKeyHeader {
    /// Header names are case-insensitive: the name is kept lower-cased.
    pub fn parse(name: &str) -> Result<Self, NotAHeaderName> {
        HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
            .map(ApiKeyHeader)
            .map_err(|_| NotAHeaderName)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `Authorization`: where Okta puts an event hook's secret unless told otherwise.
    pub fn authorization() -> Self {
        ApiKeyHeader(header::AUTHORIZATION)
    }
}

impl Default for ApiKeyHeader {
    fn default() -> Self {
        ApiKeyHeader(HeaderName::from_static("api-key"))
    }
}

/// Why a call was refused, for the audit line (the caller gets one generic answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Wrong,
    /// A bearer token that is not a valid JWT for this service: a wrong credential, with the reason kept for the
    /// audit line. An opaque token is one of these.
    Token(TokenProblem),
}

impl AuthFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "credentials_missing",
            AuthFailure::Malformed => "credentials_malformed",
            AuthFailure::Wrong | AuthFailure::Token(_) => "credentials_wrong",
        }
    }

    /// Why a token was refused, when it was one.
    pub fn token_problem(self) -> Option<TokenProblem> {
        match self {
            AuthFailure::Token(problem) => Some(problem),
            _ => None,
        }
    }
}

/// How the action's caller is checked: a static credential, or an OAuth2 access token.
pub enum CallerAuth {
    Static(Authenticator),
    /// Boxed: it holds the key set and per-algorithm checks, many times a static credential's size.
    Jwt(Box<JwtAuthenticator>),
}

impl CallerAuth {
    pub async fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        match self {
            CallerAuth::Static(credential) => credential.check(headers),
            CallerAuth::Jwt(token) => token.check(headers).await,
        }
    }
}

pub struct Authenticator {
    mode: AuthMode,
    api_key_header: HeaderName,
    /// SHA-256 of the expected credential (`user:password` for basic).
    expected: [u8; 32],
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Authenticator {
    /// `credential` is required for every mode but `none` (the configuration guarantees it).
    pub fn new(
        mode: AuthMode,
        api_key_header: &ApiKeyHeader,
        credential: Option<&SecretString>,
    ) -> Self {
        Authenticator {
            mode,
            api_key_header: api_key_header.0.clone(),
            expected: digest(
                credential
                    .map(|c| c.expose_secret().as_bytes())
                    .unwrap_or_default(),
            ),
        }
    }

    pub fn check(&self, headers: &HeaderMap) -> Result<(), AuthFailure> {
        let presented: Vec<u8> = match self.mode {
            AuthMode::None => return Ok(()),
            AuthMode::ApiKey => {
                let value = headers
                    .get(&self.api_key_header)
                    .ok_or(AuthFailure::Missing)?;
                value.as_bytes().to_vec()
            }
            AuthMode::Bearer => scheme_value(headers, "bearer")?.as_bytes().to_vec(),
            // A token is never compared as a static value: only `JwtAuthenticator` checks one.
            AuthMode::Jwt => return Err(AuthFailure::Wrong),
            AuthMode::Basic => base64::engine::general_purpose::STANDARD
                .decode(scheme_value(headers, "basic")?)
                .map_err(|_| AuthFailure::Malformed)?,
        };
        if presented.is_empty() {
            return Err(AuthFailure::Missing);
        }
        if bool::from(digest(&presented).ct_eq(&self.expected)) {
            Ok(())
        } else {
            Err(AuthFailure::Wrong)
        }
    }
}

/// The value after `<scheme> ` in the Authorization header (scheme matched case-insensitively).
fn scheme_value<'a>(headers: &'a HeaderMap, scheme: &str) -> Result<&'a str, AuthFailure> {
    let raw = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?;
    let text = raw.to_str().map_err(|_| AuthFailure::Malformed)?;
    let (given, value) = text.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
    if !given.eq_ignore_ascii_case(scheme) {
        return Err(AuthFailure::Malformed);
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(AuthFailure::Missing);
    }
    Ok(value)
}

/// Checks the HMAC-SHA256 signature of a webhook body, in either form: WSO2 IS's `x-wso2-event-signature` or
/// WebSub's `X-Hub-Signature` (Asgardeo), each `sha256=<hex>`. The comparison is constant-time.
pub struct WebhookSignature {
    secret: SecretString,
}

/// The headers a signature may come in, in the order they are looked for.
const SIGNATURE_HEADERS: [&str; 3] = [
    "x-wso2-event-signature",
    "x-hub-signature-256",
    "x-hub-signature",
];

impl WebhookSignature {
    pub fn new(secret: SecretString) -> Self {
        WebhookSignature { secret }
    }

    pub fn check(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), AuthFailure> {
        let value = SIGNATURE_HEADERS
            .iter()
            .find_map(|name| headers.get(*name))
            .ok_or(AuthFailure::Missing)?;
        let text = value.to_str().map_err(|_| AuthFailure::Malformed)?.trim();
        let (algorithm, hex) = text.split_once('=').ok_or(AuthFailure::Malformed)?;
        if !algorithm.eq_ignore_ascii_case("sha256") {
            return Err(AuthFailure::Malformed);
        }
        let given = decode_hex(hex).ok_or(AuthFailure::Malformed)?;
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.secret.expose_secret().as_bytes())
                .map_err(|_| AuthFailure::Wrong)?;
        mac.update(body);
        mac.verify_slice(&given).map_err(|_| AuthFailure::Wrong)
    }
}

/// Hex text (either case) as bytes; `None` for anything else.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn every_mode_right_wrong_missing_malformed() {
        let secret = SecretString::from("s3cret-value".to_owned());
        let bearer = Authenticator::new(AuthMode::Bearer, &ApiKeyHeader::default(), Some(&secret));
        assert_eq!(
            bearer.check(&headers(&[("authorization", "Bearer s3cret-value")])),
            Ok(())
        );
        assert_eq!(
            bearer.check(&headers(&[("authorization", "bearer s3cret-value")])),
            Ok(())
        );
        assert_eq!(
            bearer.check(&headers(&[("authorization", "Bearer nope")])),
            Err(AuthFailure::Wrong)
        );
        assert_eq!(bearer.check(&headers(&[])), Err(AuthFailure::Missing));
        assert_eq!(
            bearer.check(&headers(&[("authorization", "Basic abc")])),
            Err(AuthFailure::Malformed)
        );
        assert_eq!(
            bearer.check(&headers(&[("authorization", "Bearer")])),
            Err(AuthFailure::Malformed)
        );

        let key = Authenticator::new(
            AuthMode::ApiKey,
            &ApiKeyHeader::parse("X-Api-Key").unwrap(),
            Some(&secret),
        );
        assert_eq!(
            key.check(&headers(&[("x-api-key", "s3cret-value")])),
            Ok(())
        );
        assert_eq!(
            key.check(&headers(&[("api-key", "s3cret-value")])),
            Err(AuthFailure::Missing)
        );
        assert_eq!(
            key.check(&headers(&[("x-api-key", "s3cret-valuE")])),
            Err(AuthFailure::Wrong)
        );

        let pair = SecretString::from("wso2:pa:ss".to_owned());
        let basic = Authenticator::new(AuthMode::Basic, &ApiKeyHeader::default(), Some(&pair));
        let good = base64::engine::general_purpose::STANDARD.encode("wso2:pa:ss");
        assert_eq!(
            basic.check(&headers(&[("authorization", &format!("Basic {good}"))])),
            Ok(())
        );
        let bad = base64::engine::general_purpose::STANDARD.encode("wso2:wrong");
        assert_eq!(
            basic.check(&headers(&[("authorization", &format!("Basic {bad}"))])),
            Err(AuthFailure::Wrong)
        );
        assert_eq!(
            basic.check(&headers(&[("authorization", "Basic %%%")])),
            Err(AuthFailure::Malformed)
        );

        let open = Authenticator::new(AuthMode::None, &ApiKeyHeader::default(), None);
        assert_eq!(open.check(&headers(&[])), Ok(()));
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;
    use axum::http::HeaderValue;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn either_form_right_wrong_missing_malformed() {
        let check = WebhookSignature::new(SecretString::from("s3cret"));
        let body = br#"{"jti":"x"}"#;
        let good = format!("sha256={}", sign("s3cret", body));
        assert_eq!(
            check.check(&with("x-wso2-event-signature", &good), body),
            Ok(())
        );
        assert_eq!(check.check(&with("x-hub-signature", &good), body), Ok(()));
        assert_eq!(
            check.check(
                &with(
                    "x-hub-signature",
                    &good.to_uppercase().replace("SHA256", "sha256")
                ),
                body
            ),
            Ok(())
        );
        let other = format!("sha256={}", sign("other", body));
        assert_eq!(
            check.check(&with("x-hub-signature", &other), body),
            Err(AuthFailure::Wrong)
        );
        assert_eq!(
            check.check(&with("x-hub-signature", &good), b"{}"),
            Err(AuthFailure::Wrong)
        );
        assert_eq!(
            check.check(&HeaderMap::new(), body),
            Err(AuthFailure::Missing)
        );
        for bad in ["sha1=abcd", "sha256=zz", "sha256=abc", "nonsense"] {
            assert_eq!(
                check.check(&with("x-hub-signature", bad), body),
                Err(AuthFailure::Malformed),
                "{bad}"
            );
        }
    }
}
