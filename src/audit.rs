//! The audit record: one JSON line per decision, with names of claims and typed outcomes, never a value or a
//! secret. Its field names and values are what operators' log queries match on; they do not change.

use std::fmt;
use std::time::Instant;

use crate::action::{ActionRequest, ActionResponse, WSO2_CLAIM_PREFIX};
use crate::idempotency::{ReplaySource, StoreState};
use crate::metrics::Metrics;
use crate::notify::outcome::{ChannelOutcome, NoticeOutcome};
use crate::policy::{Change, FailureMode};
use crate::text::one_line;

/// What the transport knows about a call before the body is read.
#[derive(Debug, Clone, Default)]
pub struct CallInfo {
    /// The platform's id for this invocation (Lambda's request id), used when the body carries no `requestId`.
    pub invocation_id: Option<String>,
}

impl CallInfo {
    /// The id the audit line uses when the body has none: the invocation's, or a fresh one.
    pub fn fallback_request_id(&self) -> String {
        self.invocation_id
            .clone()
            .unwrap_or_else(|| format!("pg-{}", uuid::Uuid::new_v4()))
    }
}

/// Why a call was answered without doing the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    Replayed(ReplaySource),
    StillInProgress,
}

impl Duplicate {
    pub fn as_str(self) -> &'static str {
        match self {
            Duplicate::Replayed(from) => from.as_str(),
            Duplicate::StillInProgress => "still_in_progress",
        }
    }
}

/// The audit record of one decision. Names of claims only, never their values.
#[derive(Debug, Default)]
pub struct Audit {
    pub request_id: String,
    pub tenant: Option<String>,
    pub user_id: Option<String>,
    pub initiator: Option<String>,
    pub claims_written: Vec<String>,
    pub claims_changed: Vec<String>,
    pub sensitive_changed: Vec<String>,
    pub department_check: Option<&'static str>,
    pub directory_ms: Option<u128>,
    pub alert: Vec<ChannelOutcome>,
    pub alert_ms: Option<u128>,
    pub notice: Option<NoticeOutcome>,
    pub notice_ms: Option<u128>,
    /// `USER_NOTICE_WHEN=commit`, but the notice could not wait for its commit: why (it was sent at once).
    pub pending_fallback: Option<String>,
    /// The notice could neither be sent nor kept for later.
    pub notice_lost: bool,
    pub duplicate: Option<Duplicate>,
    /// Set when the change has nothing to send, so nothing to remember.
    pub untracked: bool,
    /// The `requestId` came before with other content: this call is treated as a new change.
    pub request_id_reused: bool,
    pub idempotency_store: Option<StoreState>,
    pub failure_mode: Option<FailureMode>,
    pub detail: Option<String>,
    /// Why a bearer token was refused (`AUTH_MODE=jwt`): the caller only learns that it was.
    pub token_problem: Option<&'static str>,
}

/// A list shown as one comma-separated field, without building the string first.
struct Joined<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for Joined<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            item.fmt(f)?;
        }
        Ok(())
    }
}

impl Audit {
    pub fn new(request_id: String) -> Self {
        Audit {
            request_id,
            ..Audit::default()
        }
    }

    /// Who and what the call is about: request id, tenant, user, initiator.
    pub fn describe_call(&mut self, req: &ActionRequest, call: &CallInfo) {
        self.request_id = match req.request_id.as_deref() {
            Some(id) if usable_request_id(id) => id.to_owned(),
            _ => call.fallback_request_id(),
        };
        let event = &req.event;
        let tenant = event.tenant.as_ref();
        self.tenant = tenant
            .and_then(|t| t.name_or_id())
            .map(|s| one_line(s, 100));
        let user = event.user.as_ref().and_then(|u| u.id.as_deref());
        self.user_id = user.map(|s| one_line(s, 100));
        let initiator = event.initiator_type.as_ref();
        self.initiator = initiator.map(|i| one_line(i.as_str(), 32));
    }

