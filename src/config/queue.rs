//! Queued alerts and the consumer: `ALERT_QUEUE_URL`, `ALERT_DIGEST_THRESHOLD`, `ALERT_SEND_RATE`, and
//! `FUNCTION_ROLE` (which of the template's functions this process is).

use super::ConfigError;
use super::reader::Reader;

const DEFAULT_DIGEST_THRESHOLD: usize = 5;
const DEFAULT_SEND_RATE: u32 = 10;

/// Which function this process is: the HTTP endpoint (the default), the consumer of the alert queue, or the
/// scheduled catch-up of Okta's System Log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionRole {
    Api,
    AlertConsumer,
    OktaCatchup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// `ALERT_QUEUE_URL`: unset, alerts are sent on the request path as before.
    pub url: Option<String>,
    /// `ALERT_DIGEST_THRESHOLD`: changes per tenant and batch sent one message each; more make a digest.
    pub digest_threshold: usize,
    /// `ALERT_SEND_RATE`: messages a second per channel.
    pub send_rate: u32,
    /// `FUNCTION_ROLE`: `api`, `alert-consumer` or `okta-catchup`.
    pub role: FunctionRole,
}

pub(super) fn settings(r: &Reader<'_>) -> Result<QueueSettings, ConfigError> {
    let url = r.get("ALERT_QUEUE_URL");
    if let Some(url) = &url {
        reqwest::Url::parse(url).map_err(|e| {
            ConfigError::new("ALERT_QUEUE_URL", format!("is not a queue URL ({e})"))
        })?;
    }
    Ok(QueueSettings {
        url,
        digest_threshold: r.number(
            "ALERT_DIGEST_THRESHOLD",
            DEFAULT_DIGEST_THRESHOLD,
            1..=10_000,
            "changes",
        )?,
        send_rate: r.number(
            "ALERT_SEND_RATE",
            DEFAULT_SEND_RATE,
            1..=1_000,
            "messages a second",
        )?,
        role: r.choice(
            "FUNCTION_ROLE",
            FunctionRole::Api,
            &[
                ("api", FunctionRole::Api),
                ("alert-consumer", FunctionRole::AlertConsumer),
                ("okta-catchup", FunctionRole::OktaCatchup),
            ],
        )?,
    })
}
