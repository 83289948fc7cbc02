//! The log outbox: each message a log line (local use with no AWS account).

use async_trait::async_trait;

use super::{Delivery, Outbox};
use crate::notify::messages::{Email, mask};
use crate::upstream::DeliveryError;

/// Writes each message as one JSON log line instead of sending it: the local default when `ALERT_SENDER` is not
/// set, so the service can be tried with no AWS account. The text is what would be sent (values masked unless
/// `ALERT_VALUES=full`); recipients are masked.
pub struct LogOutbox;

#[async_trait]
impl Outbox for LogOutbox {
    async fn send(&self, email: &Email) -> Result<Delivery, DeliveryError> {
        let message_id = format!("outbox-{}", uuid::Uuid::new_v4());
        tracing::info!(
            target: "profile_guard::outbox",
            message_id = %message_id,
            // Recipients can be the person's own address: masked like any attribute value in a log.
            to = %if email.to.is_empty() {
                "(SECURITY_TEAM_EMAILS not set)".to_owned()
            } else {
                email.to.iter().map(|a| mask::mask(a.as_str())).collect::<Vec<_>>().join(", ")
            },
            subject = %email.subject,
            priority = email.high_priority.then_some("high"),
            text = %email.text,
            attachments = %email
                .attachments
                .iter()
                .map(|a| format!("{} ({} bytes)", a.filename, a.data.len()))
                .collect::<Vec<_>>()
                .join(", "),
            "e-mail written to the log outbox (ALERT_SENDER is not set)"
        );
        Ok(Delivery { message_id })
    }

    fn describe(&self) -> String {
        "log outbox (messages are written to the log, not sent; set ALERT_SENDER to send through SES)".into()
    }
}
