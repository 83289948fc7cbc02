//! How e-mail leaves: SES from `ALERT_SENDER`, or the log outbox when it is not set.

use super::reader::Reader;
use super::{ConfigError, aws, rules};
use crate::notify::channels::EmailTransport;
use crate::notify::settings::AlertSettings;
use crate::notify::settings::{NoticeMode, NoticeSettings};

/// `ALERT_SENDER`, checked against the alert settings (its recipients) and the notice mode.
pub(super) fn transport(
    r: &Reader<'_>,
    in_lambda: bool,
    alert: &AlertSettings,
    notice: &NoticeSettings,
) -> Result<EmailTransport, ConfigError> {
    let sender = r.address("ALERT_SENDER")?;
    // A notice only by Slack needs no sender.
    let notice_mails = notice.mode != NoticeMode::Off && notice.channels.email;
    rules::lambda_needs_sender(in_lambda, alert.channels, notice_mails, sender.as_ref())?;
    let Some(sender) = sender else {
        return Ok(EmailTransport::LogOutbox);
    };
    rules::sender_needs_recipients(alert.channels, &alert.recipients)?;
    rules::sender_needs_region(aws::region(r).as_deref())?;
    Ok(EmailTransport::Ses { sender })
}
