//! A WSO2 IS / Asgardeo webhook delivery through its steps: read the Security Event Token, keep the stored profile
//! changes, and for each, once per `jti`, send the notice its pre-update call left waiting
//! (`USER_NOTICE_WHEN=commit`), with the initiator's IP address added. One audit line per event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::okta::HookAnswer;
use crate::audit::short_name;
use crate::claims::{ClaimSet, EMAIL_CLAIM};
use crate::idempotency::{Begin, ChangeKey, Idempotency, Pending, PendingKey};
use crate::notify::outcome::NoticeOutcome;
use crate::notify::{NoticeDraft, Notifier};
use crate::wso2_events::{ProfileUpdated, Wso2Event, parse_delivery};

/// Everything the WSO2 webhook route needs, built once at start-up.
pub struct Wso2Hook {
    pub notifier: Arc<Notifier>,
    pub idempotency: Idempotency,
    /// Where pre-update calls leave notices; `None` with `USER_NOTICE_WHEN=update`.
    pub pending: Option<Arc<Pending>>,
    /// `USER_NOTICE_CLAIMS`: the claims a notice is about (the e-mail address always is).
    pub notice_claims: ClaimSet,
    pub deadline: Duration,
}

/// What became of one event, for its audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Sent(NoticeOutcome),
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
            Fate::Sent(outcome) => outcome.to_string(),
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
            Fate::Sent(outcome) => outcome.worth_retrying(),
            _ => false,
        }
    }
}

impl Wso2Hook {
    /// Handles one delivery that arrived at `started`.
    pub async fn handle(&self, body: &[u8], started: Instant) -> HookAnswer {
        let deadline = started + self.deadline;
        let delivery = match parse_delivery(body) {
            Ok(delivery) => delivery,
            Err(e) => return HookAnswer::NotADelivery(e.to_string()),
        };
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
        if let Some(pending) = &self.pending {
            crate::pipeline::report_expired(pending).await;
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
        let watched: Vec<&str> = change
            .claims
            .iter()
            .map(String::as_str)
            .filter(|uri| self.notice_claims.contains(uri) || *uri == EMAIL_CLAIM)
            .collect();
        if watched.is_empty() {
            return Fate::NothingWatched;
        }
        let key = PendingKey::of(&change.tenant, &change.user_id, &watched);
        let ticket = match self
            .idempotency
            .begin(&ChangeKey::of_event("wso2", jti, "notice"), deadline)
            .await
        {
            Begin::Owner(ticket) => ticket,
            Begin::Replay { .. } => return Fate::Duplicate,
            Begin::StillInProgress => return Fate::Retry("in_progress".into()),
        };
        let fate = self.send_pending(pending, &key, change).await;
        ticket.settle_event(fate.retry()).await;
        fate
    }

    /// Takes the waiting notice and sends it; one that could not go out for a passing reason is put back.
    async fn send_pending(
        &self,
        pending: &Pending,
        key: &PendingKey,
        change: &ProfileUpdated,
    ) -> Fate {
        let json = match pending.take(key).await {
            Ok(Some(json)) => json,
            Ok(None) => return Fate::NoPendingNotice,
            Err(e) => return Fate::Retry(format!("pending_store:{}", e.0)),
        };
        let Ok(mut draft) = serde_json::from_str::<NoticeDraft>(&json) else {
            return Fate::Sent(NoticeOutcome::PendingFailed {
                detail: "unreadable".into(),
            });
        };
        draft.context.initiator_ip = change.initiator_ip.map(|ip| ip.to_string());
        let outcome = self.notifier.send_notice(Ok(draft)).await;
        if outcome.worth_retrying() && pending.put_back(key, &json).await.is_err() {
            return Fate::Sent(NoticeOutcome::PendingFailed {
                detail: "not put back".into(),
            });
        }
        Fate::Sent(outcome)
    }
}

fn log_event(jti: &str, change: Option<&ProfileUpdated>, fate: &Fate, started: Instant) {
    let claims: Vec<String> = change
        .map(|c| c.claims.iter().map(|u| short_name(u)).collect())
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
