//! What one catch-up run came to: one audit line (`"message":"okta catchup"`), one metric line
//! (`CatchupEventsSeen`, `CatchupEventsSent`, `CatchupRunsFailed`) and, in Lambda, the invocation's answer.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::metrics::Metrics;
use crate::okta::Cursor;
use crate::upstream::DeliveryError;

/// Events the log returned (each `uuid` once a run).
pub const EVENTS_SEEN: &str = "CatchupEventsSeen";
/// Events a run sent a message about: the hook had missed them.
pub const EVENTS_SENT: &str = "CatchupEventsSent";
/// Runs that ended on a failure (Okta refused or failed, the store failed, the lease was lost, a wrong trigger).
pub const RUNS_FAILED: &str = "CatchupRunsFailed";

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The log was read to its end (an empty page).
    CaughtUp,
    /// Another run holds the lease: nothing was read.
    Busy,
    /// The run's time ran out; the next run resumes at the cursor.
    OutOfTime,
    /// Okta's rate limit is used up until later than the run may wait; the next run resumes at the cursor.
    RateLimited { reset: Option<SystemTime> },
    /// Okta refused or failed a read.
    Failed(DeliveryError),
    /// The cursor and lease store could not be reached.
    StoreFailed(String),
    /// The lease ran out and another run took it: this one stopped without moving the cursor again.
    LeaseLost,
    /// The Lambda payload was not a trigger.
    NotATrigger,
}

impl Outcome {
    pub fn as_str(&self) -> String {
        match self {
            Outcome::CaughtUp => "caught_up".into(),
            Outcome::Busy => "busy".into(),
            Outcome::OutOfTime => "out_of_time".into(),
            Outcome::RateLimited { .. } => "rate_limited".into(),
            Outcome::Failed(e) => format!("failed:{}", e.kind),
            Outcome::StoreFailed(_) => "store_failed".into(),
            Outcome::LeaseLost => "lease_lost".into(),
            Outcome::NotATrigger => "not_a_trigger".into(),
        }
    }

    /// Whether the run failed (as opposed to stopping where the next run resumes).
    pub fn failed(&self) -> bool {
        matches!(
            self,
            Outcome::Failed(_)
                | Outcome::StoreFailed(_)
                | Outcome::LeaseLost
                | Outcome::NotATrigger
        )
    }

    fn detail(&self) -> Option<String> {
        match self {
            Outcome::Failed(e) => Some(crate::text::one_line(&e.detail, 200)),
            Outcome::StoreFailed(code) => {
                Some(format!("store: {}", crate::text::one_line(code, 100)))
            }
            Outcome::RateLimited { reset: Some(at) } => Some(format!(
                "resets at {}",
                humantime::format_rfc3339_seconds(*at)
            )),
            _ => None,
        }
    }
}

/// One run, counted.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub outcome: Outcome,
    /// Pages read.
    pub pages: usize,
    pub events_seen: usize,
    /// Events that are profile changes worth a message.
    pub changes: usize,
    /// Events of which this run sent a message.
    pub events_sent: usize,
    /// Events a later run takes again: a message that failed for a passing reason, or too fresh (the hook's).
    pub events_owed: usize,
    /// Where the read started.
    pub since: Option<SystemTime>,
    pub cursor: Option<Cursor>,
    /// Log time not read: the cursor was older than a sent message is remembered.
    pub gap_skipped: Option<Duration>,
    pub took: Duration,
}

impl RunReport {
    pub fn new(outcome: Outcome) -> Self {
        RunReport {
            outcome,
            pages: 0,
            events_seen: 0,
            changes: 0,
            events_sent: 0,
            events_owed: 0,
            since: None,
            cursor: None,
            gap_skipped: None,
            took: Duration::ZERO,
        }
    }

    /// The audit line and the metric line.
    pub fn log(&self) {
        let time = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
        tracing::info!(
            target: "profile_guard::audit",
            source = "okta",
            outcome = %self.outcome.as_str(),
            detail = self.outcome.detail(),
            pages = self.pages,
            events_seen = self.events_seen,
            changes = self.changes,
            events_sent = self.events_sent,
            events_owed = self.events_owed,
            since = self.since.map(time),
            cursor = self.cursor.as_ref().map(|c| time(c.published)),
            cursor_event = self.cursor.as_ref().map(|c| c.uuid.as_str()),
            gap_skipped_secs = self.gap_skipped.map(|d| d.as_secs()),
            total_ms = self.took.as_millis() as u64,
            "okta catchup"
        );
        Metrics::default()
            .count(EVENTS_SEEN, self.events_seen)
            .count(EVENTS_SENT, self.events_sent)
            .count(RUNS_FAILED, usize::from(self.outcome.failed()))
            .emit();
    }

    /// The Lambda invocation's answer: the audit line's counts.
    pub fn answer(&self) -> Value {
        json!({
            "outcome": self.outcome.as_str(),
            "detail": self.outcome.detail(),
            "pages": self.pages,
            "events_seen": self.events_seen,
            "changes": self.changes,
            "events_sent": self.events_sent,
            "events_owed": self.events_owed,
            "cursor": self.cursor.as_ref().map(|c| humantime::format_rfc3339_millis(c.published).to_string()),
        })
    }
}
