//! The request pipeline: one action request through its steps in order (deadline, parse, limits, what changes,
//! who hears of it, the once-per-change ticket, the directory and the alert, the answer), then the notice and the
//! bookkeeping on what is left of the deadline. Each decision lives with its owner (`policy`, `directory`,
//! `notify`, `idempotency`); this file orders the steps and fills the audit line.

mod paths;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::action::{ActionRequest, ActionResponse, parse_request};
use crate::audit::{Audit, CallInfo, Duplicate, short_name};
use crate::claims::ClaimSet;
use crate::directory::{self, Directory, DirectoryError};
use crate::idempotency::{self, Begin, Idempotency, Ticket};
use crate::notify::outcome::{ChannelOutcome, NoticeOutcome};
use crate::notify::{Audience, Notifier, PreparedNotice};
use crate::pending::PendingChange;
use crate::policy::{self, FailureModes, Limits, Membership, Update};

pub use paths::{
    AlertPath, Delivered, LeavePending, Notice, NoticePath, QueueAlerts, SendAlerts, SendNotices,
};

/// Everything a request needs, built once at start-up and shared by every request.
pub struct Pipeline {
    pub directory: Arc<dyn Directory>,
    pub notifier: Arc<Notifier>,
    pub sensitive: ClaimSet,
    pub idempotency: Idempotency,
    pub limits: Limits,
    pub failure_modes: FailureModes,
    pub deadline: Duration,
    /// Out at once, or onto the queue (`ALERT_QUEUE_URL`).
    pub alerts: Arc<dyn AlertPath>,
    /// Out at once, or pending until the commit event (`USER_NOTICE_WHEN=commit`).
    pub notices: Arc<dyn NoticePath>,
}

/// The answer, and what is left to do once it is known.
struct Decided {
    response: ActionResponse,
    /// The change's once-per-change ticket, when the change has something to send.
    ticket: Option<Ticket>,
    /// The person's notice, after a SUCCESS.
    notice: Option<PreparedNotice>,
    /// The change a commit event will find the notice by (`USER_NOTICE_WHEN=commit`).
    pending_key: Option<PendingChange>,
}

impl From<ActionResponse> for Decided {
    fn from(response: ActionResponse) -> Self {
        Decided {
            response,
            ticket: None,
            notice: None,
            pending_key: None,
        }
    }
}

impl Pipeline {
    /// Decides one call: parse, check, alert, notify, answer. Never fails: every problem maps to a contract
    /// answer, and the whole call ends within the deadline.
    pub async fn handle(&self, body: &[u8], call: &CallInfo) -> ActionResponse {
        self.handle_since(body, call, Instant::now()).await
    }

    /// As `handle`, for a call that arrived at `started`: the deadline counts from then, the body read included.
    pub async fn handle_since(
        &self,
        body: &[u8],
        call: &CallInfo,
        started: Instant,
    ) -> ActionResponse {
        let deadline = started + self.deadline;
        let mut audit = Audit::new(String::new());
        let run = self.run(body, call, deadline, &mut audit);
        let response = match tokio::time::timeout_at(deadline.into(), run).await {
            Ok(decided) => self.after_answer(decided, deadline, &mut audit).await,
            Err(_) => {
                let limit = self.deadline.as_millis();
                audit.detail = Some(format!("deadline of {limit} ms exceeded"));
                policy::DEADLINE_EXCEEDED
            }
        };
        if audit.request_id.is_empty() {
            audit.request_id = call.fallback_request_id();
        }
        audit.emit(&response, started);
        response
    }

    /// Once the answer is known: the record's bookkeeping and the person's notice, on what is left of the
    /// deadline. Either can only be logged as failed; nothing here changes the answer.
    async fn after_answer(
        &self,
        decided: Decided,
        deadline: Instant,
        audit: &mut Audit,
    ) -> ActionResponse {
        let Decided {
            response,
            ticket,
            notice,
            pending_key,
        } = decided;
        // The ticket publishes its answer in this instance before its first await, so a timeout only cuts the
        // table's bookkeeping.
        let record = async {
            match ticket {
                Some(ticket) => ticket.finish(&response).await,
                None => None,
            }
        };
        let request_id = audit.request_id.clone();
        let notice = async {
            let t = Instant::now();
            let delivered = match notice? {
                Err(outcome) => Delivered {
                    outcome,
                    fallback: None,
                },
                Ok(draft) => {
                    let notice = Notice {
                        draft,
                        change: pending_key,
                        request_id,
                    };
                    let sent = self.notices.deliver(notice, deadline);
                    (tokio::time::timeout_at(deadline.into(), sent).await).unwrap_or(Delivered {
                        outcome: NoticeOutcome::OutOfTime,
                        fallback: None,
                    })
                }
            };
            Some((delivered, t.elapsed()))
        };
        let (record, notice) =
            tokio::join!(tokio::time::timeout_at(deadline.into(), record), notice);
        audit.idempotency_store = match record {
            Ok(state) => state.or(audit.idempotency_store),
            Err(_) => Some(idempotency::StoreState::StoreFailed),
        };
        if let Some((Delivered { outcome, fallback }, took)) = notice {
            audit.notice_lost = fallback.is_some() && outcome.undelivered();
            audit.pending_fallback = fallback;
            audit.notice = Some(outcome);
            audit.notice_ms = Some(took.as_millis());
        }
        response
    }

