//! One catch-up run: take the lease, read the log page by page from the cursor's window, hand each page's profile
//! changes to the hook's own sending, save the cursor after each page, give the lease back.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use super::report::{Outcome, RunReport};
use super::store::Lease;
use super::{Catchup, LEASE_GRACE, OVERLAP, SETTLE};
use crate::hooks::{ChangeOutcome, Via};
use crate::okta::{Cursor, LogEvent, Progress, plan_batch, window};
use crate::okta_log::{LogFailure, LogPage, MAX_PAGE_TIME, PageAt};

/// A page is not asked for with less time than this left.
const MIN_PAGE_TIME: Duration = Duration::from_secs(2);
/// The most one page's messages may take; what is not sent by then is owed to the next run.
const PAGE_SEND_TIME: Duration = Duration::from_secs(30);
/// The longest wait for Okta's rate limit to reset (its windows are a minute); longer, the run stops.
const MAX_RATE_WAIT: Duration = Duration::from_secs(60);
/// Waited beyond the announced reset, which Okta gives in whole seconds.
const RESET_MARGIN: Duration = Duration::from_millis(250);

/// A run under way.
struct Run {
    /// The cursor last saved (at first, the one the run started from).
    saved: Option<Cursor>,
    progress: Progress,
    /// Events published after this are left to the hook.
    horizon: SystemTime,
    /// Each `uuid` counted once a run, however many pages repeat it.
    seen: HashSet<String>,
    report: RunReport,
}

impl Catchup {
    /// One run, ending by `deadline` (the lease lasts a little longer); its audit line and metrics are written.
    pub async fn run_once(&self, deadline: Instant) -> RunReport {
        let started = Instant::now();
        let mut report = self.run(deadline).await;
        report.took = started.elapsed();
        report.log();
        report
    }

    async fn run(&self, deadline: Instant) -> RunReport {
        let owner = format!("run-{}", uuid::Uuid::new_v4());
        let left = deadline.saturating_duration_since(Instant::now());
        let cursor = match self
            .store
            .acquire(&owner, SystemTime::now() + left + LEASE_GRACE)
            .await
        {
            Ok(Lease::Taken { cursor }) => cursor,
            Ok(Lease::Busy) => return RunReport::new(Outcome::Busy),
            Err(e) => return RunReport::new(Outcome::StoreFailed(e.0)),
        };
        let now = SystemTime::now();
        let window = window(
            cursor.as_ref(),
            now,
            self.lookback,
            self.remembered,
            OVERLAP,
        );
        let mut report = RunReport::new(Outcome::CaughtUp);
        report.since = Some(window.since);
        report.gap_skipped = window.skipped;
        let mut run = Run {
            saved: cursor,
            progress: Progress::default(),
            horizon: now.checked_sub(SETTLE).unwrap_or(now),
            seen: HashSet::new(),
            report,
        };
        let outcome = self.read(&owner, &mut run, window.since, deadline).await;
        if let Err(e) = self.store.release(&owner).await {
            // The lease runs out by itself; the next run waits for that.
            tracing::warn!(error = %e, "the catch-up lease could not be given back");
        }
        run.report.outcome = outcome;
        run.report.cursor = run.saved;
        run.report
    }

    /// Pages until the log's end, the deadline, a rate limit or a failure.
    async fn read(
        &self,
        owner: &str,
        run: &mut Run,
        since: SystemTime,
        deadline: Instant,
    ) -> Outcome {
        let mut at = PageAt::Since(since);
        loop {
            let page = match self.fetch(&at, deadline).await {
                Ok(page) => page,
                Err(stop) => return stop,
            };
            let LogPage { events, next, rate } = page;
            run.report.pages += 1;
            let end = events.is_empty() || next.is_none();
            self.take(events, run, deadline).await;
            if end {
                run.progress.read_to(run.horizon);
            }
            if let Some(stop) = self.save(owner, run).await {
                return stop;
            }
            let Some(next) = next.filter(|_| !end) else {
                return Outcome::CaughtUp;
            };
            if rate.exhausted()
                && let Err(stop) = wait_for_reset(rate.reset, deadline).await
            {
                return stop;
            }
            at = PageAt::Next(next);
        }
    }

