//! The guard: runs one action request through the policy, the directory, the security alert and the user notice,
//! once per change, within the deadline, and writes one audit line for the decision.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::action::{ActionRequest, ActionResponse, WSO2_CLAIM_PREFIX, parse_request};
use crate::claims::{ClaimSet, EmailAddress};
use crate::directory::{Directory, DirectoryError};
use crate::idempotency::{self, Begin, Idempotency, Ticket};
use crate::notify::alert::AlertChannels;
use crate::notify::mask::ValueDisplay;
use crate::notify::notice::{NoNotice, NoticePlan, NoticeSettings};
use crate::notify::slack::SlackWebhook;
use crate::notify::templates::{RenderError, Templates};
use crate::notify::{ChangeReport, Email, Outbox, alert, notice};
use crate::policy::{self, Change, FailureModes, Limits, Membership, Update};

/// The person's notice and whether the e-mail address changes, or why there is none (the audit entry).
type PreparedNotice = Result<(Email, bool), String>;

/// The messages of one decision, rendered before they may be sent.
struct Prepared {
    /// The alert's facts (for Slack) and its e-mail (when the e-mail channel is on).
    alert: Option<(ChangeReport, Option<Result<Email, RenderError>>)>,
    notice: PreparedNotice,
}

/// The answer, and what is left to do once it is known.
struct Decided {
    response: ActionResponse,
    /// The change's idempotency ticket, when the change has something to send.
    ticket: Option<Ticket>,
    /// The notice, after a SUCCESS.
    notice: Option<PreparedNotice>,
}

impl From<ActionResponse> for Decided {
    fn from(response: ActionResponse) -> Self {
        Decided {
            response,
            ticket: None,
            notice: None,
        }
    }
}

/// Everything the guard needs, built once at start-up and shared by every request.
pub struct Guard {
    pub directory: Arc<dyn Directory>,
    /// Where e-mail goes (SES or the log outbox): alerts and notices.
    pub email: Arc<dyn Outbox>,
    pub slack: Option<Arc<SlackWebhook>>,
    pub channels: AlertChannels,
    pub alert_recipients: Vec<EmailAddress>,
    pub sensitive: ClaimSet,
    pub values: ValueDisplay,
    pub notice: NoticeSettings,
    pub templates: Arc<Templates>,
    pub idempotency: Idempotency,
    pub limits: Limits,
    pub failure_modes: FailureModes,
    pub deadline: Duration,
}

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
    pub alert: Vec<String>,
    pub alert_ms: Option<u128>,
    pub notice: Option<String>,
    pub notice_ms: Option<u128>,
    pub duplicate: Option<&'static str>,
    /// `skipped` when the change has nothing to send, so nothing to remember.
    pub idempotency: Option<&'static str>,
    /// The `requestId` came before with other content: this call is treated as a new change.
    pub request_id_reused: Option<bool>,
    pub idempotency_store: Option<&'static str>,
    pub failure_mode: Option<&'static str>,
    pub detail: Option<String>,
}

impl Audit {
    pub fn new(request_id: String) -> Self {
        Audit {
            request_id,
            ..Audit::default()
        }
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
            claims_written = %self.claims_written.join(","),
            claims_changed = %self.claims_changed.join(","),
            sensitive_changed = %self.sensitive_changed.join(","),
            department_check = self.department_check,
            directory_ms = self.directory_ms.map(|v| v as u64),
            alert = %self.alert.join(","),
            alert_ms = self.alert_ms.map(|v| v as u64),
            notice = self.notice.as_deref(),
            notice_ms = self.notice_ms.map(|v| v as u64),
            duplicate = self.duplicate,
            idempotency = self.idempotency,
            request_id_reused = self.request_id_reused,
            idempotency_store = self.idempotency_store,
            failure_mode = self.failure_mode,
            decision = response.status_name(),
            reason = response.reason(),
            http_status = response.http_status(),
            detail = self.detail.as_deref(),
            total_ms = (total_ms * 1000.0).round() / 1000.0,
            "decision"
        );
    }
}

/// What one change sends, worked out before anything is checked or sent.
struct Draft<'a> {
    req: &'a ActionRequest,
    update: &'a Update<'a>,
    sensitive: &'a [Change<'a>],
    /// The changes the person is told about.
    watched: &'a [Change<'a>],
    plan: Result<NoticePlan, NoNotice>,
}