    async fn run(
        &self,
        body: &[u8],
        call: &CallInfo,
        deadline: Instant,
        audit: &mut Audit,
    ) -> Decided {
        let req = match parse_request(body) {
            Ok(req) => req,
            Err(e) => {
                audit.detail = Some(match e.position() {
                    Some((line, column)) => format!("{} at line {line} column {column}", e.kind()),
                    None => e.kind().to_owned(),
                });
                return policy::answer_parse_error(&e).into();
            }
        };
        audit.describe_call(&req, call);
        if let Some(answer) = policy::check_limits(&req, &self.limits) {
            audit.detail = Some("request over the claim or value limits".into());
            return answer.into();
        }
        let Some(update) = policy::update_of(&req) else {
            audit.detail = Some("no claims are being written".into());
            return ActionResponse::Success.into();
        };
        audit.claims_written = update.written.iter().map(|c| short_name(&c.uri)).collect();
        audit.claims_changed = Audit::names(&update.changes);
        let sensitive = update.changes_in(&self.sensitive);
        audit.sensitive_changed = Audit::names(&sensitive);
        let audience = self.notifier.audience(&req, &update, sensitive);

        // Only a change that sends something needs to be remembered: the rest costs no record at all.
        let ticket = if audience.hears_anything() {
            match self.claim(&req, deadline, audit).await {
                Ok(ticket) => Some(ticket),
                Err(answer) => return answer.into(),
            }
        } else {
            audit.untracked = true;
            None
        };
        let (response, notice) = self.decide(&update, &audience, audit).await;
        let watched = &self.notifier.notice_settings().claims;
        let pending_key = notice
            .as_ref()
            .is_some_and(|n| n.is_ok())
            .then(|| pending_key(&req, &audience, watched))
            .flatten();
        Decided {
            response,
            ticket,
            notice,
            pending_key,
        }
    }

    /// Claims the change's key, or answers as the first call did.
    async fn claim(
        &self,
        req: &ActionRequest,
        deadline: Instant,
        audit: &mut Audit,
    ) -> Result<Ticket, ActionResponse> {
        let key = idempotency::key_of(req);
        audit.request_id_reused = self.idempotency.request_id_reused(&key);
        match self.idempotency.begin(&key, deadline).await {
            Begin::Owner(ticket) => {
                audit.idempotency_store = ticket.remote_state;
                Ok(ticket)
            }
            Begin::Replay { response, from } => {
                audit.duplicate = Some(Duplicate::Replayed(from));
                Err(response)
            }
            Begin::StillInProgress => {
                audit.duplicate = Some(Duplicate::StillInProgress);
                Err(policy::DUPLICATE_IN_PROGRESS)
            }
        }
    }

    /// The directory and the alert decide the answer; the messages are rendered while the directory call is in
    /// flight and sent only if it allows.
    async fn decide(
        &self,
        update: &Update<'_>,
        audience: &Audience<'_>,
        audit: &mut Audit,
    ) -> (ActionResponse, Option<PreparedNotice>) {
        let now = SystemTime::now();
        let request_id = audit.request_id.clone();
        let prepare = async { self.notifier.prepare(audience, &request_id, now) };
        let departments = &update.departments;
        let (verdict, prepared) = if departments.is_empty() {
            (None, prepare.await)
        } else {
            let t = Instant::now();
            let check = directory::check_all(self.directory.as_ref(), departments);
            let (verdict, prepared) = tokio::join!(check, prepare);
            audit.directory_ms = Some(t.elapsed().as_millis());
            (Some(verdict), prepared)
        };
        if let Some(answer) = verdict.and_then(|v| self.judge_directory(v, audit)) {
            return (answer, None);
        }
        if let Some(alert) = prepared.alert {
            let t = Instant::now();
            audit.alert = self.alerts.deliver(alert).await;
            audit.alert_ms = Some(t.elapsed().as_millis());
            if !audit.alert.iter().all(ChannelOutcome::is_sent) {
                let (answer, mode) = policy::answer_alert_undelivered(&self.failure_modes);
                audit.failure_mode = Some(mode);
                if let Some(answer) = answer {
                    return (answer, None);
                }
            }
        }
        (ActionResponse::Success, Some(prepared.notice))
    }

    /// The answer the directory's verdict forces, if any.
    fn judge_directory(
        &self,
        verdict: Result<Membership, DirectoryError>,
        audit: &mut Audit,
    ) -> Option<ActionResponse> {
        match verdict {
            Ok(membership) => {
                audit.department_check = Some(membership.as_str());
                policy::answer_membership(membership)
            }
            Err(e) => {
                audit.department_check = Some(e.kind());
                audit.detail = Some(e.to_string());
                let modes = &self.failure_modes;
                let (answer, mode) =
                    policy::answer_directory_failure(e.failure(), e.is_outage(), modes);
                audit.failure_mode = Some(mode);
                answer
            }
        }
    }
}

/// The change a commit event will find this notice by: tenant, user and the watched claims it changes.
fn pending_key(
    req: &ActionRequest,
    audience: &Audience<'_>,
    watched: &ClaimSet,
) -> Option<PendingChange> {
    let tenant = req
        .event
        .tenant
        .as_ref()
        .and_then(|t| t.id.as_deref().or(t.name.as_deref()))?;
    let user = req.event.user.as_ref().and_then(|u| u.id.as_deref())?;
    let claims = audience.watched.iter().map(|c| c.uri);
    Some(PendingChange::of_update(tenant, user, claims, watched))
}
