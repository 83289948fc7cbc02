//! WSO2 Identity Server / Asgardeo: a reported account is locked through SCIM2, `PATCH /scim2/Users/{id}` setting
//! `accountLocked` in the `urn:scim:wso2:schema` extension (the documented way to lock a user), with a bearer
//! token whose application may update users (`internal_user_mgt_update`).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use percent_encoding::utf8_percent_encode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::{AccountLock, CALL_TIMEOUT, ID_SEGMENT, Step};
use crate::upstream::{self, DeliveryError, DeliveryErrorKind as Kind};

/// An answer larger than this is not a user.
const MAX_ANSWER_BYTES: usize = 256 * 1024;
const SERVICE: &str = "WSO2 SCIM2";
/// Where the tenant's name goes in `WSO2_SCIM_URL`, for one deployment serving several tenants.
const TENANT_PLACEHOLDER: &str = "{tenant}";
const WSO2_SCHEMA: &str = "urn:scim:wso2:schema";

/// `WSO2_SCIM_URL`: the server (`https://localhost:9443`, `https://api.asgardeo.io/t/<org>`), perhaps with a
/// `{tenant}` placeholder; `/scim2/Users/{id}` is added (a URL already ending in `/scim2` is taken as it is).
/// https, or plain http to loopback alone (a local stub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUrl(String);

impl ScimUrl {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let probe = raw.replace(TENANT_PLACEHOLDER, "tenant");
        let url = reqwest::Url::parse(&probe).map_err(|_| "is not a URL")?;
        if url.cannot_be_a_base() || url.host_str().is_none() {
            return Err("is not a URL");
        }
        if !upstream::https_or_loopback(&url) {
            return Err(
                "must be an https:// URL (your WSO2 server or https://api.asgardeo.io/t/<org>)",
            );
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must have no query or fragment: /scim2/Users/<id> is added to it");
        }
        if raw.split(TENANT_PLACEHOLDER).count() > 2 {
            return Err("may hold the {tenant} placeholder once");
        }
        let base = raw.trim_end_matches('/');
        let base = base.strip_suffix("/scim2").unwrap_or(base);
        Ok(ScimUrl(base.to_owned()))
    }

    /// A read of the users' collection (one user), for `profile-guard check`; `None` when the URL holds the
    /// `{tenant}` placeholder, which only a reported change fills in.
    pub fn users_read(&self) -> Option<String> {
        (!self.0.contains(TENANT_PLACEHOLDER)).then(|| format!("{}/scim2/Users?count=1", self.0))
    }

    /// The user's resource, the tenant and the id each percent-encoded into their one segment.
    fn user(&self, tenant: &str, id: &str) -> String {
        let tenant = utf8_percent_encode(tenant, ID_SEGMENT).to_string();
        let base = self.0.replace(TENANT_PLACEHOLDER, &tenant);
        let id = utf8_percent_encode(id, ID_SEGMENT);
        format!("{base}/scim2/Users/{id}")
    }
}

/// The SCIM2 client, built once at start-up.
pub struct ScimLock {
    client: reqwest::Client,
    url: ScimUrl,
    token: SecretString,
}

impl ScimLock {
    pub fn new(url: ScimUrl, token: SecretString) -> Result<Self, reqwest::Error> {
        Ok(ScimLock {
            client: upstream::client(CALL_TIMEOUT)?,
            url,
            token,
        })
    }
}

/// The PATCH request's body: one replace of the WSO2 extension's `accountLocked`.
pub fn lock_request() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {WSO2_SCHEMA: {"accountLocked": true}}}]
    })
}

#[async_trait]
impl AccountLock for ScimLock {
    async fn lock(&self, tenant: &str, user_id: &str, until: Instant) -> Vec<Step> {
        let left = until.saturating_duration_since(Instant::now());
        let result = match left.min(CALL_TIMEOUT) {
            d if d < Duration::from_millis(50) => Err(DeliveryError::new(
                Kind::Timeout,
                "no time was left to call WSO2 SCIM2",
            )),
            timeout => self.patch(tenant, user_id, timeout).await,
        };
        vec![Step {
            name: "lock",
            does: "locked the account (SCIM2 accountLocked)",
            result,
        }]
    }
}

impl ScimLock {
    async fn patch(
        &self,
        tenant: &str,
        user_id: &str,
        timeout: Duration,
    ) -> Result<(), DeliveryError> {
        let request = self
            .client
            .patch(self.url.user(tenant, user_id))
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/scim+json")
            .header(reqwest::header::ACCEPT, "application/scim+json")
            .header(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", self.token.expose_secret()),
            )
            .body(lock_request().to_string());
        let (status, body) =
            upstream::exchange(request, timeout, MAX_ANSWER_BYTES, SERVICE).await?;
        read_answer(status, &body)
    }
}

/// Reads SCIM2's answer: the user as now stored (200), or no content (204); an error otherwise. A user that the
/// answer says is still not locked is a failure too.
pub fn read_answer(status: u16, body: &[u8]) -> Result<(), DeliveryError> {
    if status == 404 {
        return Err(DeliveryError::new(
            Kind::Rejected,
            "WSO2 SCIM2 has no such user (404)",
        ));
    }
    DeliveryError::of_status(status, SERVICE)?;
    let user: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let locked = &user[WSO2_SCHEMA]["accountLocked"];
    if *locked == json!(false) || *locked == json!("false") {
        return Err(DeliveryError::new(
            Kind::Rejected,
            "WSO2 SCIM2 answered, but the user is not locked",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_url_keeps_each_part_in_its_segment() {
        let url = ScimUrl::parse("https://api.asgardeo.io/t/{tenant}/").unwrap();
        assert_eq!(
            url.user("my org", "a/../b"),
            "https://api.asgardeo.io/t/my%20org/scim2/Users/a%2F%2E%2E%2Fb"
        );
        let url = ScimUrl::parse("https://is.example.com:9443/scim2").unwrap();
        assert_eq!(
            url.user("carbon.super", "57b2"),
            "https://is.example.com:9443/scim2/Users/57b2"
        );
        assert!(ScimUrl::parse("http://127.0.0.1:9443").is_ok());
        for bad in [
            "http://is.example.com",
            "is.example.com",
            "https://is.example.com/?x=1",
            "https://{tenant}.x/{tenant}",
        ] {
            assert!(ScimUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_of_scim2() {
        assert!(read_answer(200, br#"{"urn:scim:wso2:schema":{"accountLocked":"true"}}"#).is_ok());
        assert!(read_answer(204, b"").is_ok());
        assert!(read_answer(200, b"{}").is_ok());
        let kind = |status, body: &[u8]| read_answer(status, body).unwrap_err().kind;
        assert_eq!(
            kind(200, br#"{"urn:scim:wso2:schema":{"accountLocked":false}}"#),
            Kind::Rejected
        );
        assert_eq!(kind(404, b""), Kind::Rejected);
        assert_eq!(kind(401, b""), Kind::Credentials);
        assert_eq!(kind(403, b""), Kind::Credentials);
        assert_eq!(kind(429, b""), Kind::Throttled);
        assert_eq!(kind(500, b""), Kind::Service);
    }
}
