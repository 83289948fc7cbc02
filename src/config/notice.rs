//! The notice to the person whose profile changes.

use super::reader::{self, Reader};
use super::{ConfigError, rules};
use crate::claims::ClaimSet;
use crate::notify::settings::{DEFAULT_API_URL, SlackApiUrl};
use crate::notify::settings::{NoticeChannels, NoticeMode, NoticeSettings, NoticeWhen};

/// `USER_NOTICE`, `USER_NOTICE_CLAIMS` (by default the sensitive claims), `USER_NOTICE_NEW_ADDRESS`,
/// `SUPPORT_CONTACT`, `USER_NOTICE_CHANNELS`, `SLACK_BOT_TOKEN` / `SLACK_BOT_TOKEN_SECRET`, `SLACK_API_URL`,
/// `USER_NOTICE_WHEN`, `PENDING_NOTICE_TTL_SECS`.
pub(super) fn settings(
    r: &Reader<'_>,
    sensitive: &ClaimSet,
) -> Result<NoticeSettings, ConfigError> {
    let channels = channels(r)?;
    let slack_bot_token = r.secret("SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN_SECRET")?;
    rules::slack_notice_needs_bot_token(channels, slack_bot_token.as_ref())?;
    let slack_api_url = slack_api_url(r)?;
    Ok(NoticeSettings {
        mode: r.choice(
            "USER_NOTICE",
            NoticeMode::All,
            &[
                ("off", NoticeMode::Off),
                ("others", NoticeMode::Others),
                ("all", NoticeMode::All),
            ],
        )?,
        when: r.choice(
            "USER_NOTICE_WHEN",
            NoticeWhen::Update,
            &[
                ("update", NoticeWhen::Update),
                ("commit", NoticeWhen::Commit),
            ],
        )?,
        pending_ttl: std::time::Duration::from_secs(r.number(
            "PENDING_NOTICE_TTL_SECS",
            DEFAULT_PENDING_NOTICE_TTL_SECS,
            1..=86_400,
            "seconds",
        )?),
        claims: r
            .parsed("USER_NOTICE_CLAIMS", ClaimSet::parse)?
            .unwrap_or_else(|| sensitive.clone()),
        new_address: r.flag("USER_NOTICE_NEW_ADDRESS", false)?,
        support_contact: support_contact(r)?,
        channels,
        slack_bot_token,
        slack_api_url,
    })
}

/// A prepared notice waits this long for the commit event (WSO2 IS sends it at once; Asgardeo retries later).
const DEFAULT_PENDING_NOTICE_TTL_SECS: u64 = 600;

/// `USER_NOTICE_CHANNELS`: `email` (the default), `slack` or `email,slack`.
fn channels(r: &Reader<'_>) -> Result<NoticeChannels, ConfigError> {
    let (email, slack) =
        reader::email_and_slack(r, "USER_NOTICE_CHANNELS", "email,slack")?.unwrap_or((true, false));
    Ok(NoticeChannels { email, slack })
}

/// `SLACK_API_URL`: the Slack Web API, by default Slack's own.
fn slack_api_url(r: &Reader<'_>) -> Result<SlackApiUrl, ConfigError> {
    let url = r.get("SLACK_API_URL");
    SlackApiUrl::parse(url.as_deref().unwrap_or(DEFAULT_API_URL))
        .map_err(|p| ConfigError::new("SLACK_API_URL", p.to_string()))
}

/// The contact goes into the notice as one line of text.
fn support_contact(r: &Reader<'_>) -> Result<Option<String>, ConfigError> {
    match r.get("SUPPORT_CONTACT") {
        Some(v) if v.chars().any(char::is_control) || v.chars().count() > 200 => {
            Err(ConfigError::new(
                "SUPPORT_CONTACT",
                "must be one line of at most 200 characters (an address, a phone number or a URL)",
            ))
        }
        other => Ok(other),
    }
}
