//! The department directory: the company's HTTP API, or an embedded list for trying the service out.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::policy::{DirectoryFailure, Membership};
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

/// Why the directory could not say whether a department exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the directory could not be reached")]
    Unreachable,
    #[error("the directory answered with HTTP status {0}")]
    UnexpectedStatus(u16),
    #[error("the directory's answer could not be read")]
    BadAnswer,
}

impl DirectoryError {
    /// Whether the directory is down or shedding load (a timeout, a refused connection, 5xx, 408, 429). Only an
    /// outage may let a change through with `DIRECTORY_UNAVAILABLE=allow`: a redirect, 401/403 or an answer that
    /// is not HTTP points at a misconfiguration (a wrong token or URL), which must not silently allow everything.
    pub fn is_outage(&self) -> bool {
        match self {
            DirectoryError::Timeout(_) | DirectoryError::Unreachable => true,
            DirectoryError::UnexpectedStatus(status) => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
            DirectoryError::BadAnswer => false,
        }
    }

    /// What the answer needs to know of this failure.
    pub fn failure(&self) -> DirectoryFailure {
        match self {
            DirectoryError::Timeout(_) => DirectoryFailure::Timeout,
            DirectoryError::Unreachable => DirectoryFailure::Unreachable,
            DirectoryError::UnexpectedStatus(_) | DirectoryError::BadAnswer => {
                DirectoryFailure::BadAnswer
            }
        }
    }

    /// A short name for the audit line.
    pub fn kind(&self) -> &'static str {
        match self {
            DirectoryError::Timeout(_) => "timeout",
            DirectoryError::Unreachable => "unreachable",
            DirectoryError::UnexpectedStatus(_) => "unexpected_status",
            DirectoryError::BadAnswer => "bad_answer",
        }
    }
}

/// Every new department must be known; the first unknown one decides.
pub async fn check_all(
    directory: &dyn Directory,
    departments: &[&str],
) -> Result<Membership, DirectoryError> {
    for department in departments {
        if directory.lookup(department).await? == Membership::Unknown {
            return Ok(Membership::Unknown);
        }
    }
    Ok(Membership::Known)
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Whether `department` exists. Matching is exact.
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError>;

    /// What this directory is, for the start-up log line (no secrets).
    fn describe(&self) -> String;
}

/// The longest department value any directory is asked about, in bytes. Department names are short; a longer
/// value is a mistake or a probe, and would make a URL some servers refuse.
pub const MAX_DEPARTMENT_BYTES: usize = 256;

/// Why a value cannot name a department, so no directory is asked about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotADepartment {
    Empty,
    /// `.` or `..`: URL parsers treat them as dot segments even percent-encoded (`%2E%2E`), so
    /// `/departments/..` would ask for `/` instead.
    DotSegment,
    ControlCharacter,
    TooLong,
}

impl NotADepartment {
    pub fn as_str(self) -> &'static str {
        match self {
            NotADepartment::Empty => "empty",
            NotADepartment::DotSegment => "dot_segment",
            NotADepartment::ControlCharacter => "control_character",
            NotADepartment::TooLong => "too_long",
        }
    }
}

/// Whether `value` may be looked up. Every other value, percent-encoded by `UrlTemplate::expand`, stays in the
/// one path segment (or query value) the template gives it.
pub fn screen(value: &str) -> Result<(), NotADepartment> {
    if value.is_empty() {
        Err(NotADepartment::Empty)
    } else if value.len() > MAX_DEPARTMENT_BYTES {
        Err(NotADepartment::TooLong)
    } else if value == "." || value == ".." {
        Err(NotADepartment::DotSegment)
    } else if value.chars().any(char::is_control) {
        Err(NotADepartment::ControlCharacter)
    } else {
        Ok(())
    }
}

/// Builds the directory the configuration asks for. The HTTP client is built here, once.
/// `token` is the directory token, already read from wherever the configuration keeps it.
pub fn from_config(
    settings: &DirectorySettings,
    token: Option<SecretString>,
) -> Result<Box<dyn Directory>, reqwest::Error> {
    Ok(Box::new(ScreenedDirectory(unscreened(settings, token)?)))
}

