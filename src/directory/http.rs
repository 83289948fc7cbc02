//! The company's directory API: `GET <url with the department>`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{Directory, DirectoryError, UrlTemplate};
use crate::policy::Membership;
use crate::upstream::{self, TransportFailure};

/// What a directory's status says about the department. The answers a server gives about a bad or absent value
/// (400, 404, 410, 414, 422) mean unknown; anything but 200 is otherwise an error.
pub(super) fn membership_of(status: u16) -> Result<Membership, DirectoryError> {
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
        let response =
            upstream::send(request, self.timeout)
                .await
                .map_err(|failure| match failure {
                    TransportFailure::Timeout => DirectoryError::Timeout(self.timeout),
                    TransportFailure::Unreachable => DirectoryError::Unreachable,
                    TransportFailure::Tls => DirectoryError::Tls,
                    TransportFailure::Broken => DirectoryError::BadAnswer,
                })?;
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
