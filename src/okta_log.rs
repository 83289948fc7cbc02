//! Okta's System Log API, for one thing only: the profile changes logged since a time, page by page
//! (`GET /api/v1/logs`, a polling request: `since`, `sortOrder=ASCENDING`, no `until`), with an API token
//! (`Authorization: SSWS …`), in bounded time, each answer's rate-limit headers read.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use reqwest::header::{HeaderMap, LINK};
use secrecy::{ExposeSecret, SecretString};

use crate::okta::rules::PROFILE_UPDATE;
use crate::okta::{LogEvent, RateLimit, next_link, parse_page};
use crate::okta_users::OrgUrl;
use crate::upstream;
use crate::upstream::{DeliveryError, DeliveryErrorKind as Kind};

/// Events per page (Okta allows up to 1000; its own default is 100).
const PAGE_LIMIT: &str = "200";
/// A page of `PAGE_LIMIT` events is far below this; a larger answer is not a page.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Okta ends a query after 30 s; no page waits longer.
pub const MAX_PAGE_TIME: Duration = Duration::from_secs(30);
const SERVICE: &str = "Okta's System Log API";

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    /// The first page: events logged since this time.
    Since(SystemTime),
    /// The page a previous one linked to.
    Next(NextPage),
}

/// A `next` link, checked: on the org itself (the token goes with it) and the log's own path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage(reqwest::Url);

impl NextPage {
    /// `link` read against the address it came from; `None` when it points anywhere but the org's log.
    pub fn parse(org: &OrgUrl, from: &reqwest::Url, link: &str) -> Option<NextPage> {
        let url = from.join(link).ok()?;
        let log = org.join("/api/v1/logs");
        (url.origin() == log.origin() && url.path() == log.path()).then_some(NextPage(url))
    }
}

/// One page: its events, the page after it (a polling read always has one), and the rate limit left.
#[derive(Debug)]
pub struct LogPage {
    pub events: Vec<Result<LogEvent, String>>,
    pub next: Option<NextPage>,
    pub rate: RateLimit,
}

/// Why a page was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFailure {
    /// A 429: the rate limit is used up until `reset` (when the answer says).
    Throttled {
        reset: Option<SystemTime>,
    },
    Failed(DeliveryError),
}

#[async_trait]
pub trait SystemLog: Send + Sync {
    /// One page, within `timeout`.
    async fn page(&self, at: &PageAt, timeout: Duration) -> Result<LogPage, LogFailure>;
}

pub struct SystemLogApi {
    client: reqwest::Client,
    org: OrgUrl,
    token: SecretString,
}

impl SystemLogApi {
    pub fn new(org: OrgUrl, token: SecretString) -> Result<Self, reqwest::Error> {
        Ok(SystemLogApi {
            client: upstream::client(MAX_PAGE_TIME)?,
            org,
            token,
        })
    }

    fn url(&self, at: &PageAt) -> reqwest::Url {
        match at {
            PageAt::Next(NextPage(url)) => url.clone(),
            PageAt::Since(since) => {
                let mut url = self.org.join("/api/v1/logs");
                url.query_pairs_mut()
                    .append_pair("filter", &format!("eventType eq \"{PROFILE_UPDATE}\""))
                    .append_pair(
                        "since",
                        &humantime::format_rfc3339_millis(*since).to_string(),
                    )
                    .append_pair("sortOrder", "ASCENDING")
                    .append_pair("limit", PAGE_LIMIT);
                url
            }
        }
    }
}

#[async_trait]
impl SystemLog for SystemLogApi {
    async fn page(&self, at: &PageAt, timeout: Duration) -> Result<LogPage, LogFailure> {
        let url = self.url(at);
        let request = self
            .client
            .get(url.clone())
            .timeout(timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("SSWS {}", self.token.expose_secret()),
            );
        let failed = |f| LogFailure::Failed(DeliveryError::transport(f, SERVICE));
        let response = upstream::send(request, timeout).await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = upstream::read_capped(response, MAX_PAGE_BYTES)
            .await
            .map_err(failed)?;
        read_page(&self.org, &url, status, &headers, &body)
    }
}

