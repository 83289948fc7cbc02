//! Locking the account of a person who reported a change (`REPORT_ACTION=lock`): WSO2 / Asgardeo through SCIM2,
//! Okta through its Users API. Each adapter does its steps and says how each went; what that means for the page
//! and the alert is decided here, in pure functions.

pub mod okta;
pub mod wso2_scim;

use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::notify::report_link::ChangeSource;
use crate::upstream::DeliveryError;

/// What is percent-encoded in an id put into a path: all but letters, digits and `-_~` (a `.` too, so that no id
/// can be `..`), so that an id always stays in its one segment.
pub(crate) const ID_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// One call's time limit: the lock shares the report's deadline with the alert.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(1000);

/// Locks an account at one source.
#[async_trait]
pub trait AccountLock: Send + Sync {
    /// Locks the account of `user_id` (in `tenant`), each step finished or given up by `until`.
    async fn lock(&self, tenant: &str, user_id: &str, until: Instant) -> Vec<Step>;
}

/// One step of a lock and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The audit line's name of the step: `lock`, `suspend`, `clear_sessions`.
    pub name: &'static str,
    /// What it does, for a sentence: "locked the account".
    pub does: &'static str,
    pub result: Result<(), DeliveryError>,
}

/// What became of the lock, for the page, the alert and the audit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    /// `REPORT_ACTION=alert`.
    NotAsked,
    /// `REPORT_ACTION=lock`, but nothing is configured to lock an account of this source.
    NotConfigured(ChangeSource),
    /// The deadline came before any step could start.
    OutOfTime,
    Steps(Vec<Step>),
}

/// How the page words the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockNote {
    NotAsked,
    Done(ChangeSource),
    /// Some steps went through, others did not.
    Partly,
    Failed,
}

impl LockOutcome {
    /// Whether some part of a lock that was asked for did not happen.
    pub fn failed(&self) -> bool {
        match self {
            LockOutcome::NotAsked => false,
            LockOutcome::NotConfigured(_) | LockOutcome::OutOfTime => true,
            LockOutcome::Steps(steps) => steps.iter().any(|s| s.result.is_err()),
        }
    }

    /// Whether anything was done to the account.
    pub fn did_something(&self) -> bool {
        matches!(self, LockOutcome::Steps(steps) if steps.iter().any(|s| s.result.is_ok()))
    }

    pub fn note(&self, source: ChangeSource) -> LockNote {
        match self {
            LockOutcome::NotAsked => LockNote::NotAsked,
            _ if !self.failed() => LockNote::Done(source),
            _ if self.did_something() => LockNote::Partly,
            _ => LockNote::Failed,
        }
    }

    /// The audit line's `lock`: `not_asked`, `not_configured`, `lock:done`, `suspend:done,clear_sessions:failed:…`.
    pub fn audit(&self) -> String {
        match self {
            LockOutcome::NotAsked => "not_asked".to_owned(),
            LockOutcome::NotConfigured(_) => "not_configured".to_owned(),
            LockOutcome::OutOfTime => "failed:deadline".to_owned(),
            LockOutcome::Steps(steps) => steps
                .iter()
                .map(|s| match &s.result {
                    Ok(()) => format!("{}:done", s.name),
                    Err(e) => format!("{}:failed:{}:{}", s.name, e.kind, e.detail),
                })
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// What was done, in one sentence for the security team.
    pub fn sentence(&self) -> String {
        match self {
            LockOutcome::NotAsked => {
                "Alert only (REPORT_ACTION=alert): the account was not touched.".to_owned()
            }
            LockOutcome::NotConfigured(source) => format!(
                "The account was NOT locked: REPORT_ACTION=lock, but no lock is configured for {}.",
                source.label()
            ),
            LockOutcome::OutOfTime => {
                "The account was NOT locked: no time was left to try.".to_owned()
            }
            LockOutcome::Steps(steps) => {
                let done: Vec<&str> = steps
                    .iter()
                    .filter(|s| s.result.is_ok())
                    .map(|s| s.does)
                    .collect();
                let failed: Vec<String> = steps
                    .iter()
                    .filter_map(|s| {
                        s.result
                            .as_ref()
                            .err()
                            .map(|e| format!("{} ({}: {})", s.does, e.kind, e.detail))
                    })
                    .collect();
                match (done.is_empty(), failed.is_empty()) {
                    (_, true) => format!("Done: {}.", done.join(", ")),
                    (true, false) => format!("The account was NOT locked: {}.", failed.join(", ")),
                    (false, false) => format!(
                        "Done: {}. NOT done: {}.",
                        done.join(", "),
                        failed.join(", ")
                    ),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::DeliveryErrorKind;

    fn step(name: &'static str, ok: bool) -> Step {
        Step {
            name,
            does: name,
            result: match ok {
                true => Ok(()),
                false => Err(DeliveryError::new(
                    DeliveryErrorKind::Credentials,
                    "Okta answered 403",
                )),
            },
        }
    }

    #[test]
    fn the_outcome_is_read_one_way_everywhere() {
        let okta = ChangeSource::Okta;
        let all = LockOutcome::Steps(vec![step("suspend", true), step("clear_sessions", true)]);
        assert_eq!(all.note(okta), LockNote::Done(okta));
        assert!(!all.failed() && all.did_something());
        assert_eq!(all.audit(), "suspend:done,clear_sessions:done");
        assert_eq!(all.sentence(), "Done: suspend, clear_sessions.");
        let part = LockOutcome::Steps(vec![step("suspend", true), step("clear_sessions", false)]);
        assert_eq!(part.note(okta), LockNote::Partly);
        assert_eq!(
            part.audit(),
            "suspend:done,clear_sessions:failed:credentials:Okta answered 403"
        );
        assert!(
            part.sentence()
                .contains("NOT done: clear_sessions (credentials")
        );
        let none = LockOutcome::Steps(vec![step("lock", false)]);
        assert_eq!(none.note(ChangeSource::Wso2), LockNote::Failed);
        assert!(none.failed() && !none.did_something());
        assert_eq!(LockOutcome::NotAsked.note(okta), LockNote::NotAsked);
        assert!(!LockOutcome::NotAsked.failed());
        let missing = LockOutcome::NotConfigured(ChangeSource::Wso2);
        assert_eq!(missing.note(ChangeSource::Wso2), LockNote::Failed);
        assert!(
            missing
                .sentence()
                .contains("no lock is configured for WSO2")
        );
    }
}
