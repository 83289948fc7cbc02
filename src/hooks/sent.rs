//! Where one message about an event goes, and what became of it.

use std::fmt;

use crate::notify::outcome::Channel;
use crate::upstream::{DeliveryError, DeliveryErrorKind as Kind};

/// One message about one event: the person's notice or the security team's alert, on one channel. Each is
/// remembered on its own, so a retry sends only what did not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    NoticeEmail,
    NoticeSlack,
    AlertEmail,
    /// The alert on one chat channel (Slack, Teams).
    AlertChat(Channel),
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::NoticeEmail => "notice_email",
            Destination::NoticeSlack => "notice_slack",
            Destination::AlertEmail => "alert_email",
            Destination::AlertChat(Channel::Teams) => "alert_teams",
            Destination::AlertChat(_) => "alert_slack",
        }
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Sent,
    /// An earlier delivery of the same event sent it.
    AlreadySent,
    /// Nothing to send, for good: no address known, no Slack account for the address, …
    Skipped(&'static str),
    Failed(DeliveryError),
    /// Another delivery of the same event is sending it right now.
    InProgress,
    /// The deadline came first.
    OutOfTime,
}

impl Sent {
    /// Whether Okta's retry could still get this message out (then the delivery is answered 5xx).
    pub fn retryable(&self) -> bool {
        match self {
            Sent::Sent | Sent::AlreadySent | Sent::Skipped(_) => false,
            Sent::InProgress | Sent::OutOfTime => true,
            Sent::Failed(e) => matches!(
                e.kind,
                Kind::Timeout
                    | Kind::Unreachable
                    | Kind::Transport
                    | Kind::Throttled
                    | Kind::Service
            ),
        }
    }
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sent::Sent => f.write_str("sent"),
            Sent::AlreadySent => f.write_str("already_sent"),
            Sent::Skipped(why) => write!(f, "skipped:{why}"),
            Sent::Failed(e) => write!(f, "failed:{}", e.kind),
            Sent::InProgress => f.write_str("in_progress"),
            Sent::OutOfTime => f.write_str("failed:deadline"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_a_retry_can_fix_asks_for_one() {
        let failed = |kind| Sent::Failed(DeliveryError::new(kind, "x"));
        assert!(failed(Kind::Throttled).retryable());
        assert!(failed(Kind::Timeout).retryable());
        assert!(!failed(Kind::Rejected).retryable());
        assert!(!failed(Kind::Credentials).retryable());
        assert!(!Sent::Skipped("no_address").retryable());
        assert!(Sent::OutOfTime.retryable());
        assert_eq!(failed(Kind::Throttled).to_string(), "failed:throttled");
        assert_eq!(
            Sent::Skipped("no_address").to_string(),
            "skipped:no_address"
        );
    }
}
