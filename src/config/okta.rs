//! The Okta Event Hook route (off unless its authorization value is set) and the catch-up from Okta's System Log
//! (off unless its interval is set).

use std::time::Duration;

use super::ConfigError;
use super::reader::Reader;
use crate::auth::ApiKeyHeader;
use crate::catchup::CatchupSettings;
use crate::idempotency::IdempotencySettings;
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
    /// `OKTA_API_TOKEN` / `OKTA_API_TOKEN_SECRET`: reads a user's address when their login is not one, and the
    /// System Log for the catch-up.
    pub api_token: Option<SecretSource>,
    /// `OKTA_CATCHUP_INTERVAL_SECS`, `OKTA_CATCHUP_LOOKBACK_SECS`: the catch-up from the System Log, when on.
    pub catchup: Option<CatchupSettings>,
}

/// The first run reads an hour back unless told otherwise.
const DEFAULT_LOOKBACK_SECS: u64 = 3600;

/// `OKTA_HOOK_AUTH` / `_SECRET`, `OKTA_HOOK_AUTH_HEADER`, `OKTA_WATCHED_ATTRIBUTES`, `OKTA_ALERT_ATTRIBUTES`,
/// `OKTA_ORG_URL`, `OKTA_API_TOKEN` / `_SECRET`, `OKTA_CATCHUP_INTERVAL_SECS`, `OKTA_CATCHUP_LOOKBACK_SECS`.
pub(super) fn settings(
    r: &Reader<'_>,
    idempotency: &IdempotencySettings,
    in_lambda: bool,
) -> Result<OktaSettings, ConfigError> {
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
    let reads_log = org_url.is_some() && api_token.is_some();
    let catchup = catchup(r, reads_log, idempotency, in_lambda)?;
    Ok(OktaSettings {
        hook_auth,
        auth_header,
        watched,
        alerted,
        org_url,
        api_token,
        catchup,
    })
}

/// The catch-up: it reads the log with the org and token, never further back than a sent message is remembered,
/// and in Lambda keeps its cursor, its lease and what the hook sent in the shared table.
fn catchup(
    r: &Reader<'_>,
    reads_log: bool,
    idempotency: &IdempotencySettings,
    in_lambda: bool,
) -> Result<Option<CatchupSettings>, ConfigError> {
    let lookback = r.number(
        "OKTA_CATCHUP_LOOKBACK_SECS",
        DEFAULT_LOOKBACK_SECS,
        60..=7 * 86400,
        "seconds",
    )?;
    if !r.is_set("OKTA_CATCHUP_INTERVAL_SECS") {
        return Ok(None);
    }
    let interval = r.number("OKTA_CATCHUP_INTERVAL_SECS", 0, 10..=86400, "seconds")?;
    const VAR: &str = "OKTA_CATCHUP_INTERVAL_SECS";
    if !reads_log {
        return Err(ConfigError::new(
            VAR,
            "needs OKTA_ORG_URL and OKTA_API_TOKEN (or OKTA_API_TOKEN_SECRET): the System Log is read with them",
        ));
    }
    if in_lambda && idempotency.table.is_none() {
        return Err(ConfigError::new(
            VAR,
            "needs IDEMPOTENCY_TABLE in Lambda: the cursor, the lease and the messages the hook sent are kept there",
        ));
    }
    let remembered = idempotency.event_ttl.as_secs();
    if lookback > remembered {
        return Err(ConfigError::new(
            "OKTA_CATCHUP_LOOKBACK_SECS",
            format!(
                "{lookback} is longer than IDEMPOTENCY_EVENT_TTL_SECS ({remembered}): an event older than what is \
                 remembered as sent could be sent again"
            ),
        ));
    }
    Ok(Some(CatchupSettings {
        interval: Duration::from_secs(interval),
        lookback: Duration::from_secs(lookback),
    }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::{Config, FunctionRole};

    fn config(vars: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        crate::config::from_pairs(vars)
    }

    const ORG: (&str, &str) = ("OKTA_ORG_URL", "https://example.okta.com");
    const TOKEN: (&str, &str) = ("OKTA_API_TOKEN", "00abc");

    #[test]
    fn the_catch_up_is_off_unless_its_interval_is_set() {
        assert_eq!(config(&[ORG, TOKEN]).unwrap().okta.catchup, None);
        let on = config(&[ORG, TOKEN, ("OKTA_CATCHUP_INTERVAL_SECS", "300")]).unwrap();
        let settings = on.okta.catchup.unwrap();
        assert_eq!(settings.interval, Duration::from_secs(300));
        assert_eq!(settings.lookback, Duration::from_secs(3600));
    }

    #[test]
    fn the_catch_up_refuses_what_could_miss_or_repeat_a_message() {
        let var = |vars: &[(&str, &str)]| config(vars).unwrap_err().var;
        let on = ("OKTA_CATCHUP_INTERVAL_SECS", "300");
        assert_eq!(var(&[on]), "OKTA_CATCHUP_INTERVAL_SECS", "no org, no token");
        assert_eq!(var(&[ORG, on]), "OKTA_CATCHUP_INTERVAL_SECS");
        assert_eq!(
            var(&[ORG, TOKEN, ("OKTA_CATCHUP_INTERVAL_SECS", "5")]),
            "OKTA_CATCHUP_INTERVAL_SECS"
        );
        let long = ("OKTA_CATCHUP_LOOKBACK_SECS", "7200");
        let short_memory = ("IDEMPOTENCY_EVENT_TTL_SECS", "3600");
        let err = config(&[ORG, TOKEN, on, long, short_memory]).unwrap_err();
        assert_eq!(err.var, "OKTA_CATCHUP_LOOKBACK_SECS");
        assert!(
            err.problem.contains("IDEMPOTENCY_EVENT_TTL_SECS (3600)"),
            "{err}"
        );
        assert!(config(&[ORG, TOKEN, on, long]).is_ok());
    }

    #[test]
    fn in_lambda_the_catch_up_needs_the_table_and_its_function_needs_the_catch_up() {
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("ALERT_SENDER", "guard@example.com"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
            ("AWS_REGION", "eu-west-1"),
            ("FUNCTION_ROLE", "okta-catchup"),
            ORG,
            TOKEN,
        ];
        let err = config(&lambda).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OKTA_CATCHUP_INTERVAL_SECS: is required with FUNCTION_ROLE=okta-catchup"
        );
        let mut on = lambda.to_vec();
        on.push(("OKTA_CATCHUP_INTERVAL_SECS", "300"));
        assert!(
            config(&on)
                .unwrap_err()
                .problem
                .contains("IDEMPOTENCY_TABLE")
        );
        on.push(("IDEMPOTENCY_TABLE", "pg-once"));
        let c = config(&on).unwrap();
        assert_eq!(c.queue.role, FunctionRole::OktaCatchup);
        assert!(c.okta.catchup.is_some());
    }
}
