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
        DirectoryConfig::Http { url, timeout, .. } => {
            Box::new(HttpDirectory::new(url.clone(), token, *timeout)?)
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
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("profile-guard/", env!("CARGO_PKG_VERSION")))
            .build()?;
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

    #[tokio::test]
    async fn embedded_matching_is_exact() {
        let d = EmbeddedDirectory::new(["HR".to_owned(), "Sales".to_owned()]);
        assert_eq!(d.lookup("HR").await, Ok(Membership::Known));
        assert_eq!(d.lookup("hr").await, Ok(Membership::Unknown));
        assert_eq!(d.lookup(" HR").await, Ok(Membership::Unknown));
    }
}
