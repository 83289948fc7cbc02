//! "This wasn't me" links: on when `REPORT_URL_BASE` and the key (`REPORT_LINK_SECRET` / `_SECRET`) are set; with
//! `REPORT_ACTION=lock`, what locks an account (`WSO2_SCIM_URL` + token, Okta's org and API token).

use secrecy::ExposeSecret;

use super::ConfigError;
use super::OktaSettings;
use super::reader::Reader;
use crate::report::lock::wso2_scim::ScimUrl;
use crate::report::settings::DEFAULT_TTL;
use crate::report::token::MIN_KEY_BYTES;
use crate::report::{ReportAction, ReportSettings, ReportUrlBase, ScimSettings};
use crate::secrets::SecretSource;

/// `REPORT_URL_BASE`, `REPORT_LINK_SECRET` / `_SECRET`, `REPORT_LINK_TTL_SECS`, `REPORT_ACTION`, `WSO2_SCIM_URL`,
/// `WSO2_SCIM_TOKEN` / `_SECRET`. Half a configuration (a base without a key, a key without a base) is refused:
/// it is a mistake, not a way to turn reports off.
pub(super) fn settings(
    r: &Reader<'_>,
    okta: &OktaSettings,
) -> Result<Option<ReportSettings>, ConfigError> {
    let base = r.parsed("REPORT_URL_BASE", ReportUrlBase::parse)?;
    let secret = r.secret("REPORT_LINK_SECRET", "REPORT_LINK_SECRET_SECRET")?;
    if let Some(SecretSource::Inline(key)) = &secret
        && key.expose_secret().len() < MIN_KEY_BYTES
    {
        return Err(ConfigError::new(
            "REPORT_LINK_SECRET",
            "must be at least 32 bytes long (e.g. the output of `openssl rand -hex 32`)",
        ));
    }
    let default_ttl = DEFAULT_TTL.as_secs();
    let ttl = r.number(
        "REPORT_LINK_TTL_SECS",
        default_ttl,
        300..=2_592_000,
        "seconds",
    )?;
    let action = r.choice(
        "REPORT_ACTION",
        ReportAction::Alert,
        &[("alert", ReportAction::Alert), ("lock", ReportAction::Lock)],
    )?;
    let wso2_scim = scim(r)?;
    let (url_base, secret) = match (base, secret) {
        (Some(base), Some(secret)) => (base, secret),
        (Some(_), None) => {
            return Err(ConfigError::new(
                "REPORT_LINK_SECRET",
                "is required with REPORT_URL_BASE (or set REPORT_LINK_SECRET_SECRET): report links are signed with it",
            ));
        }
        (None, Some(_)) => {
            return Err(ConfigError::new(
                "REPORT_URL_BASE",
                "is required with REPORT_LINK_SECRET: where people's browsers reach this service, e.g. \
                 https://guard.example.com",
            ));
        }
        (None, None) if action == ReportAction::Lock => {
            return Err(ConfigError::new(
                "REPORT_ACTION",
                "lock needs reports on: set REPORT_URL_BASE and REPORT_LINK_SECRET",
            ));
        }
        (None, None) => return Ok(None),
    };
    if action == ReportAction::Lock {
        lock_needs_a_lock(okta, wso2_scim.is_some())?;
    }
    Ok(Some(ReportSettings {
        url_base,
        secret,
        ttl: std::time::Duration::from_secs(ttl),
        action,
        wso2_scim,
    }))
}

/// `WSO2_SCIM_URL` and its token, both or neither.
fn scim(r: &Reader<'_>) -> Result<Option<ScimSettings>, ConfigError> {
    let url = r.parsed("WSO2_SCIM_URL", ScimUrl::parse)?;
    let token = r.secret("WSO2_SCIM_TOKEN", "WSO2_SCIM_TOKEN_SECRET")?;
    match (url, token) {
        (Some(url), Some(token)) => Ok(Some(ScimSettings { url, token })),
        (Some(_), None) => Err(ConfigError::new(
            "WSO2_SCIM_TOKEN",
            "is required with WSO2_SCIM_URL (or set WSO2_SCIM_TOKEN_SECRET): a bearer token allowed to update users",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            "WSO2_SCIM_URL",
            "is required with WSO2_SCIM_TOKEN: the server, e.g. https://api.asgardeo.io/t/<org>",
        )),
        (None, None) => Ok(None),
    }
}

