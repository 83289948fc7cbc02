//! The Okta Event Hook route: off unless its authorization value is set.

use super::ConfigError;
use super::reader::Reader;
use crate::auth::ApiKeyHeader;
use crate::okta::AttributeList;
use crate::okta_users::OrgUrl;
use crate::secrets::SecretSource;

/// The Okta route's settings; `None` of them matter unless `hook_auth` is set.
#[derive(Debug, Clone)]
pub struct OktaSettings {
    /// `OKTA_HOOK_AUTH` / `OKTA_HOOK_AUTH_SECRET`: the value Okta sends in the authorization header.
    pub hook_auth: Option<SecretSource>,
    /// `OKTA_HOOK_AUTH_HEADER`: the header it comes in (Okta's `authScheme.key`).
    pub auth_header: ApiKeyHeader,
    /// `OKTA_WATCHED_ATTRIBUTES`: changes the person is told about.
    pub watched: AttributeList,
    /// `OKTA_ALERT_ATTRIBUTES`: changes the security team is alerted about.
    pub alerted: AttributeList,
    /// `OKTA_ORG_URL`: the org, for the Users API and to name it in messages.
    pub org_url: Option<OrgUrl>,
    /// `OKTA_API_TOKEN` / `OKTA_API_TOKEN_SECRET`: reads a user's address when their login is not one.
    pub api_token: Option<SecretSource>,
}

/// `OKTA_HOOK_AUTH` / `_SECRET`, `OKTA_HOOK_AUTH_HEADER`, `OKTA_WATCHED_ATTRIBUTES`, `OKTA_ALERT_ATTRIBUTES`,
/// `OKTA_ORG_URL`, `OKTA_API_TOKEN` / `_SECRET`.
pub(super) fn settings(r: &Reader<'_>) -> Result<OktaSettings, ConfigError> {
    let hook_auth = r.secret("OKTA_HOOK_AUTH", "OKTA_HOOK_AUTH_SECRET")?;
    let auth_header = r
        .parsed("OKTA_HOOK_AUTH_HEADER", ApiKeyHeader::parse)?
        .unwrap_or_else(ApiKeyHeader::authorization);
    let watched = r
        .parsed("OKTA_WATCHED_ATTRIBUTES", AttributeList::parse)?
        .unwrap_or_else(AttributeList::defaults);
    let alerted = r
        .parsed("OKTA_ALERT_ATTRIBUTES", AttributeList::parse)?
        .unwrap_or_default();
    let org_url = r.parsed("OKTA_ORG_URL", OrgUrl::parse)?;
    let api_token = r.secret("OKTA_API_TOKEN", "OKTA_API_TOKEN_SECRET")?;
    if api_token.is_some() && org_url.is_none() {
        return Err(ConfigError::new(
            "OKTA_ORG_URL",
            "is required with OKTA_API_TOKEN: the org the token belongs to, e.g. https://example.okta.com",
        ));
    }
    Ok(OktaSettings {
        hook_auth,
        auth_header,
        watched,
        alerted,
        org_url,
        api_token,
    })
}
