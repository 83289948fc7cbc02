//! How messages leave: e-mail (Amazon SES, or the log outbox), chat webhooks (Slack, Teams) and Slack direct
//! messages. Each channel knows its own limits and answers; none decides what a message says.

mod log_outbox;
mod mime;
pub mod pace;
mod ses;
pub mod slack;
pub mod slack_dm;
pub mod teams;

use std::time::Instant;

use async_trait::async_trait;

use crate::claims::EmailAddress;
use crate::notify::messages::Email;
use crate::notify::messages::chat::ChatAlert;
use crate::notify::outcome::Channel;
use crate::upstream::DeliveryError;

pub use log_outbox::LogOutbox;
pub use ses::SesOutbox;

/// The headers that mark an urgent e-mail, as the common mail clients read them (Outlook `Importance`, the older
/// `X-Priority`).
pub(crate) const HIGH_PRIORITY_HEADERS: [(&str, &str); 2] =
    [("Importance", "high"), ("X-Priority", "1 (Highest)")];

/// How e-mail leaves: alerts and user notices alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// Amazon SES v2, from a verified sender identity (`ALERT_SENDER`).
    Ses { sender: EmailAddress },
    /// One JSON log line per message, for local use with no AWS account.
    LogOutbox,
}

/// A message the outbox accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// SES's message id, or a local one.
    pub message_id: String,
}

#[async_trait]
pub trait Outbox: Send + Sync {
    async fn send(&self, email: &Email) -> Result<Delivery, DeliveryError>;

    /// What this outbox is, for the start-up log line.
    fn describe(&self) -> String;
}

/// A chat channel that takes the security alert, beside e-mail.
#[async_trait]
pub trait ChatSender: Send + Sync {
    /// Which channel this is, for the audit line.
    fn channel(&self) -> Channel;

    async fn post(&self, alert: &ChatAlert) -> Result<(), DeliveryError>;
}

/// A channel that sends one person a direct message, found by their e-mail address.
#[async_trait]
pub trait DirectMessenger: Send + Sync {
    /// Sends `text` to the person with address `to`; the message itself is posted only if it can be before `until`.
    async fn send_dm(
        &self,
        to: &EmailAddress,
        text: &str,
        until: Instant,
    ) -> Result<DmDelivery, DeliveryError>;
}

/// What became of a direct message that raised no error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmDelivery {
    Sent,
    /// No Slack user has this e-mail address (`users_not_found`, or `user_not_found` in older docs).
    NoSuchUser,
}