/// Reads one answer of the log: a page, a rate limit, or why the read failed.
pub fn read_page(
    org: &OrgUrl,
    url: &reqwest::Url,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<LogPage, LogFailure> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let rate = RateLimit::read(
        header("x-rate-limit-remaining"),
        header("x-rate-limit-reset"),
    );
    if status == 429 {
        return Err(LogFailure::Throttled { reset: rate.reset });
    }
    if let Err(mut e) = DeliveryError::of_status(status, SERVICE) {
        if let Some(code) = error_code(body) {
            e.detail = format!("{} ({code})", e.detail);
        }
        return Err(LogFailure::Failed(e));
    }
    let events = parse_page(body).map_err(|_| {
        LogFailure::Failed(DeliveryError::new(
            Kind::Service,
            "Okta's log page is not a list of events",
        ))
    })?;
    let links = headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok());
    let next = match next_link(links) {
        Some(link) => Some(NextPage::parse(org, url, &link).ok_or_else(|| {
            LogFailure::Failed(DeliveryError::new(
                Kind::Service,
                "Okta's next link leaves the org's log",
            ))
        })?),
        None => None,
    };
    Ok(LogPage { events, next, rate })
}

/// Okta's error code (`E0000011`), safe to log: a code, never a message.
fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("errorCode")?.as_str()?;
    let plain =
        code.len() == 8 && code.starts_with('E') && code[1..].bytes().all(|b| b.is_ascii_digit());
    plain.then(|| code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn org() -> OrgUrl {
        OrgUrl::parse("https://example.okta.com").unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_first_page_asks_for_profile_changes_since_a_time_in_ascending_order() {
        let api = SystemLogApi::new(org(), SecretString::from("t")).unwrap();
        let since = SystemTime::UNIX_EPOCH + Duration::from_millis(1_767_225_600_123);
        let url = api.url(&PageAt::Since(since));
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(url.path(), "/api/v1/logs");
        assert_eq!(
            pairs,
            [
                (
                    "filter".into(),
                    "eventType eq \"user.account.update_profile\"".into()
                ),
                ("since".into(), "2026-01-01T00:00:00.123Z".into()),
                ("sortOrder".into(), "ASCENDING".into()),
                ("limit".into(), "200".into()),
            ]
        );
    }

    #[test]
    fn answers_of_the_log() {
        let url = org().join("/api/v1/logs");
        let next = "<https://example.okta.com/api/v1/logs?after=x>; rel=\"next\"";
        let h = headers(&[
            ("link", next),
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", "1767225600"),
        ]);
        let page = read_page(&org(), &url, 200, &h, b"[]").unwrap();
        assert!(page.rate.exhausted());
        assert_eq!(page.next.unwrap().0.query(), Some("after=x"));
        let throttled = read_page(&org(), &url, 429, &h, b"{}").unwrap_err();
        assert!(matches!(
            throttled,
            LogFailure::Throttled { reset: Some(_) }
        ));
        let kind = |status, body: &[u8]| match read_page(&org(), &url, status, &h, body) {
            Err(LogFailure::Failed(e)) => (e.kind, e.detail),
            other => panic!("{other:?}"),
        };
        let (k, detail) = kind(
            401,
            br#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#,
        );
        assert_eq!(k, Kind::Credentials);
        assert_eq!(detail, "Okta's System Log API answered 401 (E0000011)");
        assert_eq!(kind(500, b"<html>").0, Kind::Service);
        assert_eq!(kind(400, b"").0, Kind::Rejected);
        assert_eq!(kind(200, b"<html>").0, Kind::Service);
    }

    #[test]
    fn a_next_link_elsewhere_is_never_followed() {
        let url = org().join("/api/v1/logs");
        for link in [
            "<https://evil.example/api/v1/logs?after=x>; rel=\"next\"",
            "<http://example.okta.com/api/v1/logs?after=x>; rel=\"next\"",
            "<https://example.okta.com/api/v1/users>; rel=\"next\"",
        ] {
            let h = headers(&[("link", link)]);
            assert!(read_page(&org(), &url, 200, &h, b"[]").is_err(), "{link}");
        }
        let relative = headers(&[("link", "</api/v1/logs?after=y>; rel=\"next\"")]);
        let page = read_page(&org(), &url, 200, &relative, b"[]").unwrap();
        assert_eq!(
            page.next.unwrap().0.as_str(),
            "https://example.okta.com/api/v1/logs?after=y"
        );
    }
}