fn unscreened(
    settings: &DirectorySettings,
    token: Option<SecretString>,
) -> Result<Box<dyn Directory>, reqwest::Error> {
    Ok(match settings {
        DirectorySettings::Http {
            url,
            timeout,
            cache,
            ..
        } => {
            let http = Box::new(HttpDirectory::new(url.clone(), token, *timeout)?);
            match cache {
                Some(policy) => Box::new(CachedDirectory::new(http, *policy)),
                None => http,
            }
        }
        DirectorySettings::Embedded { departments } => {
            Box::new(EmbeddedDirectory::new(departments.iter().cloned()))
        }
    })
}

/// Stands in front of every directory (and its cache, so junk is never cached): a value `screen` refuses is
/// unknown without a call.
pub struct ScreenedDirectory(pub Box<dyn Directory>);

#[async_trait]
impl Directory for ScreenedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        if let Err(why) = screen(department) {
            tracing::info!(
                target: "profile_guard::directory",
                reason = why.as_str(),
                value_bytes = department.len(),
                "department value refused without asking the directory"
            );
            return Ok(Membership::Unknown);
        }
        self.0.lookup(department).await
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// What a directory's status says about the department. The answers a server gives about a bad or absent value
/// (400, 404, 410, 414, 422) mean unknown; anything but 200 is otherwise an error.
fn membership_of(status: u16) -> Result<Membership, DirectoryError> {
    match status {
        200 => Ok(Membership::Known),
        400 | 404 | 410 | 414 | 422 => Ok(Membership::Unknown),
        other => Err(DirectoryError::UnexpectedStatus(other)),
    }
}

/// `GET <url with the department>`: 200 means known, an answer about the value unknown, anything else an error.
pub struct HttpDirectory {
    client: reqwest::Client,
    url: UrlTemplate,
    token: Option<SecretString>,
    timeout: Duration,
}

impl HttpDirectory {
    pub fn new(
        url: UrlTemplate,
        token: Option<SecretString>,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = crate::upstream::client(timeout)?;
        Ok(HttpDirectory {
            client,
            url,
            token,
            timeout,
        })
    }
}

#[async_trait]
impl Directory for HttpDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        let mut request = self
            .client
            .get(self.url.expand(department))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        // reqwest's own timeout covers the whole exchange; the outer one is a guarantee that no path can hang.
        let sent =
            tokio::time::timeout(self.timeout + Duration::from_millis(50), request.send()).await;
        let response = match sent {
            Err(_) => return Err(DirectoryError::Timeout(self.timeout)),
            Ok(Err(e)) if e.is_timeout() => return Err(DirectoryError::Timeout(self.timeout)),
            Ok(Err(e)) if e.is_connect() => return Err(DirectoryError::Unreachable),
            Ok(Err(_)) => return Err(DirectoryError::BadAnswer),
            Ok(Ok(r)) => r,
        };
        membership_of(response.status().as_u16())
    }

    fn describe(&self) -> String {
        let url = self.url.as_str();
        // Only scheme and host: a path or query may carry an API key.
        let shown = reqwest::Url::parse(&url.replace(UrlTemplate::PLACEHOLDER, "x"))
            .ok()
            .and_then(|u| u.host_str().map(|h| format!("{}://{}", u.scheme(), h)))
            .unwrap_or_else(|| "(unparsable)".into());
        format!(
            "directory API at {shown} (timeout {} ms, token {})",
            self.timeout.as_millis(),
            if self.token.is_some() {
                "set"
            } else {
                "not set"
            }
        )
    }
}

/// How long the directory's answers are reused (`DEPARTMENT_CACHE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub known_ttl: Duration,
    pub unknown_ttl: Duration,
    pub max_entries: u64,
}

struct TtlByAnswer(CachePolicy);

impl moka::Expiry<String, Membership> for TtlByAnswer {
    fn expire_after_create(
        &self,
        _: &String,
        value: &Membership,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(match value {
            Membership::Known => self.0.known_ttl,
            Membership::Unknown => self.0.unknown_ttl,
        })
    }
}

/// Reuses the directory's answers: known and unknown departments for their own TTLs, errors never. Concurrent
/// misses for the same department wait for one upstream call.
pub struct CachedDirectory {
    inner: Box<dyn Directory>,
    cache: moka::future::Cache<String, Membership>,
    policy: CachePolicy,
}

