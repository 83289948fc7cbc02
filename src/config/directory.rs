//! The department directory: the company's API when `DEPARTMENT_API_URL` is set, else the embedded list.

use std::time::Duration;

use super::ConfigError;
use super::reader::{Reader, list};
use crate::directory::{CachePolicy, DEFAULT_DEPARTMENTS, DirectorySettings, UrlTemplate};

const DEFAULT_DEPARTMENT_API_TIMEOUT_MS: u64 = 1000;

pub(super) fn settings(r: &Reader<'_>) -> Result<DirectorySettings, ConfigError> {
    match r.parsed("DEPARTMENT_API_URL", UrlTemplate::parse)? {
        Some(url) => api(r, url),
        None => embedded(r),
    }
}

/// `DEPARTMENT_API_TIMEOUT_MS`, `DEPARTMENT_CACHE_*`, `DEPARTMENT_API_TOKEN` / `DEPARTMENT_API_TOKEN_SECRET`.
fn api(r: &Reader<'_>, url: UrlTemplate) -> Result<DirectorySettings, ConfigError> {
    let timeout_ms = r.number(
        "DEPARTMENT_API_TIMEOUT_MS",
        DEFAULT_DEPARTMENT_API_TIMEOUT_MS,
        1..=10_000,
        "milliseconds",
    )?;
    let known_ttl = r.number("DEPARTMENT_CACHE_TTL", 300u64, 0..=86_400, "seconds")?;
    let unknown_ttl = r.number(
        "DEPARTMENT_CACHE_NEGATIVE_TTL",
        30u64,
        0..=86_400,
        "seconds",
    )?;
    let max_entries = r.number("DEPARTMENT_CACHE_SIZE", 10_000u64, 1..=1_000_000, "entries")?;
    Ok(DirectorySettings::Http {
        url,
        token: r.secret("DEPARTMENT_API_TOKEN", "DEPARTMENT_API_TOKEN_SECRET")?,
        timeout: Duration::from_millis(timeout_ms),
        // A known-TTL of 0 turns the cache off.
        cache: (known_ttl > 0).then_some(CachePolicy {
            known_ttl: Duration::from_secs(known_ttl),
            unknown_ttl: Duration::from_secs(unknown_ttl),
            max_entries,
        }),
    })
}

/// `DEPARTMENTS`, comma-separated.
fn embedded(r: &Reader<'_>) -> Result<DirectorySettings, ConfigError> {
    let raw = r
        .get("DEPARTMENTS")
        .unwrap_or_else(|| DEFAULT_DEPARTMENTS.to_owned());
    let departments = list(&raw);
    if departments.is_empty() {
        return Err(ConfigError::new("DEPARTMENTS", "names no department"));
    }
    Ok(DirectorySettings::Embedded { departments })
}
