//! The endpoint's own settings: where it listens, who may call it, how large a call may be, how long it may take
//! and what it answers when an upstream fails.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use secrecy::ExposeSecret;

use super::reader::Reader;
use super::{ConfigError, rules};
use crate::auth::{ApiKeyHeader, AuthMode, AuthSettings, JwksUrl, JwtSettings, RequiredScope};
use crate::policy::{FailureModes, Limits};
use crate::secrets::{SecretKind, SecretSource, parse_secret};

const DEFAULT_LISTEN_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));
/// Below Asgardeo's 3 s read timeout, with room for the network.
const DEFAULT_DEADLINE_MS: u64 = 2500;

/// `LISTEN_ADDR`: the local server's address (unused in Lambda).
pub(super) fn listen_addr(r: &Reader<'_>) -> Result<SocketAddr, ConfigError> {
    match r.get("LISTEN_ADDR") {
        Some(v) => v.parse().map_err(|_| {
            ConfigError::new(
                "LISTEN_ADDR",
                format!("{v:?} is not an address like 127.0.0.1:3000"),
            )
        }),
        None => Ok(DEFAULT_LISTEN_ADDR),
    }
}

/// `MAX_BODY_BYTES`, `MAX_CLAIMS`, `MAX_VALUE_BYTES`.
pub(super) fn limits(r: &Reader<'_>) -> Result<Limits, ConfigError> {
    let default = Limits::DEFAULT;
    Ok(Limits {
        max_body_bytes: r.number(
            "MAX_BODY_BYTES",
            default.max_body_bytes,
            1024..=1024 * 1024,
            "bytes",
        )?,
        max_claims: r.number("MAX_CLAIMS", default.max_claims, 1..=10_000, "claims")?,
        max_value_bytes: r.number(
            "MAX_VALUE_BYTES",
            default.max_value_bytes,
            16..=65_536,
            "bytes",
        )?,
    })
}

/// `DEADLINE_MS`: the whole call, upstream calls included.
pub(super) fn deadline(r: &Reader<'_>) -> Result<Duration, ConfigError> {
    let ms = r.number(
        "DEADLINE_MS",
        DEFAULT_DEADLINE_MS,
        100..=29_000,
        "milliseconds",
    )?;
    Ok(Duration::from_millis(ms))
}

/// `AUTH_MODE`, `AUTH_CREDENTIAL` / `AUTH_CREDENTIAL_SECRET`, `AUTH_API_KEY_HEADER`, and the token settings.
pub(super) fn auth(r: &Reader<'_>, in_lambda: bool) -> Result<AuthSettings, ConfigError> {
    let mode = r.choice(
        "AUTH_MODE",
        AuthMode::None,
        &[
            ("none", AuthMode::None),
            ("basic", AuthMode::Basic),
            ("bearer", AuthMode::Bearer),
            ("api-key", AuthMode::ApiKey),
            ("jwt", AuthMode::Jwt),
        ],
    )?;
    let credential = inline_json(mode, r.secret("AUTH_CREDENTIAL", "AUTH_CREDENTIAL_SECRET")?)?;
    rules::jwt_takes_no_credential(mode, credential.as_ref())?;
    rules::auth_mode_needs_credential(mode, credential.as_ref())?;
    rules::lambda_needs_auth_mode(in_lambda, r.is_set("AUTH_MODE"))?;
    rules::basic_credential_is_a_pair(mode, credential.as_ref())?;
    let api_key_header = r
        .parsed("AUTH_API_KEY_HEADER", ApiKeyHeader::parse)?
        .unwrap_or_default();
    Ok(AuthSettings {
        mode,
        api_key_header,
        credential,
        jwt: jwt(r, mode)?,
    })
}

/// `AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE` (all three required with `AUTH_MODE=jwt`) and
/// `AUTH_REQUIRED_SCOPE`.
fn jwt(r: &Reader<'_>, mode: AuthMode) -> Result<Option<JwtSettings>, ConfigError> {
    let jwks_url = r.parsed("AUTH_JWKS_URL", JwksUrl::parse)?;
    let issuer = r.get("AUTH_ISSUER");
    let audience = r.get("AUTH_AUDIENCE");
    let required_scope = r.parsed("AUTH_REQUIRED_SCOPE", RequiredScope::parse)?;
    rules::token_settings_need_jwt_mode(
        mode,
        &[
            ("AUTH_JWKS_URL", jwks_url.is_some()),
            ("AUTH_ISSUER", issuer.is_some()),
            ("AUTH_AUDIENCE", audience.is_some()),
            ("AUTH_REQUIRED_SCOPE", required_scope.is_some()),
        ],
    )?;
    if mode != AuthMode::Jwt {
        return Ok(None);
    }
    let required = |var: &'static str, what: &str| {
        ConfigError::new(var, format!("is required with AUTH_MODE=jwt: {what}"))
    };
    Ok(Some(JwtSettings {
        jwks_url: jwks_url.ok_or_else(|| {
            required(
                "AUTH_JWKS_URL",
                "the identity server's JWKS endpoint (WSO2 IS: https://<host>/oauth2/jwks)",
            )
        })?,
        issuer: issuer.ok_or_else(|| {
            required(
                "AUTH_ISSUER",
                "the tokens' iss claim, exactly (WSO2 IS: https://<host>/oauth2/token)",
            )
        })?,
        audience: audience.ok_or_else(|| {
            required(
                "AUTH_AUDIENCE",
                "a value the tokens' aud claim holds (WSO2: the client ID of the application they are issued to)",
            )
        })?,
        required_scope,
    }))
}

/// An inline `AUTH_CREDENTIAL` given as JSON (`{"username": …, "password": …}`, `{"token": …}`) is read as the same
/// JSON in Secrets Manager is, or refused: taken literally it would be a credential no caller ever sends.
fn inline_json(
    mode: AuthMode,
    credential: Option<SecretSource>,
) -> Result<Option<SecretSource>, ConfigError> {
    let kind = match mode {
        // No credential is read for these; `jwt` refuses one outright.
        AuthMode::None | AuthMode::Jwt => return Ok(credential),
        AuthMode::Basic => SecretKind::BasicCredential,
        AuthMode::Bearer | AuthMode::ApiKey => SecretKind::Single,
    };
    match credential {
        Some(SecretSource::Inline(value))
            if value.expose_secret().trim_start().starts_with('{') =>
        {
            let parsed = parse_secret(value.expose_secret(), kind)
                .map_err(|problem| ConfigError::new("AUTH_CREDENTIAL", problem))?;
            Ok(Some(SecretSource::Inline(parsed)))
        }
        other => Ok(other),
    }
}

/// `DIRECTORY_UNAVAILABLE`, `ALERT_UNDELIVERED`.
pub(super) fn failure_modes(r: &Reader<'_>) -> Result<FailureModes, ConfigError> {
    Ok(FailureModes {
        allow_without_directory: r.choice(
            "DIRECTORY_UNAVAILABLE",
            false,
            &[("error", false), ("allow", true)],
        )?,
        allow_without_alert: r.choice(
            "ALERT_UNDELIVERED",
            false,
            &[("fail", false), ("allow", true)],
        )?,
    })
}
