//! The department directory: the company's HTTP API, or an embedded list for trying the service out.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{DirectoryConfig, UrlTemplate};
use crate::policy::Membership;

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
    config: &DirectoryConfig,
    token: Option<SecretString>,
) -> Result<Box<dyn Directory>, reqwest::Error> {
    Ok(match config {
        DirectoryConfig::Http {
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
        DirectoryConfig::Embedded { departments } => {
            Box::new(EmbeddedDirectory::new(departments.iter().cloned()))
        }
    })
}

/// `GET <url with the department>`: 200 means known, 404 unknown, anything else is an error.
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
        let client = crate::upstream_client(timeout)?;
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
        match response.status().as_u16() {
            200 => Ok(Membership::Known),
            404 => Ok(Membership::Unknown),
            other => Err(DirectoryError::UnexpectedStatus(other)),
        }
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

    #[tokio::test]
    async fn embedded_matching_is_exact() {
        let d = EmbeddedDirectory::new(["HR".to_owned(), "Sales".to_owned()]);
        assert_eq!(d.lookup("HR").await, Ok(Membership::Known));
        assert_eq!(d.lookup("hr").await, Ok(Membership::Unknown));
        assert_eq!(d.lookup(" HR").await, Ok(Membership::Unknown));
    }
}