impl CachedDirectory {
    pub fn new(inner: Box<dyn Directory>, policy: CachePolicy) -> Self {
        CachedDirectory {
            inner,
            cache: moka::future::Cache::builder()
                .max_capacity(policy.max_entries)
                .expire_after(TtlByAnswer(policy))
                .build(),
            policy,
        }
    }
}

#[async_trait]
impl Directory for CachedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        self.cache
            .try_get_with_by_ref(department, self.inner.lookup(department))
            .await
            .map_err(|e| (*e).clone())
    }

    fn describe(&self) -> String {
        format!(
            "{}, cached ({} s known, {} s unknown, at most {} entries)",
            self.inner.describe(),
            self.policy.known_ttl.as_secs(),
            self.policy.unknown_ttl.as_secs(),
            self.policy.max_entries
        )
    }
}

/// A fixed list of departments.
pub struct EmbeddedDirectory {
    departments: HashSet<String>,
}

impl EmbeddedDirectory {
    pub fn new(departments: impl IntoIterator<Item = String>) -> Self {
        EmbeddedDirectory {
            departments: departments.into_iter().collect(),
        }
    }
}

#[async_trait]
impl Directory for EmbeddedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        Ok(if self.departments.contains(department) {
            Membership::Known
        } else {
            Membership::Unknown
        })
    }

    fn describe(&self) -> String {
        let mut list: Vec<&str> = self.departments.iter().map(String::as_str).collect();
        list.sort_unstable();
        format!("embedded department list ({})", list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(Arc<AtomicUsize>, Result<Membership, DirectoryError>);

    #[async_trait]
    impl Directory for Counting {
        async fn lookup(&self, _: &str) -> Result<Membership, DirectoryError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.1.clone()
        }
        fn describe(&self) -> String {
            "counting".into()
        }
    }

    fn cached(answer: Result<Membership, DirectoryError>) -> (CachedDirectory, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let policy = CachePolicy {
            known_ttl: Duration::from_secs(60),
            unknown_ttl: Duration::from_millis(100),
            max_entries: 100,
        };
        (
            CachedDirectory::new(Box::new(Counting(calls.clone(), answer)), policy),
            calls,
        )
    }

    #[tokio::test]
    async fn concurrent_misses_make_one_call_and_errors_are_not_kept() {
        let (dir, calls) = cached(Ok(Membership::Known));
        let (a, b, c) = tokio::join!(dir.lookup("HR"), dir.lookup("HR"), dir.lookup("HR"));
        assert_eq!(
            (a, b, c),
            (
                Ok(Membership::Known),
                Ok(Membership::Known),
                Ok(Membership::Known)
            )
        );
        assert_eq!(dir.lookup("HR").await, Ok(Membership::Known));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let (dir, calls) = cached(Err(DirectoryError::Unreachable));
        assert_eq!(dir.lookup("HR").await, Err(DirectoryError::Unreachable));
        assert_eq!(dir.lookup("HR").await, Err(DirectoryError::Unreachable));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "a failure is asked again");
    }

    #[tokio::test]
    async fn unknown_answers_expire_sooner() {
        let (dir, calls) = cached(Ok(Membership::Unknown));
        dir.lookup("Legal").await.unwrap();
        dir.lookup("Legal").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(150)).await;
        dir.lookup("Legal").await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn screen_refuses_what_cannot_name_a_department() {
        let long = "D".repeat(MAX_DEPARTMENT_BYTES + 1);
        let refused: &[(&str, NotADepartment)] = &[
            ("", NotADepartment::Empty),
            (".", NotADepartment::DotSegment),
            ("..", NotADepartment::DotSegment),
            ("\u{0}", NotADepartment::ControlCharacter),
            ("HR\n", NotADepartment::ControlCharacter),
            ("R&D\u{7f}", NotADepartment::ControlCharacter),
            ("Ops\u{85}", NotADepartment::ControlCharacter),
            (&long, NotADepartment::TooLong),
        ];
        for (value, why) in refused {
            assert_eq!(screen(value), Err(*why), "{value:?}");
        }
        let fit = "é".repeat(MAX_DEPARTMENT_BYTES / 2);
        for value in [
            "HR",
            "R&D / Ops",
            "...",
            ". ",
            "%2E%2E",
            "Ünïcode Dept",
            fit.as_str(),
        ] {
            assert_eq!(screen(value), Ok(()), "{value:?}");
        }
    }

    const TEMPLATE: &str = "http://dir.example/departments/{department}";

    #[test]
    fn url_template_percent_encodes_the_value() {
        let t = UrlTemplate::parse("https://dir.example.com/departments/{department}").unwrap();
        assert_eq!(
            t.expand("R&D / Ops"),
            "https://dir.example.com/departments/R%26D%20%2F%20Ops"
        );
    }

    #[test]
    fn without_the_screen_dot_dot_would_leave_its_segment() {
        // Why the screen exists: the URL library normalises an encoded `..` away.
        let url = UrlTemplate::parse(TEMPLATE).unwrap().expand("..");
        assert_eq!(reqwest::Url::parse(&url).unwrap().path(), "/");
    }

    proptest::proptest! {
        #[test]
        fn a_screened_value_stays_in_its_one_segment(value in "\\PC{1,40}|[./%2Ee]{1,4}|.{1,20}") {
            proptest::prop_assume!(screen(&value).is_ok());
            let url = reqwest::Url::parse(&UrlTemplate::parse(TEMPLATE).unwrap().expand(&value)).unwrap();
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            proptest::prop_assert_eq!(segments.len(), 2);
            proptest::prop_assert_eq!(segments[0], "departments");
            let decoded = percent_encoding::percent_decode_str(segments[1]).decode_utf8().unwrap();
            proptest::prop_assert_eq!(decoded, value.as_str());
            proptest::prop_assert!(url.query().is_none() && url.fragment().is_none());
        }
    }

    #[tokio::test]
    async fn the_screen_stands_in_front_of_the_cache() {
        let (cached, calls) = cached(Ok(Membership::Known));
        let dir = ScreenedDirectory(Box::new(cached));
        for junk in ["..", ".", "a\u{0}", &"x".repeat(4000)] {
            assert_eq!(dir.lookup(junk).await, Ok(Membership::Unknown));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no call, nothing cached");
        assert_eq!(dir.lookup("HR").await, Ok(Membership::Known));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn every_configured_directory_is_screened() {
        let configs = [
            DirectorySettings::Embedded {
                departments: vec!["..".to_owned()],
            },
            DirectorySettings::Http {
                // Nothing listens on port 9 of loopback: an unscreened lookup would fail, not answer unknown.
                url: UrlTemplate::parse("http://127.0.0.1:9/d/{department}").unwrap(),
                token: None,
                timeout: Duration::from_millis(200),
                cache: None,
            },
        ];
        for config in &configs {
            let dir = from_config(config, None).unwrap();
            assert_eq!(
                dir.lookup("..").await,
                Ok(Membership::Unknown),
                "{}",
                dir.describe()
            );
        }
    }

    #[test]
    fn statuses_about_the_value_mean_unknown_and_only_outages_may_fail_open() {
        for status in [400, 404, 410, 414, 422] {
            assert_eq!(membership_of(status), Ok(Membership::Unknown), "{status}");
        }
        assert_eq!(membership_of(200), Ok(Membership::Known));
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(membership_of(status).unwrap_err().is_outage(), "{status}");
        }
        for status in [201, 204, 301, 302, 304, 401, 403, 405, 409] {
            assert!(!membership_of(status).unwrap_err().is_outage(), "{status}");
        }
        assert!(DirectoryError::Timeout(Duration::from_secs(1)).is_outage());
        assert!(DirectoryError::Unreachable.is_outage());
        assert!(!DirectoryError::BadAnswer.is_outage());
    }

    #[tokio::test]
    async fn embedded_matching_is_exact() {
        let d = EmbeddedDirectory::new(["HR".to_owned(), "Sales".to_owned()]);
        assert_eq!(d.lookup("HR").await, Ok(Membership::Known));
        assert_eq!(d.lookup("hr").await, Ok(Membership::Unknown));
        assert_eq!(d.lookup(" HR").await, Ok(Membership::Unknown));
    }
}
