//! Nothing missed on Okta: Okta gives an Event Hook delivery 3 s and one retry, so while profile-guard is
//! unreachable (a deploy, throttling, an outage) profile changes would go untold. Okta keeps every event in its
//! System Log with the `uuid` the hook carries; a catch-up run reads the log's profile changes and hands each to
//! the hook's own sending, where every message is remembered per event `uuid` and destination: an event the hook
//! handled is skipped, one it missed is sent, nothing twice.
//!
//! Runs come from a schedule in Lambda (the template's catch-up function) or, beside the local server, a loop
//! every `OKTA_CATCHUP_INTERVAL_SECS`. A lease in the store lets one run at a time read the log; the cursor (the
//! last event fully handled) is saved after every page, so a run cut short resumes there.

mod dynamo;
mod report;
mod run;
mod store;
pub mod trigger;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use dynamo::DynamoCatchupStore;
pub use report::{EVENTS_SEEN, EVENTS_SENT, Outcome, RUNS_FAILED, RunReport};
pub use store::{CatchupStore, Lease, MemoryCatchupStore};

use crate::hooks::OktaHook;
use crate::okta_log::SystemLog;

/// Each run re-reads this much before the cursor: events reach the log out of `published` order, and clocks
/// differ. A re-read event is recognised as sent.
pub const OVERLAP: Duration = Duration::from_secs(60);
/// Events published this recently are left to the hook (its delivery, and Okta's one retry, are still on their
/// way); a later run takes them if the hook did not. So a message the catch-up sends is one the hook missed.
pub const SETTLE: Duration = Duration::from_secs(120);
/// The lease outlasts the run's deadline by this: time for its last cursor write and giving the lease back.
pub const LEASE_GRACE: Duration = Duration::from_secs(5);
/// The longest local run (a long interval does not make a long run).
const MAX_LOCAL_RUN: Duration = Duration::from_secs(300);

/// `OKTA_CATCHUP_INTERVAL_SECS` and `OKTA_CATCHUP_LOOKBACK_SECS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchupSettings {
    /// How often a run starts (the local loop; in Lambda, the template's schedule).
    pub interval: Duration,
    /// How far back the first run (no cursor yet) reads.
    pub lookback: Duration,
}

/// Everything a run needs, built once at start-up.
pub struct Catchup {
    /// The hook's sending and rules, sharing the once-per-change store with the hook route.
    pub hook: OktaHook,
    pub log: Arc<dyn SystemLog>,
    pub store: Arc<dyn CatchupStore>,
    pub interval: Duration,
    pub lookback: Duration,
    /// How long a sent message is remembered (`IDEMPOTENCY_EVENT_TTL_SECS`): no run reads further back, where an
    /// event could no longer be recognised as sent.
    pub remembered: Duration,
}

/// Beside the local server: a run at once, then one every interval, until `shutdown`. A run cut off by the
/// shutdown leaves its lease to run out.
pub async fn run_every(catchup: Arc<Catchup>, shutdown: impl Future<Output = ()>) {
    tracing::info!(
        interval_secs = catchup.interval.as_secs(),
        "Okta catch-up: reading the System Log every interval"
    );
    let mut ticks = tokio::time::interval(catchup.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            _ = ticks.tick() => {
                let deadline = Instant::now() + catchup.interval.min(MAX_LOCAL_RUN);
                tokio::select! {
                    () = &mut shutdown => break,
                    _ = catchup.run_once(deadline) => {}
                }
            }
        }
    }
}
