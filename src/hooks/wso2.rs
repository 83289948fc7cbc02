//! A WSO2 IS / Asgardeo webhook delivery through its steps: read the Security Event Token, keep the stored profile
//! changes, and for each, once per `jti`, send the notice its pre-update call left waiting
//! (`USER_NOTICE_WHEN=commit`), with the initiator's IP address added. One audit line per event.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::FutureExt as _;

use super::HookAnswer;
use crate::audit::short_name;
use crate::claims::ClaimSet;
use crate::idempotency::{Begin, ChangeKey, Idempotency};
use crate::metrics::Metrics;
use crate::notify::outcome::NoticeOutcome;
use crate::notify::{NoticeDraft, Notifier};
use crate::pending::{Claimed, Pending, PendingChange, Taken};
use crate::wso2_events::{ProfileUpdated, Wso2Event, check_age, parse_delivery};

/// The send stops this long before the deadline, so a notice cut short is put back before the answer.
const SEND_RESERVE: Duration = Duration::from_millis(300);
/// A taken notice stays leased a little past the deadline; after that another delivery may take it.
const LEASE_MARGIN: Duration = Duration::from_secs(1);

/// Everything the WSO2 webhook route needs, built once at start-up.
pub struct Wso2Hook {
    pub notifier: Arc<Notifier>,
    pub idempotency: Idempotency,
    /// Where pre-update calls leave notices; `None` with `USER_NOTICE_WHEN=update`.
    pub pending: Option<Arc<Pending>>,
    /// `USER_NOTICE_CLAIMS`: the claims a notice is about (the e-mail address always is).
    pub notice_claims: ClaimSet,
    pub deadline: Duration,
    /// `IDEMPOTENCY_EVENT_TTL_SECS`: how long a `jti` is remembered, so how old a delivery may be.
    pub event_ttl: Duration,
}

/// What became of one event, for its audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    /// The notice's outcome, and whether part of it is still owed (put back for the next delivery).
    Sent {
        outcome: NoticeOutcome,
        owed: bool,
    },
    /// Nothing was waiting: the action is not configured, the notice expired, or nobody was to be told.
    NoPendingNotice,
    /// `USER_NOTICE_WHEN=update`: notices went out at the pre-update call.
    NoticesAtUpdate,
    NothingWatched,
    Duplicate,
    /// Another delivery of the same event is at work, or the store failed: try again.
    Retry(String),
}

impl Fate {
    fn as_str(&self) -> String {
        match self {
            Fate::Sent { outcome, .. } => outcome.to_string(),
            Fate::NoPendingNotice => "no_pending_notice".into(),
            Fate::NoticesAtUpdate => "sent_at_update".into(),
            Fate::NothingWatched => "nothing_watched".into(),
            Fate::Duplicate => "duplicate".into(),
            Fate::Retry(why) => format!("retry:{why}"),
        }
    }

