//! What reports are configured with: where links point, the key they are signed with, how long they work, and
//! what a report does besides alerting.

use std::time::Duration;

use crate::secrets::SecretSource;
use crate::upstream;

use super::lock::wso2_scim::ScimUrl;

/// `REPORT_LINK_TTL_SECS`'s default: a week, long enough for a notice read after a weekend.
pub const DEFAULT_TTL: Duration = Duration::from_secs(604_800);

/// Reports are on when these are set (`REPORT_URL_BASE` and the key).
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// `REPORT_URL_BASE`: where the person's browser reaches this service.
    pub url_base: ReportUrlBase,
    /// `REPORT_LINK_SECRET` / `REPORT_LINK_SECRET_SECRET`: the key links are signed with.
    pub secret: SecretSource,
    /// `REPORT_LINK_TTL_SECS`: how long a link works.
    pub ttl: Duration,
    /// `REPORT_ACTION`: alert only, or lock the account too.
    pub action: ReportAction,
    /// `WSO2_SCIM_URL` + `WSO2_SCIM_TOKEN` / `_SECRET`: where a WSO2 / Asgardeo account is locked.
    pub wso2_scim: Option<ScimSettings>,
}

/// What a report does besides the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    Alert,
    Lock,
}

impl ReportAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportAction::Alert => "alert",
            ReportAction::Lock => "lock",
        }
    }
}

/// WSO2's SCIM2 API, for the lock.
#[derive(Debug, Clone)]
pub struct ScimSettings {
    pub url: ScimUrl,
    pub token: SecretSource,
}

/// The most characters `REPORT_URL_BASE` may have: a link must fit in one Slack text value with its token.
const MAX_BASE_CHARS: usize = 200;

/// `REPORT_URL_BASE`: an `https` URL (plain `http` to loopback alone, for local use), with a path perhaps (a custom
/// domain's base path) but no query or fragment. Kept without its trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportUrlBase(String);

impl ReportUrlBase {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let url = reqwest::Url::parse(raw).map_err(|_| "is not a URL")?;
        if url.cannot_be_a_base() || url.host_str().is_none() {
            return Err("is not a URL");
        }
        if !upstream::https_or_loopback(&url) {
            return Err("must be an https:// URL (plain http only to 127.0.0.1 or localhost)");
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err("must have no query, fragment or user name: /report?t=… is added to it");
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        // Only characters that need no escaping in any message: the link is written into text, HTML and Slack.
        let plain = base
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/%".contains(&b));
        if !plain || base.len() > MAX_BASE_CHARS {
            return Err(
                "must be a plain URL of at most 200 characters (letters, digits and -._~:/%)",
            );
        }
        Ok(ReportUrlBase(base))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The page's address for one token.
    pub fn link(&self, token: &str) -> String {
        format!("{}/report?t={token}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_is_https_or_loopback_and_plain() {
        let ok = [
            ("https://guard.example.com", "https://guard.example.com"),
            ("https://guard.example.com/", "https://guard.example.com"),
            ("https://x.example/prod/", "https://x.example/prod"),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
            ("http://localhost:3000/", "http://localhost:3000"),
        ];
        for (raw, base) in ok {
            assert_eq!(ReportUrlBase::parse(raw).unwrap().as_str(), base, "{raw}");
        }
        for bad in [
            "http://guard.example.com",
            "guard.example.com",
            "https://guard.example.com/?a=1",
            "https://guard.example.com/#x",
            "https://u@guard.example.com",
            "https://guard.example.com/a'b",
            "mailto:x@y.z",
        ] {
            assert!(ReportUrlBase::parse(bad).is_err(), "{bad}");
        }
        let base = ReportUrlBase::parse("https://g.example").unwrap();
        assert_eq!(base.link("v1.a.b"), "https://g.example/report?t=v1.a.b");
    }
}
