//! The department directory: the company's HTTP API (cached), or an embedded list for trying the service out.
//! Every directory stands behind the screen, so no value that cannot be a department is ever sent anywhere.

mod cache;
mod embedded;
mod http;
mod screen;
mod settings;

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

pub use cache::CachedDirectory;
pub use embedded::EmbeddedDirectory;
pub use http::HttpDirectory;
pub use screen::{MAX_DEPARTMENT_BYTES, NotADepartment, ScreenedDirectory, screen};
pub use settings::{CachePolicy, DEFAULT_DEPARTMENTS, DirectorySettings, UrlTemplate};

use crate::policy::{DirectoryFailure, Membership};

/// Why the directory could not say whether a department exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the directory could not be reached")]
    Unreachable,
    /// A connection was made but could not be secured: a certificate or protocol problem, not an outage.
    #[error("the TLS connection to the directory failed")]
    Tls,
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
            DirectoryError::Tls | DirectoryError::BadAnswer => false,
        }
    }

    /// What the answer needs to know of this failure.
    pub fn failure(&self) -> DirectoryFailure {
        match self {
            DirectoryError::Timeout(_) => DirectoryFailure::Timeout,
            DirectoryError::Unreachable | DirectoryError::Tls => DirectoryFailure::Unreachable,
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
            DirectoryError::Tls => "tls",
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

#[cfg(test)]
mod tests {
    use super::http::membership_of;
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