    /// One page, waiting once for a rate limit that resets soon enough; never a second try after that.
    async fn fetch(&self, at: &PageAt, deadline: Instant) -> Result<LogPage, Outcome> {
        let mut waited = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left < MIN_PAGE_TIME {
                return Err(Outcome::OutOfTime);
            }
            match self.log.page(at, left.min(MAX_PAGE_TIME)).await {
                Ok(page) => return Ok(page),
                Err(LogFailure::Throttled { reset }) if !waited => {
                    wait_for_reset(reset, deadline).await?;
                    waited = true;
                }
                Err(LogFailure::Throttled { reset }) => return Err(Outcome::RateLimited { reset }),
                Err(LogFailure::Failed(e)) => return Err(Outcome::Failed(e)),
            }
        }
    }

    /// One page's events: the fresh ones left to the hook, the others through the hook's rules and sending; each
    /// event then done or owed.
    async fn take(&self, events: Vec<Result<LogEvent, String>>, run: &mut Run, deadline: Instant) {
        let mut placed = Vec::new();
        let mut ready = Vec::new();
        for event in events {
            let Ok(event) = event else {
                // Unreadable: nothing can be done with it, now or later.
                run.report.events_seen += 1;
                continue;
            };
            if !run.seen.insert(event.uuid.clone()) {
                continue;
            }
            run.report.events_seen += 1;
            let published = event.published_at();
            if published.is_some_and(|p| p > run.horizon) {
                run.progress.owed(published);
                run.report.events_owed += 1;
                continue;
            }
            placed.push((event.uuid.clone(), published));
            ready.push(Ok(event));
        }
        let (changes, _) = plan_batch(ready, &self.hook.watched, &self.hook.alerted);
        run.report.changes += changes.len();
        let org = self.hook.org.as_deref().unwrap_or("Okta");
        let until = deadline.min(Instant::now() + PAGE_SEND_TIME);
        let outcomes = self
            .hook
            .send_changes(&changes, org, until, Via::Catchup)
            .await;
        run.report.events_sent += outcomes.iter().filter(|o| o.sent_any()).count();
        let owed: HashSet<&str> = changes
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| ChangeOutcome::retryable(o) > 0)
            .map(|(c, _)| c.event_id.as_str())
            .collect();
        for (uuid, published) in &placed {
            if owed.contains(uuid.as_str()) {
                run.progress.owed(*published);
                run.report.events_owed += 1;
            } else {
                run.progress.done(*published, uuid);
            }
        }
    }

    /// Saves the cursor when it moved; a stop when the lease was lost or the store failed.
    async fn save(&self, owner: &str, run: &mut Run) -> Option<Outcome> {
        let cursor = run.progress.cursor(run.saved.as_ref())?;
        if run.saved.as_ref() == Some(&cursor) {
            return None;
        }
        match self.store.save(owner, &cursor).await {
            Ok(true) => {
                run.saved = Some(cursor);
                None
            }
            Ok(false) => Some(Outcome::LeaseLost),
            Err(e) => Some(Outcome::StoreFailed(e.0)),
        }
    }
}

/// Waits for the rate limit to reset, when it says when and that is soon enough; else the run stops there.
async fn wait_for_reset(reset: Option<SystemTime>, deadline: Instant) -> Result<(), Outcome> {
    let stop = Outcome::RateLimited { reset };
    let Some(at) = reset else {
        return Err(stop);
    };
    let wait = at.duration_since(SystemTime::now()).unwrap_or_default() + RESET_MARGIN;
    if wait > MAX_RATE_WAIT || Instant::now() + wait + MIN_PAGE_TIME > deadline {
        return Err(stop);
    }
    tokio::time::sleep(wait).await;
    Ok(())
}
