//! What a report link does. `GET` only reads: the token is checked and the change shown (mail scanners and link
//! previews fetch it, so it must change nothing). `POST` acts, once per change: the lock when asked for, then the
//! urgent alert on every alert channel (saying how the lock went), an audit line and the metric.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::lock::{AccountLock, LockOutcome};
use super::once::{Claim, Once, record_id};
use super::page::Page;
use super::settings::ReportAction;
use super::token::{LinkKey, TokenError, Verified};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::notify::messages::report::ReportAlert;
use crate::notify::outcome::ChannelOutcome;
use crate::notify::report_link::ChangeSource;
use crate::text::one_line;

/// The most of the deadline the lock may take: the alert needs the rest.
const LOCK_BUDGET: Duration = Duration::from_millis(1500);
/// A record outlives its link by this much, so a click at the last second is still seen by the next one.
const RECORD_MARGIN: Duration = Duration::from_secs(60);

/// Who pressed the button, as far as the platform says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reporter {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything the report routes need, built once at start-up.
pub struct Reports {
    pub key: LinkKey,
    pub notifier: Arc<Notifier>,
    pub once: Once,
    pub action: ReportAction,
    /// The lock of WSO2 / Asgardeo accounts (SCIM2), when configured.
    pub wso2_lock: Option<Arc<dyn AccountLock>>,
    /// The lock of Okta accounts (the Users API), when configured.
    pub okta_lock: Option<Arc<dyn AccountLock>>,
    /// A click's whole time (`DEADLINE_MS`).
    pub deadline: Duration,
}

/// How a click ended, for its audit line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Reported,
    AlreadyReported,
    /// Nobody could be told and nothing was done: the person may press again.
    NotPassedOn,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Reported => "reported",
            Decision::AlreadyReported => "already_reported",
            Decision::NotPassedOn => "not_passed_on",
        }
    }
}

impl Reports {
    /// The support contact the pages name (`SUPPORT_CONTACT`).
    pub fn support(&self) -> Option<&str> {
        self.notifier.notice_settings().support_contact.as_deref()
    }

    /// `GET /report?t=…`: the page for a token; nothing is changed or sent.
    pub async fn view(&self, token: Option<&str>) -> Page {
        let verified = match self.check(token) {
            Ok(verified) => verified,
            Err(why) => return log_unusable("report page", why),
        };
        let change = verified.change;
        let reported = self.once.is_reported(&record_id(&change)).await;
        tracing::info!(
            target: "profile_guard::audit",
            source = change.source.as_str(),
            tenant = %change.tenant,
            user_id = %change.user_id,
            reference = %change.reference,
            decision = if reported { "already_reported" } else { "shown" },
            "report page"
        );
        match reported {
            true => Page::AlreadyReported,
            false => Page::Confirm {
                change,
                token: token.unwrap_or_default().to_owned(),
                locks: self.action == ReportAction::Lock,
            },
        }
    }

    fn check(&self, token: Option<&str>) -> Result<Verified, TokenError> {
        let token = token.ok_or(TokenError::Malformed)?;
        self.key.verify(token, SystemTime::now())
    }

    /// `POST /report`: reports the change once, within the deadline counted from `arrived`.
    pub async fn report(&self, token: Option<&str>, reporter: Reporter, arrived: Instant) -> Page {
        let verified = match self.check(token) {
            Ok(verified) => verified,
            Err(why) => return log_unusable("report", why),
        };
        let deadline = arrived + self.deadline;
        let id = record_id(&verified.change);
        let now = SystemTime::now();
        let ttl = verified.expires.duration_since(now).unwrap_or_default() + RECORD_MARGIN;
        let until = now + self.deadline + Duration::from_secs(1);
        let claim = self.once.claim(&id, until, ttl).await;
        if claim == Claim::Already {
            log_report(&verified, &reporter, Decision::AlreadyReported, claim, None);
            return Page::AlreadyReported;
        }
        let lock = self.lock(&verified, deadline).await;
        let alert = ReportAlert {
            change: verified.change.clone(),
            reported_at: now,
            reporter_ip: reporter.ip.clone(),
            user_agent: reporter.user_agent.clone(),
            action: lock.sentence(),
            action_failed: lock.failed(),
        };
        let send = self.notifier.send_report_alert(&alert);
        let alerts = tokio::time::timeout_at(deadline.into(), send)
            .await
            .unwrap_or_default();
        let told = alerts.iter().any(ChannelOutcome::is_sent);
        // Told, or the account acted on: the report stands. Neither: the next click may try again.
        let decision = match told || lock.did_something() {
            true => Decision::Reported,
            false => Decision::NotPassedOn,
        };
        if claim == Claim::Mine {
            let _ = match decision {
                Decision::NotPassedOn => self.once.release(&id).await,
                _ => self.once.done(&id, ttl).await,
            };
        }
        let outcome = Outcome {
            lock: &lock,
            alerts: &alerts,
        };
        log_report(&verified, &reporter, decision, claim, Some(outcome));
        count(decision, &lock);
        match decision {
            Decision::NotPassedOn => Page::NotPassedOn {
                token: token.unwrap_or_default().to_owned(),
            },
            _ => Page::Reported(lock.note(verified.change.source)),
        }
    }

