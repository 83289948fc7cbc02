//! Once per change: where decisions are remembered and for how long.

use std::time::Duration;

use super::ConfigError;
use super::reader::Reader;
use crate::idempotency::IdempotencySettings;

const DEFAULT_IDEMPOTENCY_TTL_SECS: u64 = 600;
/// Keys without a `requestId`: WSO2 retries within its read timeout (5 s, 2 attempts; Asgardeo 3 s).
const DEFAULT_IDEMPOTENCY_CONTENT_TTL_SECS: u64 = 30;
/// Messages about delivered events: Okta delivers at least once, so a duplicate can come well after the first.
const DEFAULT_IDEMPOTENCY_EVENT_TTL_SECS: u64 = 24 * 3600;

/// `IDEMPOTENCY_TABLE`, `IDEMPOTENCY_TTL_SECS`, `IDEMPOTENCY_CONTENT_TTL_SECS`, `IDEMPOTENCY_EVENT_TTL_SECS`.
pub(super) fn settings(r: &Reader<'_>) -> Result<IdempotencySettings, ConfigError> {
    Ok(IdempotencySettings {
        table: table(r)?,
        ttl: Duration::from_secs(r.number(
            "IDEMPOTENCY_TTL_SECS",
            DEFAULT_IDEMPOTENCY_TTL_SECS,
            10..=7 * 24 * 3600,
            "seconds",
        )?),
        content_ttl: Duration::from_secs(r.number(
            "IDEMPOTENCY_CONTENT_TTL_SECS",
            DEFAULT_IDEMPOTENCY_CONTENT_TTL_SECS,
            1..=3600,
            "seconds",
        )?),
        event_ttl: Duration::from_secs(r.number(
            "IDEMPOTENCY_EVENT_TTL_SECS",
            DEFAULT_IDEMPOTENCY_EVENT_TTL_SECS,
            60..=7 * 24 * 3600,
            "seconds",
        )?),
    })
}

/// A table name or ARN: no white space, within DynamoDB's length for an ARN.
fn table(r: &Reader<'_>) -> Result<Option<String>, ConfigError> {
    match r.get("IDEMPOTENCY_TABLE") {
        Some(t) if t.len() > 1024 || t.chars().any(|c| c.is_whitespace() || c.is_control()) => Err(
            ConfigError::new("IDEMPOTENCY_TABLE", "is not a DynamoDB table name or ARN"),
        ),
        other => Ok(other),
    }
}
