//! What became of each message, typed; the audit line shows them in the same words log queries already use
//! (`email:sent:<id>`, `slack:failed:rejected:…`, `sent:<id>:old_address`, `skipped:no_address`). A notice that
//! goes out as a Slack direct message too adds its channel after a comma: `sent:<id>:current_address,slack:sent`,
//! `…,slack:skipped:users_not_found`, `…,slack:failed:<kind>:<detail>` (`slack:…` alone with Slack only).

use std::fmt;

use crate::upstream::DeliveryError;

/// Why no notice goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoNotice {
    /// `USER_NOTICE=off`.
    Off,
    /// `USER_NOTICE=others` and the person made the change themself.
    MadeByThePerson,
    /// No watched attribute changes.
    NothingWatched,
    /// Neither a current e-mail address nor a username that is one.
    NoAddress,
    /// `USER_NOTICE_WHEN=commit`, but the call names no user: no commit event could be matched with it.
    NoUserId,
}

impl NoNotice {
    pub fn as_str(self) -> &'static str {
        match self {
            NoNotice::Off => "off",
            NoNotice::MadeByThePerson => "self_service_not_notified",
            NoNotice::NothingWatched => "nothing_watched",
            NoNotice::NoAddress => "no_address",
            NoNotice::NoUserId => "no_user_id",
        }
    }
}

/// A channel that carries the security alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Slack,
    Teams,
    /// The alert queue (`ALERT_QUEUE_URL`), on the request path.
    Queue,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Slack => "slack",
            Channel::Teams => "teams",
            Channel::Queue => "queue",
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
    /// `ALERT_QUEUE_URL`: SQS accepted the alert (its message id); the consumer delivers it on every channel.
    Queued { message_id: String },
}

impl ChannelOutcome {
    /// Taken by the channel, or durably on its way to every channel (queued).
    pub fn is_sent(&self) -> bool {
        matches!(
            self,
            ChannelOutcome::Sent { .. } | ChannelOutcome::Queued { .. }
        )
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
            ChannelOutcome::Queued { message_id } => write!(f, "queue:queued:{message_id}"),
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
    /// `USER_NOTICE_CHANNELS` names slack: the e-mail's outcome (when e-mail is a channel too), then the DM's.
    Channels {
        email: Option<Box<NoticeOutcome>>,
        slack: DmOutcome,
    },
    /// `USER_NOTICE_WHEN=commit`: left for the commit event, for this many seconds.
    Pending {
        ttl_secs: u64,
    },
    /// `USER_NOTICE_WHEN=commit`: a waiting notice that could not be used (unreadable by this version).
    PendingFailed {
        detail: String,
    },
}

impl NoticeOutcome {
    /// Whether a later attempt could still get this one message out: it failed in a way that heals (an outage, a
    /// rate limit, the deadline). A notice on several channels is judged per channel by `NoticeDraft::still_owed`.
    pub fn worth_retrying(&self) -> bool {
        match self {
            NoticeOutcome::Failed(e) => e.kind.retryable(),
            NoticeOutcome::OutOfTime => true,
            _ => false,
        }
    }

    /// Whether the notice reached nobody because something failed (not a skip, not a wait).
    pub fn undelivered(&self) -> bool {
        match self {
            NoticeOutcome::Sent { .. }
            | NoticeOutcome::Skipped(_)
            | NoticeOutcome::Pending { .. } => false,
            NoticeOutcome::Channels { email, slack } => {
                let email = email.as_deref();
                let sent = email.is_some_and(|e| matches!(e, NoticeOutcome::Sent { .. }))
                    || *slack == DmOutcome::Sent;
                let failed = email.is_some_and(NoticeOutcome::undelivered)
                    || matches!(slack, DmOutcome::Failed(_) | DmOutcome::NotRendered { .. });
                !sent && failed
            }
            _ => true,
        }
    }
}

/// The person's notice as a Slack direct message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmOutcome {
    Sent,
    /// No Slack user has the address the notice goes to: nothing to send, nothing failed.
    NoSlackUser,
    NotRendered {
        template: &'static str,
    },
    Failed(DeliveryError),
}

impl fmt::Display for DmOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DmOutcome::Sent => f.write_str("slack:sent"),
            DmOutcome::NoSlackUser => f.write_str("slack:skipped:users_not_found"),
            DmOutcome::NotRendered { template } => write!(f, "slack:failed:template:{template}"),
            DmOutcome::Failed(e) => write!(f, "slack:failed:{}:{}", e.kind, e.detail),
        }
    }
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
            NoticeOutcome::Channels {
                email: Some(email),
                slack,
            } => write!(f, "{email},{slack}"),
            NoticeOutcome::Channels { email: None, slack } => write!(f, "{slack}"),
            NoticeOutcome::Pending { ttl_secs } => write!(f, "pending:{ttl_secs}s"),
            NoticeOutcome::PendingFailed { detail } => write!(f, "failed:pending_store:{detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::DeliveryErrorKind;

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

    #[test]
    fn a_notice_with_a_slack_dm_names_both_channels() {
        let both = NoticeOutcome::Channels {
            email: Some(Box::new(NoticeOutcome::Sent {
                message_id: "m-3".into(),
                recipients: NoticeRecipients::CurrentAddress,
            })),
            slack: DmOutcome::Sent,
        };
        assert_eq!(both.to_string(), "sent:m-3:current_address,slack:sent");
        let skipped = NoticeOutcome::Channels {
            email: None,
            slack: DmOutcome::NoSlackUser,
        };
        assert_eq!(skipped.to_string(), "slack:skipped:users_not_found");
        let failed = NoticeOutcome::Channels {
            email: Some(Box::new(NoticeOutcome::NotRendered {
                template: "notice.html",
            })),
            slack: DmOutcome::Failed(DeliveryError::new(
                DeliveryErrorKind::Credentials,
                "invalid_auth",
            )),
        };
        assert_eq!(
            failed.to_string(),
            "failed:template:notice.html,slack:failed:credentials:invalid_auth"
        );
        let unrendered = DmOutcome::NotRendered {
            template: "notice.slack.txt",
        };
        assert_eq!(
            unrendered.to_string(),
            "slack:failed:template:notice.slack.txt"
        );
    }
}