impl Audit {
    /// Who and what the call is about: request id, tenant, user, initiator.
    fn describe_call(&mut self, req: &ActionRequest, call: &CallInfo) {
        self.request_id = match req.request_id.as_deref() {
            Some(id) if usable_request_id(id) => id.to_owned(),
            _ => call.fallback_request_id(),
        };
        let event = &req.event;
        self.tenant = event
            .tenant
            .as_ref()
            .and_then(|t| t.name.as_deref().or(t.id.as_deref()))
            .map(|s| crate::notify::one_line(s, 100));
        self.user_id = event
            .user
            .as_ref()
            .and_then(|u| u.id.as_deref())
            .map(|s| crate::notify::one_line(s, 100));
        self.initiator = event
            .initiator_type
            .as_ref()
            .map(|i| crate::notify::one_line(i.as_str(), 32));
    }
}

fn short_name(uri: &str) -> String {
    crate::notify::one_line(uri.strip_prefix(WSO2_CLAIM_PREFIX).unwrap_or(uri), 100)
}

/// A request id from the body is kept only if it looks like one (it goes into logs and e-mails).
fn usable_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

impl Guard {
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
        let decided =
            tokio::time::timeout_at(deadline.into(), self.run(body, call, deadline, &mut audit))
                .await;
        let response = match decided {
            Ok(decided) => self.after_answer(decided, deadline, &mut audit).await,
            Err(_) => {
                audit.detail = Some(format!(
                    "deadline of {} ms exceeded",
                    self.deadline.as_millis()
                ));
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
        } = decided;
        let record = async {
            match ticket {
                Some(ticket) => ticket.finish(&response).await,
                None => None,
            }
        };
        let notice = async {
            let notice = notice?;
            let t = Instant::now();
            let sent = tokio::time::timeout_at(deadline.into(), self.send_notice(notice)).await;
            Some((
                sent.unwrap_or_else(|_| "failed:deadline".into()),
                t.elapsed(),
            ))
        };
        // The ticket publishes its answer locally before its first await, so a timeout here only cuts the table.
        let (record, notice) =
            tokio::join!(tokio::time::timeout_at(deadline.into(), record), notice);
        match record {
            Ok(Some(state)) => audit.idempotency_store = Some(state.as_str()),
            Ok(None) => {}
            Err(_) => audit.idempotency_store = Some("store_failed"),
        }
        if let Some((entry, took)) = notice {
            audit.notice = Some(entry);
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
        audit.claims_changed = update.changes.iter().map(|c| short_name(c.uri)).collect();
        let sensitive = update.changes_in(&self.sensitive);
        audit.sensitive_changed = sensitive.iter().map(|c| short_name(c.uri)).collect();
        let watched = update.notice_changes(&self.notice.claims);
        let plan = notice::plan(&req, &watched, &self.notice);

        // Only a change that sends something needs to be remembered: the rest costs no record at all.
        let ticket = if sensitive.is_empty() && plan.is_err() {
            audit.idempotency = Some("skipped");
            None
        } else {
            match self.claim(&req, deadline, audit).await {
                Ok(ticket) => Some(ticket),
                Err(answer) => return answer.into(),
            }
        };
        let draft = Draft {
            req: &req,
            update: &update,
            sensitive: &sensitive,
            watched: &watched,
            plan,
        };
        let (response, notice) = self.decide(draft, audit).await;
        Decided {
            response,
            ticket,
            notice,
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
        if self.idempotency.request_id_reused(&key) {
            audit.request_id_reused = Some(true);
        }
        match self.idempotency.begin(&key, deadline).await {
            Begin::Owner(ticket) => {
                audit.idempotency_store = ticket.remote_state.map(|s| s.as_str());
                Ok(ticket)
            }
            Begin::Replay { response, from } => {
                audit.duplicate = Some(from.as_str());
                Err(response)
            }
            Begin::StillInProgress => {
                audit.duplicate = Some("still_in_progress");
                Err(policy::DUPLICATE_IN_PROGRESS)
            }
        }
    }

    async fn decide(
        &self,
        draft: Draft<'_>,
        audit: &mut Audit,
    ) -> (ActionResponse, Option<PreparedNotice>) {
        // The messages are rendered while the directory call is in flight; they are sent only if it allows.
        let now = SystemTime::now();
        let request_id = audit.request_id.clone();
        let departments = &draft.update.departments;
        let prepare = async { self.prepare(&draft, &request_id, now) };
        let (verdict, prepared) = if departments.is_empty() {
            (None, prepare.await)
        } else {
            let check = async {
                let t = Instant::now();
                let verdict = self.check_departments(departments).await;
                (verdict, t.elapsed().as_millis())
            };
            let ((verdict, ms), prepared) = tokio::join!(check, prepare);
            audit.directory_ms = Some(ms);
            (Some(verdict), prepared)
        };
        if let Some(answer) = verdict.and_then(|v| self.judge_directory(v, audit)) {
            return (answer, None);
        }

        if let Some((report, alert_email)) = prepared.alert {
            let t = Instant::now();
            let delivered = self.send_alert(&report, alert_email, audit).await;
            audit.alert_ms = Some(t.elapsed().as_millis());
            if !delivered {
                if self.failure_modes.allow_without_alert {
                    audit.failure_mode = Some("alert_undelivered_allowed");
                } else {
                    audit.failure_mode = Some("alert_undelivered_fail");
                    return (policy::ALERT_UNDELIVERED, None);
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
                audit.department_check = Some(match membership {
                    Membership::Known => "known",
                    Membership::Unknown => "unknown",
                });
                policy::answer_membership(membership)
            }
            Err(e) => {
                audit.department_check = Some(e.kind());
                audit.detail = Some(e.to_string());
                if self.failure_modes.allow_without_directory && e.is_outage() {
                    audit.failure_mode = Some("directory_unavailable_allowed");
                    None
                } else {
                    audit.failure_mode = Some("directory_unavailable_error");
                    Some(match e {
                        DirectoryError::Timeout(_) => policy::DIRECTORY_TIMEOUT,
                        DirectoryError::Unreachable => policy::DIRECTORY_UNREACHABLE,
                        DirectoryError::UnexpectedStatus(_) | DirectoryError::BadAnswer => {
                            policy::DIRECTORY_BAD_ANSWER
                        }
                    })
                }
            }
        }
    }

    /// Renders what may have to be sent: the alert (when sensitive claims change) and the person's notice.
    fn prepare(&self, draft: &Draft<'_>, request_id: &str, now: SystemTime) -> Prepared {
        let req = draft.req;
        let alert = (!draft.sensitive.is_empty()).then(|| {
            let report = ChangeReport::new(req, request_id, draft.sensitive, self.values, now);
            let email = self
                .channels
                .email
                .then(|| alert::security_alert(&self.templates, &report, &self.alert_recipients));
            (report, email)
        });
        let notice = match &draft.plan {
            Err(why) => Err(format!("skipped:{}", why.as_str())),
            Ok(plan) => {
                let report = ChangeReport::new(req, request_id, draft.watched, self.values, now);
                let support = self.notice.support_contact.as_deref();
                notice::user_notice(&self.templates, req, &report, plan, support)
                    .map(|email| (email, plan.email_changed))
                    .map_err(|e| format!("failed:template:{}", e.name))
            }
        };
        Prepared { alert, notice }
    }

    /// Sends the alert on every configured channel at once; delivered when every one took it.
    async fn send_alert(
        &self,
        report: &ChangeReport,
        email: Option<Result<Email, RenderError>>,
        audit: &mut Audit,
    ) -> bool {
        let email = async {
            Some(match email? {
                Ok(message) => self
                    .email
                    .send(&message)
                    .await
                    .map(|d| format!("email:sent:{}", d.message_id))
                    .map_err(|e| format!("email:failed:{}:{}", e.kind, e.detail)),
                Err(e) => Err(format!("email:failed:template:{}", e.name)),
            })
        };
        let slack = async {
            let webhook = self.slack.as_ref().filter(|_| self.channels.slack)?;
            Some(
                webhook
                    .post(report)
                    .await
                    .map(|()| "slack:sent".to_owned())
                    .map_err(|e| format!("slack:failed:{}:{}", e.kind, e.detail)),
            )
        };
        let (email, slack) = tokio::join!(email, slack);
        let mut delivered = true;
        for outcome in [email, slack].into_iter().flatten() {
            match outcome {
                Ok(line) => audit.alert.push(line),
                Err(line) => {
                    tracing::warn!(
                        target: "profile_guard::alert",
                        request_id = %report.request_id,
                        channel_failure = %line,
                        "a security alert channel did not take the alert"
                    );
                    audit.alert.push(line);
                    delivered = false;
                }
            }
        }
        delivered
    }

    /// Tells the person; never changes the answer. Returns the audit entry.
    async fn send_notice(&self, prepared: PreparedNotice) -> String {
        let (message, email_changed) = match prepared {
            Ok(p) => p,
            Err(why) => return why,
        };
        let recipients = if email_changed {
            "old_address"
        } else {
            "current_address"
        };
        match self.email.send(&message).await {
            Ok(d) => format!("sent:{}:{recipients}", d.message_id),
            Err(e) => {
                tracing::warn!(
                    target: "profile_guard::notice",
                    error_kind = e.kind,
                    error = %e.detail,
                    "the user notice could not be delivered; the update goes ahead"
                );
                format!("failed:{}:{}", e.kind, e.detail)
            }
        }
    }

    /// Every new department value must be known; the first unknown one decides.
    async fn check_departments(&self, departments: &[&str]) -> Result<Membership, DirectoryError> {
        for department in departments {
            if self.directory.lookup(department).await? == Membership::Unknown {
                return Ok(Membership::Unknown);
            }
        }
        Ok(Membership::Known)
    }
}