/// `REPORT_ACTION=lock` must be able to lock the accounts of every source that sends notices: Okta's when its hook
/// is on, else WSO2's (the action is always on).
fn lock_needs_a_lock(okta: &OktaSettings, scim: bool) -> Result<(), ConfigError> {
    let okta_lock = okta.org_url.is_some() && okta.api_token.is_some();
    if okta.hook_auth.is_some() && !okta_lock {
        return Err(ConfigError::new(
            "OKTA_API_TOKEN",
            "is required with REPORT_ACTION=lock and the Okta hook on (or set OKTA_API_TOKEN_SECRET, with \
             OKTA_ORG_URL): reported Okta accounts are suspended with it",
        ));
    }
    if okta.hook_auth.is_none() && !scim {
        return Err(ConfigError::new(
            "WSO2_SCIM_URL",
            "is required with REPORT_ACTION=lock (with WSO2_SCIM_TOKEN): reported accounts are locked through SCIM2",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::report::ReportAction;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn config(vars: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        crate::config::from_pairs(vars)
    }

    #[test]
    fn reports_are_off_unless_both_are_set() {
        assert!(config(&[]).unwrap().report.is_none());
        let on = config(&[
            ("REPORT_URL_BASE", "https://guard.example.com/"),
            ("REPORT_LINK_SECRET", KEY),
        ])
        .unwrap()
        .report
        .unwrap();
        assert_eq!(on.url_base.as_str(), "https://guard.example.com");
        assert_eq!(on.ttl.as_secs(), 604_800);
        assert_eq!(on.action, ReportAction::Alert);
        let err = |vars: &[(&str, &str)]| config(vars).unwrap_err().var;
        assert_eq!(
            err(&[("REPORT_URL_BASE", "https://g.example")]),
            "REPORT_LINK_SECRET"
        );
        assert_eq!(err(&[("REPORT_LINK_SECRET", KEY)]), "REPORT_URL_BASE");
        assert_eq!(err(&[("REPORT_ACTION", "lock")]), "REPORT_ACTION");
        let base = ("REPORT_URL_BASE", "https://g.example");
        assert_eq!(
            err(&[base, ("REPORT_LINK_SECRET", "short")]),
            "REPORT_LINK_SECRET"
        );
        let key = ("REPORT_LINK_SECRET", KEY);
        assert_eq!(
            err(&[base, key, ("REPORT_LINK_TTL_SECS", "10")]),
            "REPORT_LINK_TTL_SECS"
        );
        assert_eq!(
            err(&[base, key, ("REPORT_ACTION", "block")]),
            "REPORT_ACTION"
        );
        assert_eq!(
            err(&[("REPORT_URL_BASE", "http://g.example"), key]),
            "REPORT_URL_BASE"
        );
        let stored = config(&[
            base,
            ("REPORT_LINK_SECRET_SECRET", "arn:aws:secretsmanager:x"),
        ]);
        assert!(stored.unwrap().report.is_some());
    }

    #[test]
    fn a_lock_needs_something_to_lock_with() {
        let on = [
            ("REPORT_URL_BASE", "https://g.example"),
            ("REPORT_LINK_SECRET", KEY),
            ("REPORT_ACTION", "lock"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = on.to_vec();
            vars.extend_from_slice(extra);
            config(&vars)
        };
        assert_eq!(with(&[]).unwrap_err().var, "WSO2_SCIM_URL");
        let scim = [
            ("WSO2_SCIM_URL", "https://api.asgardeo.io/t/example"),
            ("WSO2_SCIM_TOKEN", "scim-token"),
        ];
        let c = with(&scim).unwrap().report.unwrap();
        assert_eq!(c.action, ReportAction::Lock);
        assert!(c.wso2_scim.is_some());
        assert_eq!(with(&scim[..1]).unwrap_err().var, "WSO2_SCIM_TOKEN");
        assert_eq!(with(&scim[1..]).unwrap_err().var, "WSO2_SCIM_URL");
        let hook = ("OKTA_HOOK_AUTH", "okta-secret");
        assert_eq!(with(&[hook]).unwrap_err().var, "OKTA_API_TOKEN");
        let okta = [
            hook,
            ("OKTA_ORG_URL", "https://example.okta.com"),
            ("OKTA_API_TOKEN", "ssws"),
        ];
        assert!(with(&okta).is_ok(), "Okta alone");
    }
}
