//! Notices waiting for their change to be committed (`USER_NOTICE_WHEN=commit`). Each pre-update call's notice is
//! its own entry, with its own id, in the person's list (oldest first); a commit event takes the oldest live
//! notice whose claim families it names, so two quick changes are two notices and the first goes to the address
//! the person had first. A notice taken for sending is leased, not removed: it is removed once sent, put back
//! (with only the channels still owed) when a retry can help, and free again when its lease runs out (a deadline
//! or a panic mid-send). The instance that left a notice reports it once its time is up and nobody took it.

mod change;
mod dynamo;
mod store;

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use change::{Choice, Families, NothingWatched, PendingChange, Scope, Waiting, choose};
pub use dynamo::DynamoPending;
pub use store::{MemoryPending, PendingStore};

use crate::idempotency::StoreError;

/// A person's list holds at most this many waiting notices (a DynamoDB item holds 400 KB); past it, a notice is
/// sent at once.
pub const MAX_WAITING: usize = 50;
/// How often a step retries after another instance changed the list under it.
const ATTEMPTS: usize = 5;

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// Why a notice could not be left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveError {
    /// The person already has `MAX_WAITING` notices waiting.
    Full,
    Store(String),
}

impl LeaveError {
    pub fn as_str(&self) -> String {
        match self {
            LeaveError::Full => "full".into(),
            LeaveError::Store(code) => format!("store:{code}"),
        }
    }
}

/// A notice taken for sending: leased to this delivery until `lease_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    scope: String,
    id: String,
    lease_ms: u64,
    pub notice: String,
}

/// What a commit event found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    Notice(Claimed),
    /// A matching notice is being sent by another delivery: try again later.
    InFlight,
    Nothing,
}

/// A notice that expired unsent: the request that prepared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub request_id: String,
    /// The store could not be asked: it may also have been sent by a commit.
    pub store_failed: bool,
}

/// What this instance left, to report the notices that expire unsent.
struct Left {
    scope: String,
    id: String,
    expires: Instant,
    request_id: String,
}

/// Pending notices, with how long they wait.
pub struct Pending {
    store: Arc<dyn PendingStore>,
    ttl: Duration,
    left: Mutex<Vec<Left>>,
}

