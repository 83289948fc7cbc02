//! Where a change's messages go, each chosen once at start-up: the alert out at once or onto the queue, the
//! person's notice out at once or left pending for its commit event. The pipeline holds one of each and no mode.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::notify::messages::notice::NoNotice;
use crate::notify::outcome::{Channel, ChannelOutcome, NoticeOutcome};
use crate::notify::{NoticeDraft, Notifier, PreparedAlert};
use crate::pending::{Pending, PendingChange};
use crate::queue::{AlertQueue, QueuedAlert};

/// Where the security alert goes.
#[async_trait]
pub trait AlertPath: Send + Sync {
    /// What became of the alert on each channel (or on the queue).
    async fn deliver(&self, alert: PreparedAlert) -> Vec<ChannelOutcome>;
}

/// Where the person's notice goes.
#[async_trait]
pub trait NoticePath: Send + Sync {
    /// What became of the notice, and why it went out at once when it was meant to wait.
    async fn deliver(&self, notice: Notice, until: Instant) -> Delivered;
}

/// One change's notice, with what a commit event will find it by.
pub struct Notice {
    pub draft: NoticeDraft,
    /// Tenant, user and watched claims; `None` when the call named no tenant or user.
    pub change: Option<PendingChange>,
    pub request_id: String,
}

pub struct Delivered {
    pub outcome: NoticeOutcome,
    /// Why a notice that was meant to wait went out at once (the pending store failed).
    pub fallback: Option<String>,
}

/// Alerts go out at once, on every configured channel.
pub struct SendAlerts(pub Arc<Notifier>);

#[async_trait]
impl AlertPath for SendAlerts {
    async fn deliver(&self, alert: PreparedAlert) -> Vec<ChannelOutcome> {
        self.0.send_alert(alert).await
    }
}

/// Alerts go on the queue (`ALERT_QUEUE_URL`): delivered as far as the answer goes once SQS has them; the consumer
/// sends them.
pub struct QueueAlerts(pub Arc<dyn AlertQueue>);

#[async_trait]
impl AlertPath for QueueAlerts {
    async fn deliver(&self, alert: PreparedAlert) -> Vec<ChannelOutcome> {
        let outcome = match self.0.enqueue(&QueuedAlert::new(alert.into_report())).await {
            Ok(message_id) => ChannelOutcome::Queued { message_id },
            Err(error) => {
                tracing::warn!(
                    target: "profile_guard::alert",
                    error_kind = %error.kind,
                    error = %error.detail,
                    "the alert queue did not take the alert"
                );
                ChannelOutcome::Failed {
                    channel: Channel::Queue,
                    error,
                }
            }
        };
        vec![outcome]
    }
}

/// Notices go out at once (`USER_NOTICE_WHEN=update`).
pub struct SendNotices(pub Arc<Notifier>);

#[async_trait]
impl NoticePath for SendNotices {
    async fn deliver(&self, notice: Notice, until: Instant) -> Delivered {
        Delivered {
            outcome: self.0.send_notice(Ok(notice.draft), until).await,
            fallback: None,
        }
    }
}

/// Notices wait for their commit event (`USER_NOTICE_WHEN=commit`). A notice that cannot wait goes out at once:
/// better early than never.
pub struct LeavePending {
    pub pending: Arc<Pending>,
    pub notifier: Arc<Notifier>,
}

#[async_trait]
impl NoticePath for LeavePending {
    async fn deliver(&self, notice: Notice, until: Instant) -> Delivered {
        let Some(change) = notice.change else {
            return Delivered {
                outcome: NoticeOutcome::Skipped(NoNotice::NoUserId),
                fallback: None,
            };
        };
        let stored = match serde_json::to_string(&notice.draft) {
            Ok(json) => (self.pending.leave(&change, &json, &notice.request_id).await)
                .map_err(|e| e.as_str()),
            Err(_) => Err("unserializable".to_owned()),
        };
        match stored {
            Ok(()) => Delivered {
                outcome: NoticeOutcome::Pending {
                    ttl_secs: self.pending.ttl().as_secs(),
                },
                fallback: None,
            },
            Err(why) => Delivered {
                outcome: self.notifier.send_notice(Ok(notice.draft), until).await,
                fallback: Some(why),
            },
        }
    }
}