    fn retry(&self) -> bool {
        match self {
            Fate::Retry(_) => true,
            Fate::Sent { owed, .. } => *owed,
            _ => false,
        }
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Wso2Hook {
    /// Handles one delivery that arrived at `started`.
    pub async fn handle(&self, body: &[u8], started: Instant) -> HookAnswer {
        let deadline = started + self.deadline;
        let delivery = match parse_delivery(body) {
            Ok(delivery) => delivery,
            Err(e) => return HookAnswer::NotADelivery(e.to_string()),
        };
        if let Err(stale) = check_age(delivery.issued_ms, epoch_ms(), self.event_ttl) {
            log_stale(&delivery.jti, &stale.to_string());
            return HookAnswer::Stale(stale.to_string());
        }
        let mut retry = 0;
        for event in &delivery.events {
            let fate = match event {
                Wso2Event::ProfileUpdated(change) => {
                    let work = self.process(&delivery.jti, change, deadline);
                    let fate = tokio::time::timeout_at(deadline.into(), work)
                        .await
                        .unwrap_or_else(|_| Fate::Retry("deadline".into()));
                    log_event(&delivery.jti, Some(change), &fate, started);
                    fate
                }
                Wso2Event::Incomplete | Wso2Event::Other(_) => {
                    log_other(&delivery.jti, event);
                    continue;
                }
            };
            retry += usize::from(fate.retry());
        }
        match retry {
            0 => HookAnswer::Done,
            messages => HookAnswer::Retry { messages },
        }
    }

    /// The notice of one committed change, at most once per `jti`.
    async fn process(&self, jti: &str, change: &ProfileUpdated, deadline: Instant) -> Fate {
        let Some(pending) = &self.pending else {
            return Fate::NoticesAtUpdate;
        };
        let claims = change.claims.as_deref();
        let Ok(key) =
            PendingChange::of_commit(&change.tenant, &change.user_id, claims, &self.notice_claims)
        else {
            return Fate::NothingWatched;
        };
        let ticket = match self
            .idempotency
            .begin(&ChangeKey::of_event("wso2", jti, "notice"), deadline)
            .await
        {
            Begin::Owner(ticket) => ticket,
            Begin::Replay { .. } => return Fate::Duplicate,
            Begin::StillInProgress => return Fate::Retry("in_progress".into()),
        };
        let fate = self.send_pending(pending, &key, change, deadline).await;
        ticket.settle_event(fate.retry()).await;
        fate
    }

    /// Takes the oldest waiting notice of the change and sends it; what could not go out for a passing reason
    /// (a failure, the deadline, a panic) is put back for the next delivery.
    async fn send_pending(
        &self,
        pending: &Pending,
        key: &PendingChange,
        change: &ProfileUpdated,
        deadline: Instant,
    ) -> Fate {
        let lease_until =
            SystemTime::now() + deadline.saturating_duration_since(Instant::now()) + LEASE_MARGIN;
        let claimed = match pending.take(key, lease_until).await {
            Ok(Taken::Notice(claimed)) => claimed,
            Ok(Taken::InFlight) => return Fate::Retry("in_flight".into()),
            Ok(Taken::Nothing) => return Fate::NoPendingNotice,
            Err(e) => return Fate::Retry(format!("pending_store:{}", e.0)),
        };
        let Ok(mut draft) = serde_json::from_str::<NoticeDraft>(&claimed.notice) else {
            return self.unreadable(pending, &claimed).await;
        };
        draft.context.initiator_ip = change.initiator_ip.map(|ip| ip.to_string());
        let send_by = deadline.checked_sub(SEND_RESERVE).unwrap_or(deadline);
        let sending = self.notifier.send_notice(Ok(draft.clone()), send_by);
        let (outcome, owed) = match AssertUnwindSafe(sending).catch_unwind().await {
            Ok(outcome) => {
                let owed = draft.still_owed(&outcome);
                (outcome, owed)
            }
            // A panic tells nothing of what went out: all of it is still owed.
            Err(_) => (NoticeOutcome::OutOfTime, Some(draft)),
        };
        let kept = match &owed {
            Some(rest) => {
                // A draft read from JSON always writes back; were it not to, the whole notice waits again.
                let json = serde_json::to_string(rest).unwrap_or_else(|_| claimed.notice.clone());
                pending.put_back(&claimed, &json).await.map(|_| ())
            }
            None => pending.sent(&claimed).await.map(|_| ()),
        };
        if let Err(e) = kept {
            // The lease runs out by itself: the notice is then free for the next delivery.
            tracing::warn!(target: "profile_guard::notice", error = %e, "a taken notice could not be settled");
        }
        Fate::Sent {
            outcome,
            owed: owed.is_some(),
        }
    }

    /// A waiting notice this version cannot read can never be sent: removed, and counted as lost.
    async fn unreadable(&self, pending: &Pending, claimed: &Claimed) -> Fate {
        let _ = pending.sent(claimed).await;
        Metrics::default()
            .count(crate::audit::NOTICES_LOST, 1)
            .emit();
        Fate::Sent {
            outcome: NoticeOutcome::PendingFailed {
                detail: "unreadable".into(),
            },
            owed: false,
        }
    }
}

fn log_event(jti: &str, change: Option<&ProfileUpdated>, fate: &Fate, started: Instant) {
    let claims: Vec<String> = change
        .and_then(|c| c.claims.as_ref())
        .map(|claims| claims.iter().map(|u| short_name(u)).collect())
        .unwrap_or_default();
    tracing::info!(
        target: "profile_guard::audit",
        source = "wso2_webhook",
        jti = %jti,
        tenant = change.map(|c| c.tenant.as_str()),
        user_id = change.map(|c| c.user_id.as_str()),
        initiator = change.and_then(|c| c.initiator.as_deref()),
        claims_changed = %claims.join(","),
        notice = %fate.as_str(),
        decision = if fate.retry() { "retry" } else { "done" },
        total_ms = started.elapsed().as_millis() as u64,
        "wso2 event"
    );
}

fn log_stale(jti: &str, why: &str) {
    tracing::info!(
        target: "profile_guard::audit",
        source = "wso2_webhook",
        jti = %jti,
        decision = "refused",
        reason = "stale_delivery",
        detail = %why,
        "wso2 event"
    );
}

fn log_other(jti: &str, event: &Wso2Event) {
    let what = match event {
        Wso2Event::Other(uri) => uri.as_str(),
        _ => "userProfileUpdated without a user or tenant",
    };
    tracing::info!(
        target: "profile_guard::audit",
        source = "wso2_webhook",
        jti = %jti,
        event = %what,
        decision = "ignored",
        "wso2 event"
    );
}