    /// The names of `changes`, as the audit line shows them.
    pub fn names(changes: &[Change<'_>]) -> Vec<String> {
        changes.iter().map(|c| short_name(c.uri)).collect()
    }

    /// Writes the one audit line for this decision.
    pub fn emit(&self, response: &ActionResponse, started: Instant) {
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            target: "profile_guard::audit",
            request_id = %self.request_id,
            tenant = self.tenant.as_deref(),
            user_id = self.user_id.as_deref(),
            initiator = self.initiator.as_deref(),
            claims_written = %Joined(&self.claims_written),
            claims_changed = %Joined(&self.claims_changed),
            sensitive_changed = %Joined(&self.sensitive_changed),
            department_check = self.department_check,
            directory_ms = self.directory_ms.map(|v| v as u64),
            alert = %Joined(&self.alert),
            alert_ms = self.alert_ms.map(|v| v as u64),
            notice = self.notice.as_ref().map(tracing::field::display),
            notice_ms = self.notice_ms.map(|v| v as u64),
            pending_fallback = self.pending_fallback.as_deref(),
            notice_lost = self.notice_lost.then_some(true),
            duplicate = self.duplicate.map(Duplicate::as_str),
            idempotency = self.untracked.then_some("skipped"),
            request_id_reused = self.request_id_reused.then_some(true),
            idempotency_store = self.idempotency_store.map(StoreState::as_str),
            failure_mode = self.failure_mode.map(FailureMode::as_str),
            decision = response.status_name(),
            reason = response.reason(),
            http_status = response.http_status(),
            detail = self.detail.as_deref(),
            token_problem = self.token_problem,
            total_ms = (total_ms * 1000.0).round() / 1000.0,
            "decision"
        );
        self.metrics(response, total_ms).emit();
    }

    /// The decision's metrics: its outcome and latency, the directory, the alert per channel, the notice, repeats.
    pub fn metrics(&self, response: &ActionResponse, total_ms: f64) -> Metrics {
        let mut m = Metrics::default();
        m.count("Decisions", 1).millis("DecisionLatency", total_ms);
        m.count(
            match response.status_name() {
                "SUCCESS" => "SuccessAnswers",
                "FAILED" => "FailedAnswers",
                _ => "ErrorAnswers",
            },
            1,
        );
        if let (Some(check), Some(ms)) = (self.department_check, self.directory_ms) {
            m.count("DirectoryCalls", 1)
                .millis("DirectoryLatency", ms as f64);
            if !matches!(check, "known" | "unknown") {
                m.count("DirectoryErrors", 1);
            }
        }
        for outcome in &self.alert {
            m.count(alert_metric(outcome), 1);
        }
        match self.duplicate {
            Some(Duplicate::Replayed(ReplaySource::Local)) => m.count("RepeatsFromMemory", 1),
            Some(Duplicate::Replayed(_)) => m.count("RepeatsFromTable", 1),
            _ => &mut m,
        };
        if let Some(notice) = &self.notice {
            m.count(notice_metric(notice), 1);
        }
        if self.notice_lost {
            m.count(NOTICES_LOST, 1);
        }
        m
    }
}

/// The metric of a notice that could neither be sent nor kept (an alarm watches it).
pub const NOTICES_LOST: &str = "NoticesLost";

/// The metric one channel's outcome adds to.
fn alert_metric(outcome: &ChannelOutcome) -> &'static str {
    use crate::notify::outcome::Channel;
    match outcome {
        ChannelOutcome::Queued { .. } => "AlertsQueued",
        ChannelOutcome::Sent { channel, .. } => match channel {
            Channel::Email => "AlertsDeliveredEmail",
            Channel::Slack => "AlertsDeliveredSlack",
            Channel::Teams => "AlertsDeliveredTeams",
            Channel::Queue => "AlertsQueued",
        },
        ChannelOutcome::Failed { error, .. }
            if error.kind == crate::upstream::DeliveryErrorKind::Throttled =>
        {
            "AlertsThrottled"
        }
        _ => "AlertsFailed",
    }
}

/// The metric a notice's outcome adds to.
fn notice_metric(outcome: &NoticeOutcome) -> &'static str {
    match outcome {
        NoticeOutcome::Sent { .. } => "NoticesSent",
        NoticeOutcome::Pending { .. } => "NoticesPending",
        NoticeOutcome::Skipped(_) => "NoticesSkipped",
        NoticeOutcome::Channels { slack, email } => {
            let email_sent = email
                .as_deref()
                .is_some_and(|e| matches!(e, NoticeOutcome::Sent { .. }));
            if email_sent || *slack == crate::notify::outcome::DmOutcome::Sent {
                "NoticesSent"
            } else {
                "NoticesFailed"
            }
        }
        _ => "NoticesFailed",
    }
}

/// A claim's name without WSO2's dialect prefix.
pub fn short_name(uri: &str) -> String {
    one_line(uri.strip_prefix(WSO2_CLAIM_PREFIX).unwrap_or(uri), 100)
}

/// A request id from the body is kept only if it looks like one (it goes into logs and e-mails).
fn usable_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}
