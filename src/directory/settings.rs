//! How the directory is configured: the API's URL template, its cache, or the embedded list.

use std::time::Duration;

use crate::secrets::SecretSource;

/// The departments known when no directory API is configured (those of WSO2's published sample).
pub const DEFAULT_DEPARTMENTS: &str = "Engineering,HR,Sales,Finance";

/// Which directory answers, and how.
#[derive(Debug, Clone)]
pub enum DirectorySettings {
    /// The company's directory API.
    Http {
        url: UrlTemplate,
        token: Option<SecretSource>,
        timeout: Duration,
        /// `None` when `DEPARTMENT_CACHE_TTL=0`.
        cache: Option<CachePolicy>,
    },
    /// A fixed list (`DEPARTMENTS`), for trying the service out or for small tenants.
    Embedded { departments: Vec<String> },
}

/// A directory URL with a `{department}` placeholder, checked to be an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate(String);

impl UrlTemplate {
    pub const PLACEHOLDER: &'static str = "{department}";

    pub fn parse(s: &str) -> Result<Self, String> {
        if !s.contains(Self::PLACEHOLDER) {
            return Err(format!(
                "must contain the placeholder {}",
                Self::PLACEHOLDER
            ));
        }
        let probe = s.replace(Self::PLACEHOLDER, "x");
        let url = reqwest::Url::parse(&probe).map_err(|e| format!("is not a valid URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        Ok(UrlTemplate(s.to_owned()))
    }

    /// The URL for one department, the value percent-encoded as a path segment or query value.
    pub fn expand(&self, department: &str) -> String {
        let encoded =
            percent_encoding::utf8_percent_encode(department, percent_encoding::NON_ALPHANUMERIC);
        self.0.replace(Self::PLACEHOLDER, &encoded.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long the directory's answers are reused (`DEPARTMENT_CACHE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub known_ttl: Duration,
    pub unknown_ttl: Duration,
    pub max_entries: u64,
}
