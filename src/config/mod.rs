//! The whole configuration, read once from the environment and validated before the service starts. Only
//! start-up reads it: each section below builds the settings type of the module it configures, and the rules that
//! span sections live in `rules`.
//!
//! Every error names the variable and what is wrong with it, so a bad deployment fails at init with a line an
//! admin can act on instead of misbehaving on the first profile update.

mod alerts;
mod aws;
mod directory;
mod email;
mod endpoint;
mod idempotency;
mod notice;
mod okta;
mod queue;
mod reader;
mod report;
mod rules;
mod wso2_webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use aws::AwsSettings;
pub use okta::OktaSettings;
pub use queue::{FunctionRole, QueueSettings};

use crate::auth::AuthSettings;
use crate::claims::ClaimSet;
use crate::directory::DirectorySettings;
use crate::idempotency::IdempotencySettings;
use crate::notify::channels::EmailTransport;
use crate::notify::settings::AlertSettings;
use crate::notify::settings::NoticeSettings;
use crate::policy::{FailureModes, Limits};
use crate::report::ReportSettings;
use crate::secrets::SecretSource;
use reader::Reader;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        ConfigError {
            var,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Set when running inside AWS Lambda (`AWS_LAMBDA_RUNTIME_API` is present).
    pub in_lambda: bool,
    /// `LISTEN_ADDR`: the local server's address.
    pub listen_addr: SocketAddr,
    pub directory: DirectorySettings,
    /// `SENSITIVE_CLAIMS`: changes to these raise the security alert.
    pub sensitive_claims: ClaimSet,
    /// How e-mail leaves: SES or the local log outbox. Used by alerts and user notices.
    pub email: EmailTransport,
    pub alert: AlertSettings,
    pub notice: NoticeSettings,
    pub idempotency: IdempotencySettings,
    pub auth: AuthSettings,
    pub limits: Limits,
    pub failure_modes: FailureModes,
    /// `DEADLINE_MS`: the whole call, upstream calls included, ends within this.
    pub deadline: Duration,
    /// The Okta Event Hook route (`/hooks/okta`), on when `OKTA_HOOK_AUTH` is set.
    pub okta: OktaSettings,
    /// `WSO2_WEBHOOK_SECRET` / `_SECRET`: turns on `/hooks/wso2` (WSO2 / Asgardeo webhooks).
    pub wso2_webhook_secret: Option<SecretSource>,
    /// `WSO2_WEBSUB_ALLOW_UNSUBSCRIBE`: whether Asgardeo's hub may unsubscribe `/hooks/wso2` (off by default).
    pub wso2_websub_allow_unsubscribe: bool,
    /// `CHECK_DEPARTMENT`: a department `profile-guard check` expects the directory to know.
    pub check_department: Option<String>,
    /// Queued alerts and the consumer.
    pub queue: QueueSettings,
    /// "This wasn't me" links in notices, on when `REPORT_URL_BASE` and `REPORT_LINK_SECRET` are set.
    pub report: Option<ReportSettings>,
    /// `TEMPLATE_DIR`: message templates that override the built-in ones.
    pub template_dir: Option<PathBuf>,
    pub aws: AwsSettings,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`; an empty value counts as unset. Sections are read in a fixed
    /// order, so a configuration with several mistakes always reports the same one first.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let r = Reader::new(&lookup);
        let in_lambda = r.is_set("AWS_LAMBDA_RUNTIME_API");
        let listen_addr = endpoint::listen_addr(&r)?;
        let limits = endpoint::limits(&r)?;
        let deadline = endpoint::deadline(&r)?;
        let directory = directory::settings(&r)?;
        let sensitive_claims = alerts::sensitive_claims(&r)?;
        let mut alert = alerts::settings(&r)?;
        let notice = notice::settings(&r, &sensitive_claims)?;
        alert.recipients = alerts::recipients(&r, in_lambda, alert.channels)?;
        let email = email::transport(&r, in_lambda, &alert, &notice)?;
        let idempotency = idempotency::settings(&r)?;
        let queue = queue::settings(&r)?;
        // The consumer function takes no HTTP calls: it needs no caller authentication.
        let serves_http = in_lambda && queue.role == FunctionRole::Api;
        let auth = endpoint::auth(&r, serves_http)?;
        let failure_modes = endpoint::failure_modes(&r)?;
        let okta = okta::settings(&r, &idempotency, in_lambda)?;
        rules::catchup_role_needs_interval(queue.role, okta.catchup.is_some())?;
        let report = report::settings(&r, &okta)?;
        let table = idempotency.table.as_deref();
        let wso2_webhook_secret = wso2_webhook::secret(&r, &notice, in_lambda, table)?;
        let wso2_websub_allow_unsubscribe = wso2_webhook::allow_unsubscribe(&r)?;
        let aws = aws::settings(&r)?;
        rules::table_needs_region(idempotency.table.as_deref(), aws.region.as_deref())?;
        rules::queue_needs_region(queue.url.as_deref(), aws.region.as_deref())?;
        Ok(Config {
            in_lambda,
            listen_addr,
            directory,
            sensitive_claims,
            email,
            alert,
            notice,
            idempotency,
            auth,
            limits,
            failure_modes,
            deadline,
            okta,
            wso2_webhook_secret,
            wso2_websub_allow_unsubscribe,
            check_department: r.get("CHECK_DEPARTMENT"),
            queue,
            report,
            template_dir: r.get("TEMPLATE_DIR").map(PathBuf::from),
            aws,
        })
    }
}

/// A configuration from exactly these variables, for the tests of each section.
#[cfg(test)]
pub(crate) fn from_pairs(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::AuthMode;
    use crate::notify::settings::NoticeMode;

    fn config(vars: &[(&str, &str)]) -> Result<Config, crate::config::ConfigError> {
        crate::config::from_pairs(vars)
    }

    #[test]
    fn defaults_run_locally_with_no_aws_account() {
        let c = config(&[]).unwrap();
        assert!(!c.in_lambda);
        assert_eq!(c.listen_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.email, EmailTransport::LogOutbox);
        assert_eq!(c.notice.mode, NoticeMode::All);
        assert_eq!(c.auth.mode, AuthMode::None);
        assert_eq!(c.deadline, Duration::from_millis(2500));
        assert!(c.alert.channels.email && !c.alert.channels.slack);
        assert!(c.sensitive_claims.contains("http://wso2.org/claims/mobile"));
        match c.directory {
            DirectorySettings::Embedded { departments } => {
                assert_eq!(departments, ["Engineering", "HR", "Sales", "Finance"])
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn lambda_requires_sender_and_recipients() {
        let err = config(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]).unwrap_err();
        assert_eq!(err.var, "SECURITY_TEAM_EMAILS");
        let err = config(&[
            ("AWS_LAMBDA_RUNTIME_API", "x"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "ALERT_SENDER");
        assert!(err.to_string().starts_with("ALERT_SENDER: "));
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "x"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
            ("ALERT_SENDER", "guard@example.com"),
            ("AWS_REGION", "eu-west-1"),
        ];
        assert_eq!(
            config(&lambda).unwrap_err().var,
            "AUTH_MODE",
            "no silent open endpoint in Lambda"
        );
        let mut open = lambda.to_vec();
        open.push(("AUTH_MODE", "none"));
        assert!(config(&open).is_ok());
        let mut keyed = lambda.to_vec();
        keyed.push(("AUTH_MODE", "api-key"));
        assert_eq!(config(&keyed).unwrap_err().var, "AUTH_CREDENTIAL");
        keyed.push((
            "AUTH_CREDENTIAL_SECRET",
            "arn:aws:secretsmanager:eu-west-1:1:secret:pg",
        ));
        assert!(config(&keyed).is_ok());
    }

    #[test]
    fn slack_channel_and_notice_settings() {
        let c = config(&[(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/X",
        )])
        .unwrap();
        assert!(c.alert.channels.email && c.alert.channels.slack);
        let c = config(&[
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T/B/X",
            ),
            ("ALERT_CHANNELS", "slack"),
            ("USER_NOTICE", "others"),
            ("USER_NOTICE_CLAIMS", "mobile"),
            ("USER_NOTICE_NEW_ADDRESS", "true"),
        ])
        .unwrap();
        assert!(!c.alert.channels.email && c.alert.channels.slack);
        assert_eq!(c.notice.mode, NoticeMode::Others);
        assert!(c.notice.claims.contains("http://wso2.org/claims/mobile"));
        assert!(
            !c.notice
                .claims
                .contains("http://wso2.org/claims/department")
        );
        assert!(c.notice.new_address);
        assert_eq!(
            config(&[("ALERT_CHANNELS", "slack")]).unwrap_err().var,
            "SLACK_WEBHOOK_URL"
        );
        assert_eq!(
            config(&[("SLACK_WEBHOOK_URL", "http://hooks.slack.com/x")])
                .unwrap_err()
                .var,
            "SLACK_WEBHOOK_URL"
        );
        assert_eq!(
            config(&[
                ("SLACK_WEBHOOK_URL", "https://h/x"),
                ("SLACK_WEBHOOK_URL_SECRET", "s")
            ])
            .unwrap_err()
            .var,
            "SLACK_WEBHOOK_URL_SECRET"
        );
    }

    #[test]
    fn slack_direct_message_notice_settings() {
        let c = config(&[]).unwrap();
        assert!(c.notice.channels.email && !c.notice.channels.slack);
        assert!(c.notice.slack_bot_token.is_none());
        let c = config(&[
            ("USER_NOTICE_CHANNELS", "email, Slack"),
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("SLACK_API_URL", "http://127.0.0.1:9/api"),
        ])
        .unwrap();
        assert!(c.notice.channels.email && c.notice.channels.slack);
        assert!(c.notice.slack_bot_token.is_some());
        let c = config(&[
            ("USER_NOTICE_CHANNELS", "slack"),
            (
                "SLACK_BOT_TOKEN_SECRET",
                "arn:aws:secretsmanager:eu-west-1:1:secret:bot",
            ),
        ])
        .unwrap();
        assert!(!c.notice.channels.email && c.notice.channels.slack);
        let err = config(&[("USER_NOTICE_CHANNELS", "slack")]).unwrap_err();
        assert_eq!(err.var, "SLACK_BOT_TOKEN");
        assert_eq!(
            err.to_string(),
            "SLACK_BOT_TOKEN: is required when USER_NOTICE_CHANNELS includes slack \
             (or set SLACK_BOT_TOKEN_SECRET)"
        );
        for (var, value) in [
            ("USER_NOTICE_CHANNELS", "email,sms"),
            ("USER_NOTICE_CHANNELS", " , "),
            ("SLACK_API_URL", "http://slack.com/api"),
            ("SLACK_API_URL", "slack"),
        ] {
            let err = config(&[(var, value), ("SLACK_BOT_TOKEN", "x")]).unwrap_err();
            assert_eq!(err.var, var, "{var}={value} gave {err}");
        }
        let err = config(&[("SLACK_BOT_TOKEN", "x"), ("SLACK_BOT_TOKEN_SECRET", "s")]).unwrap_err();
        assert_eq!(err.var, "SLACK_BOT_TOKEN_SECRET");
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&str, &str)] = &[
            ("LISTEN_ADDR", "localhost"),
            ("DEPARTMENT_API_URL", "http://dir.example.com/departments"),
            ("DEPARTMENT_API_URL", "ftp://dir.example.com/{department}"),
            ("SENSITIVE_CLAIMS", " , "),
            ("ALERT_VALUES", "partly"),
            ("SECURITY_TEAM_EMAILS", "not-an-address"),
            ("ALERT_SENDER", "nobody"),
            ("DEPARTMENTS", ","),
            ("MAX_BODY_BYTES", "12"),
            ("MAX_CLAIMS", "0"),
            ("DEADLINE_MS", "50"),
            ("USER_NOTICE", "sometimes"),
            ("USER_NOTICE_NEW_ADDRESS", "maybe"),
            ("ALERT_CHANNELS", "email,pager"),
            ("AUTH_MODE", "digest"),
            ("DIRECTORY_UNAVAILABLE", "ignore"),
            ("ALERT_UNDELIVERED", "skip"),
            ("SUPPORT_CONTACT", "a\nb"),
            ("IDEMPOTENCY_TABLE", "my table"),
            ("WSO2_WEBSUB_ALLOW_UNSUBSCRIBE", "maybe"),
        ];
        for (var, value) in cases {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(&err.var, var, "{var}={value} gave {err}");
        }
        let err = config(&[
            ("DEPARTMENT_API_URL", "http://d/{department}"),
            ("DEPARTMENT_API_TIMEOUT_MS", "0"),
        ])
        .unwrap_err();
        assert_eq!(err.var, "DEPARTMENT_API_TIMEOUT_MS");
        let err = config(&[("ALERT_SENDER", "guard@example.com")]).unwrap_err();
        assert_eq!(err.var, "SECURITY_TEAM_EMAILS");
    }

    #[test]
    fn websub_unsubscribe_is_confirmed_only_when_set() {
        assert!(!config(&[]).unwrap().wso2_websub_allow_unsubscribe);
        let on = config(&[("WSO2_WEBSUB_ALLOW_UNSUBSCRIBE", "true")]).unwrap();
        assert!(on.wso2_websub_allow_unsubscribe);
        let off = config(&[("WSO2_WEBSUB_ALLOW_UNSUBSCRIBE", "false")]).unwrap();
        assert!(!off.wso2_websub_allow_unsubscribe);
    }

    /// The credential an inline `AUTH_CREDENTIAL` gives in `mode`.
    fn inline_credential(mode: &str, value: &str) -> Result<String, ConfigError> {
        use secrecy::ExposeSecret;
        let c = config(&[("AUTH_MODE", mode), ("AUTH_CREDENTIAL", value)])?;
        match c.auth.credential {
            Some(SecretSource::Inline(s)) => Ok(s.expose_secret().to_owned()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_inline_json_credential_is_read_like_a_stored_secret() {
        let read: &[(&str, &str, &str)] = &[
            (
                "basic",
                r#"{"username": "wso2", "password": "p:w "}"#,
                "wso2:p:w ",
            ),
            (
                "basic",
                r#" {"username": "u", "password": "p", "host": "h"}"#,
                "u:p",
            ),
            ("bearer", r#"{"token": " tok-1 "}"#, "tok-1"),
            ("api-key", r#"{"apiKey": "k-2"}"#, "k-2"),
            ("basic", "wso2:pw", "wso2:pw"),
            ("bearer", "tok-3", "tok-3"),
        ];
        for (mode, value, want) in read {
            assert_eq!(
                inline_credential(mode, value).as_deref(),
                Ok(*want),
                "{value}"
            );
        }
        let refused: &[(&str, &str)] = &[
            ("basic", r#"{"username": "u-x1"}"#),
            ("basic", r#"{"user": "u-x2", "pass": "pw-x2"}"#),
            ("basic", r#"{"username": "u-x3", "password": 7}"#),
            ("basic", r#"{"username": "u-x4", "password": "pw-x4""#),
            ("bearer", r#"{"a": "t-x5", "b": "t-x6"}"#),
            ("bearer", r#"{"token": ["t-x7"]}"#),
            ("api-key", "{}"),
        ];
        for (mode, value) in refused {
            let err = inline_credential(mode, value).unwrap_err();
            assert_eq!(err.var, "AUTH_CREDENTIAL", "{value}: {err}");
            assert!(
                !err.to_string().contains("-x"),
                "the error quotes the credential: {err}"
            );
        }
        // Unused without a mode: read as given, as before.
        assert!(config(&[("AUTH_CREDENTIAL", "{oops")]).is_ok());
    }

    #[test]
    fn jwt_mode_needs_its_keys_issuer_and_audience() {
        let jwt = [
            ("AUTH_MODE", "jwt"),
            ("AUTH_JWKS_URL", "https://is.example.com/oauth2/jwks"),
            ("AUTH_ISSUER", "https://is.example.com/oauth2/token"),
            ("AUTH_AUDIENCE", "client-7"),
        ];
        let c = config(&jwt).unwrap();
        assert_eq!(c.auth.mode, AuthMode::Jwt);
        let settings = c.auth.jwt.expect("token settings");
        assert_eq!(settings.issuer, "https://is.example.com/oauth2/token");
        assert_eq!(settings.audience, "client-7");
        assert_eq!(settings.required_scope, None);
        assert!(config(&[]).unwrap().auth.jwt.is_none());
        for missing in ["AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE"] {
            let vars: Vec<_> = jwt.iter().filter(|(k, _)| *k != missing).copied().collect();
            let err = config(&vars).unwrap_err();
            assert_eq!(err.var, missing);
            assert!(
                err.problem.starts_with("is required with AUTH_MODE=jwt: "),
                "{err}"
            );
        }
        let with = |extra: (&'static str, &'static str)| {
            let mut vars = jwt.to_vec();
            vars.retain(|(k, _)| *k != extra.0);
            vars.push(extra);
            config(&vars)
        };
        let scoped = with(("AUTH_REQUIRED_SCOPE", "profile-guard:call")).unwrap();
        assert!(scoped.auth.jwt.unwrap().required_scope.is_some());
        for (var, value) in [
            ("AUTH_REQUIRED_SCOPE", "openid profile-guard:call"),
            ("AUTH_JWKS_URL", "http://is.example.com/oauth2/jwks"),
            ("AUTH_CREDENTIAL", "tok-1"),
            (
                "AUTH_CREDENTIAL_SECRET",
                "arn:aws:secretsmanager:eu-west-1:1:secret:pg",
            ),
        ] {
            assert_eq!(with((var, value)).unwrap_err().var, var, "{var}={value}");
        }
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "x"),
            ("SECURITY_TEAM_EMAILS", "sec@example.com"),
            ("ALERT_SENDER", "guard@example.com"),
            ("AWS_REGION", "eu-west-1"),
        ];
        assert!(config(&[jwt.as_slice(), &lambda].concat()).is_ok());
    }

    #[test]
    fn token_settings_without_jwt_mode_are_refused() {
        let bearer = [("AUTH_MODE", "bearer"), ("AUTH_CREDENTIAL", "tok-1")];
        for var in [
            "AUTH_JWKS_URL",
            "AUTH_ISSUER",
            "AUTH_AUDIENCE",
            "AUTH_REQUIRED_SCOPE",
        ] {
            let value = if var == "AUTH_JWKS_URL" {
                "https://is.example.com/oauth2/jwks"
            } else {
                "x"
            };
            for base in [&bearer[..], &[]] {
                let err = config(&[base, &[(var, value)]].concat()).unwrap_err();
                assert_eq!(err.var, var);
                assert_eq!(
                    err.problem,
                    "is used only with AUTH_MODE=jwt; set AUTH_MODE=jwt or unset it"
                );
            }
        }
    }

    #[test]
    fn an_invalid_api_key_header_is_refused_at_start_up() {
        let c = config(&[("AUTH_API_KEY_HEADER", "X-Api-Key")]).unwrap();
        assert_eq!(c.auth.api_key_header.as_str(), "x-api-key");
        assert_eq!(config(&[]).unwrap().auth.api_key_header.as_str(), "api-key");
        for bad in ["api key", "x-api-key:", "clé"] {
            let err = config(&[
                ("AUTH_MODE", "api-key"),
                ("AUTH_CREDENTIAL", "k"),
                ("AUTH_API_KEY_HEADER", bad),
            ])
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                "AUTH_API_KEY_HEADER: is not a valid HTTP header name",
                "{bad:?}"
            );
        }
    }
}