impl Pending {
    pub fn new(store: Arc<dyn PendingStore>, ttl: Duration) -> Self {
        Pending {
            store,
            ttl,
            left: Mutex::new(Vec::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Leaves a notice for its commit, as its own entry at the end of the person's list.
    pub async fn leave(
        &self,
        change: &PendingChange,
        notice: &str,
        request_id: &str,
    ) -> Result<(), LeaveError> {
        let waiting = Waiting {
            id: uuid::Uuid::new_v4().to_string(),
            families: change
                .families
                .clone()
                .unwrap_or(Families::from_stored(Vec::new())),
            expires_ms: epoch_ms(SystemTime::now() + self.ttl),
            lease_ms: 0,
            notice: notice.to_owned(),
        };
        let scope = change.scope.as_str();
        match self.store.append(scope, &waiting, MAX_WAITING).await {
            Ok(true) => {}
            Ok(false) => return Err(LeaveError::Full),
            Err(e) => return Err(LeaveError::Store(e.0)),
        }
        let mut left = self.left.lock().unwrap_or_else(PoisonError::into_inner);
        left.push(Left {
            scope: scope.to_owned(),
            id: waiting.id,
            expires: Instant::now() + self.ttl,
            request_id: request_id.to_owned(),
        });
        Ok(())
    }

    /// Takes the oldest matching notice for sending: leased to the caller until `lease_until`.
    pub async fn take(
        &self,
        change: &PendingChange,
        lease_until: SystemTime,
    ) -> Result<Taken, StoreError> {
        let scope = change.scope.as_str();
        for _ in 0..ATTEMPTS {
            let list = self.store.list(scope).await?;
            let now = epoch_ms(SystemTime::now());
            let index = match choose(&list, change.families.as_ref(), now) {
                Choice::Take(index) => index,
                Choice::InFlight => return Ok(Taken::InFlight),
                Choice::Nothing => return Ok(Taken::Nothing),
            };
            let entry = &list[index];
            let lease_ms = epoch_ms(lease_until).max(now + 1);
            let at = (index, entry.id.as_str());
            if self
                .store
                .lease(scope, at, entry.lease_ms, lease_ms, None)
                .await?
            {
                return Ok(Taken::Notice(Claimed {
                    scope: scope.to_owned(),
                    id: entry.id.clone(),
                    lease_ms,
                    notice: entry.notice.clone(),
                }));
            }
        }
        Err(StoreError("contended".into()))
    }

    /// The taken notice went out: it is removed (only it, by its id).
    pub async fn sent(&self, claimed: &Claimed) -> Result<bool, StoreError> {
        self.remove(&claimed.scope, &claimed.id).await
    }

    /// The taken notice could not go out (or only in part): it waits again, holding `rest`, what is still owed.
    pub async fn put_back(&self, claimed: &Claimed, rest: &str) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let list = self.store.list(&claimed.scope).await?;
            let Some(index) = list.iter().position(|w| w.id == claimed.id) else {
                return Ok(false);
            };
            let at = (index, claimed.id.as_str());
            let lease = claimed.lease_ms;
            match self
                .store
                .lease(&claimed.scope, at, lease, 0, Some(rest))
                .await?
            {
                true => return Ok(true),
                // Our lease ran out and another delivery holds it now: it is theirs to send.
                false if list[index].lease_ms != lease => return Ok(false),
                false => continue,
            }
        }
        Err(StoreError("contended".into()))
    }

    /// Removes the entry `id` wherever it stands now; whether it was there.
    async fn remove(&self, scope: &str, id: &str) -> Result<bool, StoreError> {
        for _ in 0..ATTEMPTS {
            let list = self.store.list(scope).await?;
            let Some(index) = list.iter().position(|w| w.id == id) else {
                return Ok(false);
            };
            if self.store.remove(scope, (index, id)).await? {
                return Ok(true);
            }
        }
        Err(StoreError("contended".into()))
    }

    /// At most `max` of the notices this instance left whose time is up: each still waiting unsent is removed (by
    /// its id) and returned to be logged; one being sent right now is looked at again later.
    pub async fn sweep(&self, max: usize) -> Vec<Expired> {
        let due = self.due(max);
        let mut expired = Vec::new();
        let mut again = Vec::new();
        for left in due {
            match self.sweep_one(&left).await {
                Ok(Some(true)) => expired.push(Expired {
                    request_id: left.request_id,
                    store_failed: false,
                }),
                Ok(Some(false)) => again.push(left),
                Ok(None) => {}
                Err(_) => expired.push(Expired {
                    request_id: left.request_id,
                    store_failed: true,
                }),
            }
        }
        self.left
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(again);
        expired
    }

    fn due(&self, max: usize) -> Vec<Left> {
        let mut left = self.left.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let (mut due, waiting): (Vec<Left>, Vec<Left>) =
            left.drain(..).partition(|l| l.expires <= now);
        let later = due.split_off(due.len().min(max));
        *left = waiting;
        left.extend(later);
        due
    }

    /// `None`: gone (sent); `Some(true)`: removed unsent; `Some(false)`: being sent now, or moved: look again.
    async fn sweep_one(&self, left: &Left) -> Result<Option<bool>, StoreError> {
        let list = self.store.list(&left.scope).await?;
        let Some(index) = list.iter().position(|w| w.id == left.id) else {
            return Ok(None);
        };
        if list[index].lease_ms > epoch_ms(SystemTime::now()) {
            return Ok(Some(false));
        }
        let removed = self.store.remove(&left.scope, (index, &left.id)).await?;
        Ok(Some(removed))
    }
}

/// How often the sweep looks, and how much it does at most each time.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
const SWEEP_MAX: usize = 25;

/// The sweep, off every answer's path: a task that reports the notices this instance left that expired unsent,
/// bounded per round. It ends when the pending notices are dropped.
pub fn spawn_sweep(pending: &Arc<Pending>) {
    let pending: Weak<Pending> = Arc::downgrade(pending);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(pending) = pending.upgrade() else {
                return;
            };
            report_expired(&pending).await;
        }
    });
}

/// One audit line for each notice this instance left that expired unsent: its change never committed.
pub async fn report_expired(pending: &Pending) {
    for expired in pending.sweep(SWEEP_MAX).await {
        tracing::info!(
            target: "profile_guard::audit",
            request_id = %expired.request_id,
            notice = "expired_unsent",
            store_failed = expired.store_failed.then_some(true),
            ttl_secs = pending.ttl().as_secs(),
            "pending notice expired"
        );
    }
}

#[cfg(test)]
mod tests;
