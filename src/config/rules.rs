//! Rules that span settings: what one setting requires of another. Each is checked where its settings are read,
//! so the first mistake reported does not depend on how the sections are split.

use secrecy::ExposeSecret;

use super::ConfigError;
use super::FunctionRole;
use crate::auth::AuthMode;
use crate::claims::EmailAddress;
use crate::notify::settings::AlertChannels;
use crate::notify::settings::NoticeChannels;
use crate::secrets::SecretSource;

/// The catch-up function does nothing else: without the catch-up turned on it would have nothing to do.
pub(super) fn catchup_role_needs_interval(
    role: FunctionRole,
    catchup_on: bool,
) -> Result<(), ConfigError> {
    if role == FunctionRole::OktaCatchup && !catchup_on {
        return Err(ConfigError::new(
            "OKTA_CATCHUP_INTERVAL_SECS",
            "is required with FUNCTION_ROLE=okta-catchup",
        ));
    }
    Ok(())
}

/// Slack as a channel needs a webhook to post to.
pub(super) fn slack_needs_webhook(
    channels: AlertChannels,
    webhook: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    if channels.slack && webhook.is_none() {
        return Err(ConfigError::new(
            "SLACK_WEBHOOK_URL",
            "is required when ALERT_CHANNELS includes slack (or set SLACK_WEBHOOK_URL_SECRET)",
        ));
    }
    Ok(())
}

/// Teams as a channel needs a Workflows webhook to post to.
pub(super) fn teams_needs_webhook(
    channels: AlertChannels,
    webhook: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    if channels.teams && webhook.is_none() {
        return Err(ConfigError::new(
            "TEAMS_WEBHOOK_URL",
            "is required when ALERT_CHANNELS includes teams (or set TEAMS_WEBHOOK_URL_SECRET)",
        ));
    }
    Ok(())
}

/// A notice by Slack direct message needs a bot token to call the Web API with.
pub(super) fn slack_notice_needs_bot_token(
    channels: NoticeChannels,
    token: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    if channels.slack && token.is_none() {
        return Err(ConfigError::new(
            "SLACK_BOT_TOKEN",
            "is required when USER_NOTICE_CHANNELS includes slack (or set SLACK_BOT_TOKEN_SECRET)",
        ));
    }
    Ok(())
}

/// In Lambda an e-mail alert must reach someone: there is no log outbox anyone reads.
pub(super) fn lambda_needs_recipients(
    in_lambda: bool,
    channels: AlertChannels,
    recipients: &[EmailAddress],
) -> Result<(), ConfigError> {
    if in_lambda && channels.email && recipients.is_empty() {
        return Err(ConfigError::new(
            "SECURITY_TEAM_EMAILS",
            "is required in Lambda: the comma-separated addresses that receive security alerts",
        ));
    }
    Ok(())
}

/// Sending alerts through SES needs someone to send them to.
pub(super) fn sender_needs_recipients(
    channels: AlertChannels,
    recipients: &[EmailAddress],
) -> Result<(), ConfigError> {
    if channels.email && recipients.is_empty() {
        return Err(ConfigError::new(
            "SECURITY_TEAM_EMAILS",
            "is required when ALERT_SENDER is set: the addresses that receive security alerts",
        ));
    }
    Ok(())
}

/// SES is regional: a sender needs the region to send from.
pub(super) fn sender_needs_region(region: Option<&str>) -> Result<(), ConfigError> {
    if region.is_none() {
        return Err(ConfigError::new(
            "AWS_REGION",
            "is required when ALERT_SENDER is set: the SES region, e.g. eu-west-1",
        ));
    }
    Ok(())
}

/// In Lambda, mail that must go out (alerts by e-mail, user notices) needs an SES sender.
pub(super) fn lambda_needs_sender(
    in_lambda: bool,
    channels: AlertChannels,
    notice_mails: bool,
    sender: Option<&EmailAddress>,
) -> Result<(), ConfigError> {
    let needs_email = channels.email || notice_mails;
    if in_lambda && needs_email && sender.is_none() {
        return Err(ConfigError::new(
            "ALERT_SENDER",
            "is required in Lambda: a sender address or domain verified in Amazon SES \
             (alerts and user notices are sent from it)",
        ));
    }
    Ok(())
}

/// Every mode but `none` and `jwt` compares against a credential.
pub(super) fn auth_mode_needs_credential(
    mode: AuthMode,
    credential: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    if !matches!(mode, AuthMode::None | AuthMode::Jwt) && credential.is_none() {
        return Err(ConfigError::new(
            "AUTH_CREDENTIAL",
            "is required with AUTH_MODE basic, bearer or api-key (or set AUTH_CREDENTIAL_SECRET)",
        ));
    }
    Ok(())
}

