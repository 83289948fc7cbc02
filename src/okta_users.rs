//! Okta's Users API, for one thing only: the e-mail address of a changed user whose login is not one
//! (`GET /api/v1/users/{id}`, `profile.email`), with an API token (`Authorization: SSWS …`), in bounded time.

use std::time::Duration;

use async_trait::async_trait;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};

use crate::claims::EmailAddress;
use crate::upstream;
use crate::upstream::{DeliveryError, DeliveryErrorKind as Kind};

/// An answer larger than this is not a user.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

#[async_trait]
pub trait OktaUsers: Send + Sync {
    /// The user's `profile.email`; `None` when Okta has no such user or no usable address for them.
    async fn email_of(&self, user_id: &str) -> Result<Option<EmailAddress>, DeliveryError>;
}

/// The org's base URL (`OKTA_ORG_URL`): https, or plain http to loopback alone, for a local stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUrl(reqwest::Url);

impl OrgUrl {
    pub fn parse(url: &str) -> Result<Self, &'static str> {
        let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL")?;
        if parsed.cannot_be_a_base() || parsed.host_str().is_none() {
            return Err("is not a URL");
        }
        if !upstream::https_or_loopback(&parsed) {
            return Err("must be an https:// URL (your Okta org, e.g. https://example.okta.com)");
        }
        Ok(OrgUrl(parsed))
    }

    /// The org's host, to name it in messages.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or("")
    }

    /// An address under the org, e.g. `/api/v1/users/me`.
    pub fn join(&self, path: &str) -> reqwest::Url {
        let mut url = self.0.clone();
        url.set_path(path);
        url
    }

    /// The org's base URL, for the other Okta APIs called.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    fn user(&self, id: &str) -> String {
        let base = self.0.as_str().trim_end_matches('/');
        format!(
            "{base}/api/v1/users/{}",
            utf8_percent_encode(id, NON_ALPHANUMERIC)
        )
    }
}

pub struct OktaUsersApi {
    client: reqwest::Client,
    org: OrgUrl,
    token: SecretString,
    timeout: Duration,
}

impl OktaUsersApi {
    pub fn new(
        org: OrgUrl,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(OktaUsersApi {
            client: upstream::client(timeout)?,
            org,
            token,
            timeout,
        })
    }
}

#[async_trait]
impl OktaUsers for OktaUsersApi {
    async fn email_of(&self, user_id: &str) -> Result<Option<EmailAddress>, DeliveryError> {
        let request = self
            .client
            .get(self.org.user(user_id))
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("SSWS {}", self.token.expose_secret()),
            );
        let (status, body) =
            upstream::exchange(request, self.timeout, MAX_ANSWER_BYTES, "Okta").await?;
        read_user(status, &body)
    }
}

/// Reads the Users API's answer: the address, no such user, or why the question failed.
pub fn read_user(status: u16, body: &[u8]) -> Result<Option<EmailAddress>, DeliveryError> {
    if status == 404 {
        return Ok(None);
    }
    DeliveryError::of_status(status, "Okta's Users API")?;
    let user: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| DeliveryError::new(Kind::Service, "Okta's user answer is not JSON"))?;
    let email = user.pointer("/profile/email").and_then(|e| e.as_str());
    Ok(email.and_then(|e| EmailAddress::parse(e).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_the_users_api() {
        let ok = read_user(
            200,
            br#"{"id":"00u1","profile":{"email":"emily@example.com"}}"#,
        );
        assert_eq!(ok.unwrap().unwrap().as_str(), "emily@example.com");
        assert_eq!(
            read_user(200, br#"{"profile":{"email":"nope"}}"#).unwrap(),
            None
        );
        assert_eq!(read_user(404, b"{}").unwrap(), None);
        let kind = |s| read_user(s, b"").unwrap_err().kind;
        assert_eq!(kind(401), Kind::Credentials);
        assert_eq!(kind(429), Kind::Throttled);
        assert_eq!(kind(400), Kind::Rejected);
        assert_eq!(kind(503), Kind::Service);
        assert_eq!(read_user(200, b"<html>").unwrap_err().kind, Kind::Service);
    }

    #[test]
    fn the_org_url_is_https_or_loopback_and_ids_stay_in_one_segment() {
        let org = OrgUrl::parse("https://example.okta.com/").unwrap();
        assert_eq!(org.host(), "example.okta.com");
        assert_eq!(
            org.user("emily@example.com/../x"),
            "https://example.okta.com/api/v1/users/emily%40example%2Ecom%2F%2E%2E%2Fx"
        );
        assert!(OrgUrl::parse("http://example.okta.com").is_err());
        assert!(OrgUrl::parse("http://127.0.0.1:9").is_ok());
        assert!(OrgUrl::parse("example.okta.com").is_err());
    }
}
