//! Who hears of a change and through which channels, as start-up read it from the configuration.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::claims::{ClaimSet, EmailAddress};
use crate::secrets::SecretSource;
use crate::upstream;

/// Which channels carry the security alert (`ALERT_CHANNELS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertChannels {
    pub email: bool,
    pub slack: bool,
    pub teams: bool,
}

/// Who gets the security alert, where, and how it shows values.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    pub channels: AlertChannels,
    /// `SECURITY_TEAM_EMAILS`.
    pub recipients: Vec<EmailAddress>,
    /// `ALERT_VALUES`: how alerts and notices show values.
    pub values: ValueDisplay,
    /// `SLACK_WEBHOOK_URL` / `SLACK_WEBHOOK_URL_SECRET`.
    pub slack_webhook: Option<SecretSource>,
    /// `TEAMS_WEBHOOK_URL` / `TEAMS_WEBHOOK_URL_SECRET`.
    pub teams_webhook: Option<SecretSource>,
    pub slack_timeout: Duration,
}

/// `USER_NOTICE`: whether the person whose profile changes is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeMode {
    Off,
    /// Only changes the person did not make themself.
    Others,
    All,
}

/// `USER_NOTICE_WHEN`: at the pre-update call, or once the commit event confirms the change was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeWhen {
    Update,
    Commit,
}

#[derive(Debug, Clone)]
pub struct NoticeSettings {
    pub mode: NoticeMode,
    pub when: NoticeWhen,
    /// `PENDING_NOTICE_TTL_SECS`: how long a prepared notice waits for its commit.
    pub pending_ttl: Duration,
    /// `USER_NOTICE_CLAIMS`: the attributes whose change the person is told about.
    pub claims: ClaimSet,
    /// `USER_NOTICE_NEW_ADDRESS`: when the e-mail address changes, also write to the new one.
    pub new_address: bool,
    /// `SUPPORT_CONTACT`: where the person should turn if the change was not expected.
    pub support_contact: Option<String>,
    /// `USER_NOTICE_CHANNELS`: how the notice reaches the person.
    pub channels: NoticeChannels,
    /// `SLACK_BOT_TOKEN` / `SLACK_BOT_TOKEN_SECRET`: the Web API token for direct messages.
    pub slack_bot_token: Option<SecretSource>,
    /// `SLACK_API_URL`: where the Slack Web API is.
    pub slack_api_url: SlackApiUrl,
}

/// The channels of the person's notice: e-mail, a Slack direct message, or both (never neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeChannels {
    pub email: bool,
    pub slack: bool,
}

/// `ALERT_VALUES`: how much of a value a message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueDisplay {
    /// `t***@wso2.com`, `+9477*****48`, `E***`.
    #[default]
    Masked,
    /// The value as it is.
    Full,
    /// Only the attribute's name.
    None,
}

/// A Slack incoming-webhook URL. It is the credential: kept secret, and https only (plain http to loopback alone,
/// for a local stub).
#[derive(Clone)]
pub struct WebhookUrl(SecretString);

/// Why a text is not a [`WebhookUrl`]; the wording follows the variable's name in an error line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAWebhookUrl {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must be an https:// URL")]
    NotHttps,
}

impl WebhookUrl {
    pub fn parse(url: SecretString) -> Result<Self, NotAWebhookUrl> {
        let parsed =
            reqwest::Url::parse(url.expose_secret()).map_err(|_| NotAWebhookUrl::NotAUrl)?;
        let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
            Ok(WebhookUrl(url))
        } else {
            Err(NotAWebhookUrl::NotHttps)
        }
    }
}

impl WebhookUrl {
    /// The URL itself, only to send to it.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookUrl([REDACTED])")
    }
}

/// The Web API's base URL (`SLACK_API_URL`): https, or plain http to loopback alone, for a local stub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackApiUrl(reqwest::Url);

impl SlackApiUrl {
    pub fn parse(url: &str) -> Result<Self, NotAWebhookUrl> {
        let parsed = reqwest::Url::parse(url).map_err(|_| NotAWebhookUrl::NotAUrl)?;
        if parsed.cannot_be_a_base() {
            return Err(NotAWebhookUrl::NotAUrl);
        }
        if upstream::https_or_loopback(&parsed) {
            Ok(SlackApiUrl(parsed))
        } else {
            Err(NotAWebhookUrl::NotHttps)
        }
    }

    /// The URL of one method, e.g. `…/api/users.lookupByEmail`.
    pub(crate) fn method(&self, name: &str) -> reqwest::Url {
        let mut url = self.0.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(name);
        }
        url
    }
}

/// Where the Web API is, by default.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";
