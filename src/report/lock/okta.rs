//! Okta: a reported account is suspended (`POST /api/v1/users/{id}/lifecycle/suspend`: the person can no longer
//! sign in, and an administrator can undo it) and then signed out everywhere (`DELETE
//! /api/v1/users/{id}/sessions?oauthTokens=true`: its sessions end and the tokens issued to it are revoked), with
//! an API token (`Authorization: SSWS …`) of an administrator who may do both.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use percent_encoding::utf8_percent_encode;
use secrecy::{ExposeSecret, SecretString};

use super::{AccountLock, CALL_TIMEOUT, ID_SEGMENT, Step};
use crate::okta_users::OrgUrl;
use crate::upstream::{self, DeliveryError, DeliveryErrorKind as Kind};

/// An error answer larger than this is cut.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const SERVICE: &str = "Okta";

/// The Users API client for the lock, built once at start-up.
pub struct OktaLock {
    client: reqwest::Client,
    org: OrgUrl,
    token: SecretString,
}

impl OktaLock {
    pub fn new(org: OrgUrl, token: SecretString) -> Result<Self, reqwest::Error> {
        Ok(OktaLock {
            client: upstream::client(CALL_TIMEOUT)?,
            org,
            token,
        })
    }

    fn user(&self, id: &str, rest: &str) -> String {
        let base = self.org.as_str().trim_end_matches('/');
        let id = utf8_percent_encode(id, ID_SEGMENT);
        format!("{base}/api/v1/users/{id}{rest}")
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        until: Instant,
        read: fn(u16, &[u8]) -> Result<(), DeliveryError>,
    ) -> Result<(), DeliveryError> {
        let timeout = until
            .saturating_duration_since(Instant::now())
            .min(CALL_TIMEOUT);
        if timeout < Duration::from_millis(50) {
            return Err(DeliveryError::new(
                Kind::Timeout,
                "no time was left to call Okta",
            ));
        }
        let request = request
            .timeout(timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("SSWS {}", self.token.expose_secret()),
            );
        let (status, body) =
            upstream::exchange(request, timeout, MAX_ANSWER_BYTES, SERVICE).await?;
        read(status, &body)
    }
}

#[async_trait]
impl AccountLock for OktaLock {
    /// Suspends first, so that nobody can sign in again between the two calls; the sessions are cleared even
    /// when the suspension failed (an already suspended user still has them).
    async fn lock(&self, _tenant: &str, user_id: &str, until: Instant) -> Vec<Step> {
        let suspend = self.client.post(self.user(user_id, "/lifecycle/suspend"));
        let suspended = self.call(suspend, until, read_suspend).await;
        let clear = self
            .client
            .delete(self.user(user_id, "/sessions?oauthTokens=true"));
        let cleared = self.call(clear, until, read_sessions).await;
        vec![
            Step {
                name: "suspend",
                does: "suspended the user",
                result: suspended,
            },
            Step {
                name: "clear_sessions",
                does: "ended their sessions and revoked their tokens",
                result: cleared,
            },
        ]
    }
}

/// Okta's error answer: its code (`E0000007`) and the first cause's text, which names the problem, never data.
fn okta_error(status: u16, body: &[u8]) -> String {
    let error: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = error["errorCode"].as_str().unwrap_or("no error code");
    let cause = error["errorCauses"][0]["errorSummary"]
        .as_str()
        .or(error["errorSummary"].as_str())
        .map(|s| crate::text::one_line(s, 120));
    match cause {
        Some(cause) => format!("Okta answered {status} {code}: {cause}"),
        None => format!("Okta answered {status} {code}"),
    }
}

fn read_okta(status: u16, body: &[u8]) -> Result<(), DeliveryError> {
    if status == 404 {
        return Err(DeliveryError::new(Kind::Rejected, okta_error(status, body)));
    }
    DeliveryError::of_status(status, SERVICE)
        .map_err(|e| DeliveryError::new(e.kind, okta_error(status, body)))
}

/// `lifecycle/suspend`: 200 once suspended. A 400 means the user is not active (already suspended, deactivated).
pub fn read_suspend(status: u16, body: &[u8]) -> Result<(), DeliveryError> {
    read_okta(status, body)
}

/// `DELETE …/sessions`: 204 once cleared.
pub fn read_sessions(status: u16, body: &[u8]) -> Result<(), DeliveryError> {
    read_okta(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_the_users_api() {
        assert!(read_suspend(200, b"{}").is_ok());
        assert!(read_sessions(204, b"").is_ok());
        let not_active = br#"{"errorCode":"E0000001","errorSummary":"Api validation failed: suspendUser","errorLink":"E0000001","errorId":"oae1","errorCauses":[{"errorSummary":"Cannot suspend a user that is not active"}]}"#;
        let e = read_suspend(400, not_active).unwrap_err();
        assert_eq!(e.kind, Kind::Rejected);
        assert_eq!(
            e.detail,
            "Okta answered 400 E0000001: Cannot suspend a user that is not active"
        );
        let kind = |status, body: &[u8]| read_sessions(status, body).unwrap_err().kind;
        assert_eq!(kind(401, br#"{"errorCode":"E0000011"}"#), Kind::Credentials);
        assert_eq!(kind(403, br#"{"errorCode":"E0000006"}"#), Kind::Credentials);
        assert_eq!(kind(404, br#"{"errorCode":"E0000007"}"#), Kind::Rejected);
        assert_eq!(kind(429, br#"{"errorCode":"E0000047"}"#), Kind::Throttled);
        assert_eq!(kind(502, b"<html>"), Kind::Service);
        assert_eq!(
            read_sessions(502, b"<html>").unwrap_err().detail,
            "Okta answered 502 no error code"
        );
    }

    #[test]
    fn ids_stay_in_their_segment() {
        let org = OrgUrl::parse("https://example.okta.com/").unwrap();
        let lock = OktaLock::new(org, SecretString::from("t")).unwrap();
        assert_eq!(
            lock.user("00u1/../x", "/lifecycle/suspend"),
            "https://example.okta.com/api/v1/users/00u1%2F%2E%2E%2Fx/lifecycle/suspend"
        );
    }
}