/// No silent open endpoint in Lambda: accepting unauthenticated calls must be chosen with `AUTH_MODE=none`.
pub(super) fn lambda_needs_auth_mode(in_lambda: bool, mode_set: bool) -> Result<(), ConfigError> {
    if in_lambda && !mode_set {
        return Err(ConfigError::new(
            "AUTH_MODE",
            "is required in Lambda: basic, bearer or api-key with AUTH_CREDENTIAL_SECRET, jwt with \
             AUTH_JWKS_URL, or none to accept unauthenticated calls deliberately",
        ));
    }
    Ok(())
}

/// With `AUTH_MODE=jwt` a static credential would be a second, unused way in: refused rather than ignored.
pub(super) fn jwt_takes_no_credential(
    mode: AuthMode,
    credential: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    let var = match credential {
        Some(SecretSource::Inline(_)) => "AUTH_CREDENTIAL",
        Some(SecretSource::SecretsManager { var, .. }) => var,
        None => return Ok(()),
    };
    if mode == AuthMode::Jwt {
        return Err(ConfigError::new(
            var,
            "is not used with AUTH_MODE=jwt: tokens are checked against the keys at AUTH_JWKS_URL; unset it",
        ));
    }
    Ok(())
}

/// The token settings belong to `AUTH_MODE=jwt`: set with another mode they would be silently ignored.
pub(super) fn token_settings_need_jwt_mode(
    mode: AuthMode,
    set: &[(&'static str, bool)],
) -> Result<(), ConfigError> {
    match set.iter().find(|(_, is_set)| *is_set) {
        Some((var, _)) if mode != AuthMode::Jwt => Err(ConfigError::new(
            var,
            "is used only with AUTH_MODE=jwt; set AUTH_MODE=jwt or unset it",
        )),
        _ => Ok(()),
    }
}

/// A basic credential given inline must be `user:password` (a stored one is checked when it is read).
pub(super) fn basic_credential_is_a_pair(
    mode: AuthMode,
    credential: Option<&SecretSource>,
) -> Result<(), ConfigError> {
    if let (AuthMode::Basic, Some(SecretSource::Inline(c))) = (mode, credential)
        && !c.expose_secret().contains(':')
    {
        return Err(ConfigError::new(
            "AUTH_CREDENTIAL",
            "must be user:password with AUTH_MODE=basic",
        ));
    }
    Ok(())
}

/// DynamoDB is regional: a shared idempotency table needs its region.
pub(super) fn queue_needs_region(
    queue: Option<&str>,
    region: Option<&str>,
) -> Result<(), ConfigError> {
    if queue.is_some() && region.is_none() {
        return Err(ConfigError::new(
            "AWS_REGION",
            "is required when ALERT_QUEUE_URL is set: the SQS region",
        ));
    }
    Ok(())
}

pub(super) fn table_needs_region(
    table: Option<&str>,
    region: Option<&str>,
) -> Result<(), ConfigError> {
    if table.is_some() && region.is_none() {
        return Err(ConfigError::new(
            "AWS_REGION",
            "is required when IDEMPOTENCY_TABLE is set: the DynamoDB region",
        ));
    }
    Ok(())
}

/// Notices after commit are sent by the commit event: without the webhook they would never go out.
pub(super) fn commit_needs_webhook(secret: Option<&SecretSource>) -> Result<(), ConfigError> {
    if secret.is_none() {
        return Err(ConfigError::new(
            "WSO2_WEBHOOK_SECRET",
            "is required with USER_NOTICE_WHEN=commit: the commit events that send the notices come signed with it \
             (or set WSO2_WEBHOOK_SECRET_SECRET)",
        ));
    }
    Ok(())
}

/// In Lambda the commit event may reach another instance than the pre-update call: the notice must wait in the
/// shared table.
pub(super) fn lambda_commit_needs_table(
    in_lambda: bool,
    table: Option<&str>,
) -> Result<(), ConfigError> {
    if in_lambda && table.is_none() {
        return Err(ConfigError::new(
            "IDEMPOTENCY_TABLE",
            "is required in Lambda with USER_NOTICE_WHEN=commit: the commit event may reach another instance",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    const EMAIL: AlertChannels = AlertChannels {
        email: true,
        slack: false,
        teams: false,
    };
    const SLACK: AlertChannels = AlertChannels {
        email: false,
        slack: true,
        teams: false,
    };

    fn var(result: Result<(), ConfigError>) -> Option<&'static str> {
        result.err().map(|e| e.var)
    }

    fn address() -> Vec<EmailAddress> {
        vec![EmailAddress::parse("sec@example.com").unwrap()]
    }

    fn inline(value: &str) -> SecretSource {
        SecretSource::Inline(SecretString::from(value.to_owned()))
    }

    #[test]
    fn the_slack_channel_needs_a_webhook() {
        assert_eq!(
            var(slack_needs_webhook(SLACK, None)),
            Some("SLACK_WEBHOOK_URL")
        );
        assert_eq!(var(slack_needs_webhook(SLACK, Some(&inline("u")))), None);
        assert_eq!(var(slack_needs_webhook(EMAIL, None)), None);
    }

    #[test]
    fn a_slack_notice_needs_a_bot_token() {
        let slack = NoticeChannels {
            email: true,
            slack: true,
        };
        let email = NoticeChannels {
            email: true,
            slack: false,
        };
        assert_eq!(
            var(slack_notice_needs_bot_token(slack, None)),
            Some("SLACK_BOT_TOKEN")
        );
        assert_eq!(
            var(slack_notice_needs_bot_token(slack, Some(&inline("xoxb-1")))),
            None
        );
        assert_eq!(var(slack_notice_needs_bot_token(email, None)), None);
    }

    #[test]
    fn lambda_alerts_by_email_need_recipients() {
        let needed = Some("SECURITY_TEAM_EMAILS");
        assert_eq!(var(lambda_needs_recipients(true, EMAIL, &[])), needed);
        assert_eq!(var(lambda_needs_recipients(true, EMAIL, &address())), None);
        assert_eq!(var(lambda_needs_recipients(true, SLACK, &[])), None);
        assert_eq!(var(lambda_needs_recipients(false, EMAIL, &[])), None);
    }

    #[test]
    fn a_sender_needs_recipients_and_a_region() {
        let needed = Some("SECURITY_TEAM_EMAILS");
        assert_eq!(var(sender_needs_recipients(EMAIL, &[])), needed);
        assert_eq!(var(sender_needs_recipients(EMAIL, &address())), None);
        assert_eq!(var(sender_needs_recipients(SLACK, &[])), None);
        assert_eq!(var(sender_needs_region(None)), Some("AWS_REGION"));
        assert_eq!(var(sender_needs_region(Some("eu-west-1"))), None);
    }

    #[test]
    fn lambda_mail_needs_a_sender() {
        let sender = EmailAddress::parse("guard@example.com").unwrap();
        // Whether the person's notice goes by e-mail.
        let (all, off) = (true, false);
        assert_eq!(
            var(lambda_needs_sender(true, EMAIL, off, None)),
            Some("ALERT_SENDER")
        );
        assert_eq!(
            var(lambda_needs_sender(true, SLACK, all, None)),
            Some("ALERT_SENDER")
        );
        assert_eq!(var(lambda_needs_sender(true, SLACK, off, None)), None);
        assert_eq!(
            var(lambda_needs_sender(true, EMAIL, all, Some(&sender))),
            None
        );
        assert_eq!(var(lambda_needs_sender(false, EMAIL, all, None)), None);
    }

    #[test]
    fn authentication_needs_a_credential_and_lambda_a_chosen_mode() {
        let needed = Some("AUTH_CREDENTIAL");
        for mode in [AuthMode::Basic, AuthMode::Bearer, AuthMode::ApiKey] {
            assert_eq!(var(auth_mode_needs_credential(mode, None)), needed);
            assert_eq!(
                var(auth_mode_needs_credential(mode, Some(&inline("a:b")))),
                None
            );
        }
        assert_eq!(var(auth_mode_needs_credential(AuthMode::None, None)), None);
        assert_eq!(var(lambda_needs_auth_mode(true, false)), Some("AUTH_MODE"));
        assert_eq!(var(lambda_needs_auth_mode(true, true)), None);
        assert_eq!(var(lambda_needs_auth_mode(false, false)), None);
    }

    #[test]
    fn an_inline_basic_credential_is_user_colon_password() {
        let stored = SecretSource::SecretsManager {
            id: "pg".into(),
            var: "AUTH_CREDENTIAL_SECRET",
        };
        let basic = AuthMode::Basic;
        let needed = Some("AUTH_CREDENTIAL");
        assert_eq!(
            var(basic_credential_is_a_pair(basic, Some(&inline("wso2")))),
            needed
        );
        assert_eq!(
            var(basic_credential_is_a_pair(basic, Some(&inline("a:b")))),
            None
        );
        assert_eq!(var(basic_credential_is_a_pair(basic, Some(&stored))), None);
        let bearer = AuthMode::Bearer;
        assert_eq!(
            var(basic_credential_is_a_pair(bearer, Some(&inline("t")))),
            None
        );
    }

    #[test]
    fn a_shared_table_needs_a_region() {
        assert_eq!(var(table_needs_region(Some("t"), None)), Some("AWS_REGION"));
        assert_eq!(var(table_needs_region(Some("t"), Some("eu-west-1"))), None);
        assert_eq!(var(table_needs_region(None, None)), None);
    }
}
