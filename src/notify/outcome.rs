//! What became of each message, typed; the audit line shows them in the same words log queries already use
//! (`email:sent:<id>`, `slack:failed:rejected:…`, `sent:<id>:old_address`, `skipped:no_address`).

use std::fmt;

use super::notice::NoNotice;
use super::outbox::DeliveryError;

/// A channel that carries the security alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Slack,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
        }
    }
}

/// The alert on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelOutcome {
    /// Taken by the channel; e-mail carries SES's (or the log outbox's) message id.
    Sent {
        channel: Channel,
        message_id: Option<String>,
    },
    Failed {
        channel: Channel,
        error: DeliveryError,
    },
    /// The message could not be rendered (a template failed).
    NotRendered {
        channel: Channel,
        template: &'static str,
    },
}

impl ChannelOutcome {
    pub fn is_sent(&self) -> bool {
        matches!(self, ChannelOutcome::Sent { .. })
    }
}

impl fmt::Display for ChannelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelOutcome::Sent {
                channel,
                message_id: Some(id),
            } => write!(f, "{}:sent:{id}", channel.as_str()),
            ChannelOutcome::Sent { channel, .. } => write!(f, "{}:sent", channel.as_str()),
            ChannelOutcome::Failed { channel, error } => {
                write!(
                    f,
                    "{}:failed:{}:{}",
                    channel.as_str(),
                    error.kind,
                    error.detail
                )
            }
            ChannelOutcome::NotRendered { channel, template } => {
                write!(f, "{}:failed:template:{template}", channel.as_str())
            }
        }
    }
}

/// Who got the person's notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeRecipients {
    CurrentAddress,
    /// The e-mail address changes: the notice went to the one the person had before.
    OldAddress,
}

/// The person's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    Sent {
        message_id: String,
        recipients: NoticeRecipients,
    },
    Skipped(NoNotice),
    NotRendered {
        template: &'static str,
    },
    Failed(DeliveryError),
    /// The alert took the time the notice needed.
    OutOfTime,
}

impl fmt::Display for NoticeOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoticeOutcome::Sent {
                message_id,
                recipients,
            } => {
                let to = match recipients {
                    NoticeRecipients::CurrentAddress => "current_address",
                    NoticeRecipients::OldAddress => "old_address",
                };
                write!(f, "sent:{message_id}:{to}")
            }
            NoticeOutcome::Skipped(why) => write!(f, "skipped:{}", why.as_str()),
            NoticeOutcome::NotRendered { template } => write!(f, "failed:template:{template}"),
            NoticeOutcome::Failed(e) => write!(f, "failed:{}:{}", e.kind, e.detail),
            NoticeOutcome::OutOfTime => f.write_str("failed:deadline"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::DeliveryErrorKind;

    #[test]
    fn outcomes_read_as_the_audit_line_always_wrote_them() {
        let sent = ChannelOutcome::Sent {
            channel: Channel::Email,
            message_id: Some("m-1".into()),
        };
        let slack = ChannelOutcome::Sent {
            channel: Channel::Slack,
            message_id: None,
        };
        let failed = ChannelOutcome::Failed {
            channel: Channel::Slack,
            error: DeliveryError::new(DeliveryErrorKind::Rejected, "Slack answered 404"),
        };
        assert_eq!(sent.to_string(), "email:sent:m-1");
        assert_eq!(slack.to_string(), "slack:sent");
        assert_eq!(
            failed.to_string(),
            "slack:failed:rejected:Slack answered 404"
        );
        let notice = NoticeOutcome::Sent {
            message_id: "m-2".into(),
            recipients: NoticeRecipients::OldAddress,
        };
        assert_eq!(notice.to_string(), "sent:m-2:old_address");
        assert_eq!(
            NoticeOutcome::Skipped(NoNotice::NoAddress).to_string(),
            "skipped:no_address"
        );
        assert_eq!(NoticeOutcome::OutOfTime.to_string(), "failed:deadline");
    }
}
