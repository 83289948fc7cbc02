//! The security alert: which claims are sensitive, the channels, how values show, who receives it.

use std::time::Duration;

use super::reader::{self, Reader};
use super::{ConfigError, rules};
use crate::claims::{ClaimSet, EmailAddress};
use crate::notify::messages::mask::ValueDisplay;
use crate::notify::settings::WebhookUrl;
use crate::notify::settings::{AlertChannels, AlertSettings};
use crate::secrets::SecretSource;

const DEFAULT_SLACK_TIMEOUT_MS: u64 = 1000;

/// `SENSITIVE_CLAIMS`: changes to these raise the alert.
pub(super) fn sensitive_claims(r: &Reader<'_>) -> Result<ClaimSet, ConfigError> {
    Ok(r.parsed("SENSITIVE_CLAIMS", ClaimSet::parse)?
        .unwrap_or_else(ClaimSet::defaults))
}

/// Everything but the recipients (see [`recipients`]).
pub(super) fn settings(r: &Reader<'_>) -> Result<AlertSettings, ConfigError> {
    let values = r.choice(
        "ALERT_VALUES",
        ValueDisplay::Masked,
        &[
            ("masked", ValueDisplay::Masked),
            ("full", ValueDisplay::Full),
            ("none", ValueDisplay::None),
        ],
    )?;
    let slack_webhook = slack_webhook(r)?;
    let teams_webhook = teams_webhook(r)?;
    let channels = channels(r, slack_webhook.is_some(), teams_webhook.is_some())?;
    rules::slack_needs_webhook(channels, slack_webhook.as_ref())?;
    rules::teams_needs_webhook(channels, teams_webhook.as_ref())?;
    let slack_timeout_ms = r.number(
        "SLACK_TIMEOUT_MS",
        DEFAULT_SLACK_TIMEOUT_MS,
        1..=10_000,
        "milliseconds",
    )?;
    Ok(AlertSettings {
        channels,
        recipients: Vec::new(),
        values,
        slack_webhook,
        teams_webhook,
        slack_timeout: Duration::from_millis(slack_timeout_ms),
    })
}

/// `SLACK_WEBHOOK_URL` / `SLACK_WEBHOOK_URL_SECRET`: the URL is a secret (it is the credential). One given inline
/// is checked now; one in Secrets Manager when it is read at start-up.
fn slack_webhook(r: &Reader<'_>) -> Result<Option<SecretSource>, ConfigError> {
    let source = r.secret("SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_URL_SECRET")?;
    if let Some(SecretSource::Inline(url)) = &source {
        WebhookUrl::parse(url.clone())
            .map_err(|p| ConfigError::new("SLACK_WEBHOOK_URL", p.to_string()))?;
    }
    Ok(source)
}

/// `TEAMS_WEBHOOK_URL` / `TEAMS_WEBHOOK_URL_SECRET`: a Teams Workflows webhook; the URL is the credential.
fn teams_webhook(r: &Reader<'_>) -> Result<Option<SecretSource>, ConfigError> {
    let source = r.secret("TEAMS_WEBHOOK_URL", "TEAMS_WEBHOOK_URL_SECRET")?;
    if let Some(SecretSource::Inline(url)) = &source {
        WebhookUrl::parse(url.clone())
            .map_err(|p| ConfigError::new("TEAMS_WEBHOOK_URL", p.to_string()))?;
    }
    Ok(source)
}

/// `ALERT_CHANNELS`: by default e-mail, and Slack or Teams too when their webhook is set.
fn channels(r: &Reader<'_>, slack: bool, teams: bool) -> Result<AlertChannels, ConfigError> {
    let hint = "use email, slack, teams or a comma-separated list of them";
    let named = reader::channel_list(r, "ALERT_CHANNELS", &["email", "slack", "teams"], hint)?;
    Ok(match named {
        Some(named) => AlertChannels {
            email: named.contains(&"email"),
            slack: named.contains(&"slack"),
            teams: named.contains(&"teams"),
        },
        None => AlertChannels {
            email: true,
            slack,
            teams,
        },
    })
}

/// `SECURITY_TEAM_EMAILS`. Read after the notice settings, apart from the rest, to keep the order in which
/// variables are checked (and so which mistake is reported first).
pub(super) fn recipients(
    r: &Reader<'_>,
    in_lambda: bool,
    channels: AlertChannels,
) -> Result<Vec<EmailAddress>, ConfigError> {
    let recipients = r.addresses("SECURITY_TEAM_EMAILS")?.unwrap_or_default();
    rules::lambda_needs_recipients(in_lambda, channels, &recipients)?;
    Ok(recipients)
}
