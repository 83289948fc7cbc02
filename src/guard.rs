//! The guard: runs one action request through the policy, the directory and the security alert, and writes one
//! audit line for the decision.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::action::{ActionRequest, ActionResponse, WSO2_CLAIM_PREFIX, parse_request};
use crate::config::ClaimSet;
use crate::directory::{Directory, DirectoryError};
use crate::notify::mask::ValueDisplay;
use crate::notify::{ChangeReport, Outbox, alert};
use crate::policy::{self, Update};

/// Everything the guard needs, built once at start-up and shared by every request.
pub struct Guard {
    pub directory: Arc<dyn Directory>,
    pub alert_outbox: Arc<dyn Outbox>,
    pub alert_recipients: Vec<String>,
    pub sensitive: ClaimSet,
    pub values: ValueDisplay,
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
    pub alert: Option<String>,
    pub alert_ms: Option<u128>,
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
            alert = self.alert.as_deref(),
            alert_ms = self.alert_ms.map(|v| v as u64),
            decision = response.status_name(),
            reason = response.reason(),
            http_status = response.http_status(),
            detail = self.detail.as_deref(),
            total_ms = (total_ms * 1000.0).round() / 1000.0,
            "decision"
        );
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
    /// Decides one call: parse, check, alert, answer. Never fails: every problem maps to a contract answer.
    pub async fn handle(&self, body: &[u8], call: &CallInfo) -> ActionResponse {
        let started = Instant::now();
        let req = match parse_request(body) {
            Ok(req) => req,
            Err(e) => {
                let mut audit = Audit::new(call.fallback_request_id());
                audit.detail = Some(match e.position() {
                    Some((line, column)) => format!("{} at line {line} column {column}", e.kind()),
                    None => e.kind().to_owned(),
                });
                let response = policy::answer_parse_error(&e);
                audit.emit(&response, started);
                return response;
            }
        };
        let request_id = match req.request_id.as_deref() {
            Some(id) if usable_request_id(id) => id.to_owned(),
            _ => call.fallback_request_id(),
        };
        let mut audit = Audit::new(request_id);
        audit.tenant = req
            .event
            .tenant
            .as_ref()
            .and_then(|t| t.name.as_deref().or(t.id.as_deref()))
            .map(|s| crate::notify::one_line(s, 100));
        audit.user_id = req
            .event
            .user
            .as_ref()
            .and_then(|u| u.id.as_deref())
            .map(|s| crate::notify::one_line(s, 100));
        audit.initiator = req
            .event
            .initiator_type
            .as_ref()
            .map(|i| crate::notify::one_line(i.as_str(), 32));

        let response = match policy::update_of(&req) {
            None => {
                audit.detail = Some("no claims are being written".into());
                ActionResponse::Success
            }
            Some(update) => self.decide(&req, &update, &mut audit).await,
        };
        audit.emit(&response, started);
        response
    }

    async fn decide(
        &self,
        req: &ActionRequest,
        update: &Update<'_>,
        audit: &mut Audit,
    ) -> ActionResponse {
        audit.claims_written = update.written.iter().map(|c| short_name(&c.uri)).collect();
        audit.claims_changed = update.changes.iter().map(|c| short_name(c.uri)).collect();
        let sensitive = update.changes_in(&self.sensitive);
        audit.sensitive_changed = sensitive.iter().map(|c| short_name(c.uri)).collect();

        if !update.departments.is_empty() {
            let t = Instant::now();
            let verdict = self.check_departments(&update.departments).await;
            audit.directory_ms = Some(t.elapsed().as_millis());
            match verdict {
                Ok(membership) => {
                    audit.department_check = Some(match membership {
                        policy::Membership::Known => "known",
                        policy::Membership::Unknown => "unknown",
                    });
                    if let Some(answer) = policy::answer_membership(membership) {
                        return answer;
                    }
                }
                Err(e) => {
                    audit.department_check = Some(e.kind());
                    audit.detail = Some(e.to_string());
                    return match e {
                        DirectoryError::Timeout(_) => policy::DIRECTORY_TIMEOUT,
                        DirectoryError::Unreachable => policy::DIRECTORY_UNREACHABLE,
                        DirectoryError::UnexpectedStatus(_) | DirectoryError::BadAnswer => {
                            policy::DIRECTORY_BAD_ANSWER
                        }
                    };
                }
            }
        }

        if sensitive.is_empty() {
            return ActionResponse::Success;
        }
        let report = ChangeReport::new(
            req,
            &audit.request_id,
            &sensitive,
            self.values,
            SystemTime::now(),
        );
        let email = alert::security_alert(&report, &self.alert_recipients);
        let t = Instant::now();
        let sent = self.alert_outbox.send(&email).await;
        audit.alert_ms = Some(t.elapsed().as_millis());
        match sent {
            Ok(delivery) => {
                audit.alert = Some(format!("sent:{}", delivery.message_id));
                ActionResponse::Success
            }
            Err(e) => {
                audit.alert = Some(format!("failed:{}", e.kind));
                audit.detail = Some(e.to_string());
                policy::ALERT_UNDELIVERED
            }
        }
    }

    /// Every new department value must be known; the first unknown one decides.
    async fn check_departments(
        &self,
        departments: &[&str],
    ) -> Result<policy::Membership, DirectoryError> {
        for department in departments {
            if self.directory.lookup(department).await? == policy::Membership::Unknown {
                return Ok(policy::Membership::Unknown);
            }
        }
        Ok(policy::Membership::Known)
    }
}