    /// The lock, when asked for, within its share of the deadline.
    async fn lock(&self, verified: &Verified, deadline: Instant) -> LockOutcome {
        if self.action == ReportAction::Alert {
            return LockOutcome::NotAsked;
        }
        let change = &verified.change;
        let lock = match change.source {
            ChangeSource::Wso2 => self.wso2_lock.as_ref(),
            ChangeSource::Okta => self.okta_lock.as_ref(),
        };
        let Some(lock) = lock else {
            return LockOutcome::NotConfigured(change.source);
        };
        let share = (self.deadline / 2).min(LOCK_BUDGET);
        let until = (Instant::now() + share).min(deadline);
        let steps = lock.lock(&change.tenant, &change.user_id, until);
        match tokio::time::timeout_at(until.into(), steps).await {
            Ok(steps) => LockOutcome::Steps(steps),
            Err(_) => LockOutcome::OutOfTime,
        }
    }
}

/// What a first click did.
struct Outcome<'a> {
    lock: &'a LockOutcome,
    alerts: &'a [ChannelOutcome],
}

/// A link that cannot be used: its audit line (never the token), and its page.
fn log_unusable(message: &'static str, why: TokenError) -> Page {
    tracing::info!(target: "profile_guard::audit", decision = why.as_str(), "{message}");
    match why {
        TokenError::Expired => Page::Expired,
        TokenError::Malformed | TokenError::Signature => Page::Invalid,
    }
}

/// One audit line per click: the change (names, never values), who clicked from where, and what was done.
fn log_report(
    verified: &Verified,
    reporter: &Reporter,
    decision: Decision,
    claim: Claim,
    outcome: Option<Outcome<'_>>,
) {
    let change = &verified.change;
    let alert = outcome.as_ref().map(|o| {
        let sent: Vec<String> = o.alerts.iter().map(ToString::to_string).collect();
        match sent.is_empty() {
            true => "failed:deadline".to_owned(),
            false => sent.join(","),
        }
    });
    let changed: Vec<&str> = change.lines.iter().map(|l| l.name.as_str()).collect();
    let level_warn = decision == Decision::NotPassedOn;
    macro_rules! line {
        ($level:ident) => {
            tracing::$level!(
                target: "profile_guard::audit",
                source = change.source.as_str(),
                tenant = %change.tenant,
                user_id = %change.user_id,
                reference = %change.reference,
                changed = %changed.join(","),
                decision = decision.as_str(),
                once = claim.as_str(),
                lock = outcome.as_ref().map(|o| o.lock.audit()),
                alert = alert.as_deref(),
                reporter_ip = reporter.ip.as_deref(),
                user_agent = reporter.user_agent.as_deref().map(|ua| one_line(ua, 200)),
                "report"
            )
        };
    }
    match level_warn {
        true => line!(warn),
        false => line!(info),
    }
}

/// The metric line of a first click.
fn count(decision: Decision, lock: &LockOutcome) {
    let mut metrics = Metrics::default();
    metrics.count("ReportsReceived", 1);
    if decision == Decision::NotPassedOn {
        metrics.count("ReportsNotPassedOn", 1);
    }
    if lock.failed() {
        metrics.count("ReportLocksFailed", 1);
    }
    metrics.emit();
}
