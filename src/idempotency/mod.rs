//! Once per change: WSO2 retries a call after a timeout or some 5xx, so one profile change can arrive twice. The
//! first call to claim a change's key does the work; a duplicate gets the first call's answer and sends nothing.
//!
//! Two layers, as in the Powertools idempotency design (see the README): a bounded in-memory map with a TTL per
//! entry in the warm instance, and, when `IDEMPOTENCY_TABLE` is set, a DynamoDB record claimed with a conditional
//! put so that retries landing on another instance are caught too. Only answers worth reusing are remembered, and
//! only as long as a retry can come ([`Retention`]). A store that cannot be reached does not block the update: the
//! call proceeds without the guarantee and the audit line says so.

mod dynamo;
mod key;
mod local;
mod store;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

pub use dynamo::DynamoStore;
pub use key::{ChangeKey, Digest, KeyKind, key_of};
use local::{Found, LocalCache, Slot, SlotSender};
pub use store::{MemoryStore, Record, Store, StoreError};

use crate::action::ActionResponse;
use crate::policy;

/// How often a duplicate polls the table while another instance holds the change.
const POLL: Duration = Duration::from_millis(100);

/// Where decisions are remembered and for how long, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencySettings {
    /// `IDEMPOTENCY_TABLE`: a DynamoDB table shared by all instances; without it, a per-instance cache only.
    pub table: Option<String>,
    /// `IDEMPOTENCY_TTL_SECS`: how long a decision on a call with a `requestId` is remembered.
    pub ttl: Duration,
    /// `IDEMPOTENCY_CONTENT_TTL_SECS`: how long a decision on a call without one is remembered.
    pub content_ttl: Duration,
    /// `IDEMPOTENCY_EVENT_TTL_SECS`: how long a message about a delivered event (Okta) is remembered as sent.
    pub event_ttl: Duration,
}

/// How long answers are reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// `IDEMPOTENCY_TTL_SECS`: keys with a `requestId`.
    pub with_request_id: Duration,
    /// `IDEMPOTENCY_CONTENT_TTL_SECS`: keys of content alone, about as long as WSO2 may retry (a real change back
    /// and forth a minute later must alert again).
    pub content_only: Duration,
    /// `DEPARTMENT_CACHE_NEGATIVE_TTL`: a refused department is asked again after this; `None` when the directory
    /// answers are not cached.
    pub refused_department: Option<Duration>,
    /// `IDEMPOTENCY_EVENT_TTL_SECS`: messages about delivered events.
    pub event: Duration,
}

impl Retention {
    pub fn ttl(&self, kind: KeyKind) -> Duration {
        match kind {
            KeyKind::RequestId => self.with_request_id,
            KeyKind::Content => self.content_only,
            KeyKind::Event => self.event,
        }
    }

    /// How long `response` may answer a repeat; `None`: never, the next identical call does the work again.
    /// WSO2 never retries a 200, so a stored `FAILED` only goes stale: an undelivered alert is tried again, and a
    /// refused department lives no longer than the directory cache would keep it.
    pub fn keep(&self, kind: KeyKind, response: &ActionResponse) -> Option<Duration> {
        let ttl = self.ttl(kind);
        match response {
            ActionResponse::Success => Some(ttl),
            r if *r == policy::INVALID_DEPARTMENT => self
                .refused_department
                .map(|d| d.min(ttl))
                .filter(|d| !d.is_zero()),
            _ => None,
        }
    }
}

/// Where a replayed answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplaySource {
    Local,
    Table,
}

impl ReplaySource {
    /// The audit line's `duplicate` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplaySource::Local => "replayed_local",
            ReplaySource::Table => "replayed_table",
        }
    }
}

/// What happened with the shared record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreState {
    Claimed,
    /// The table could not be reached: the call proceeds without the cross-instance guarantee.
    Unavailable,
    Stored,
    /// The answer is not to be reused: the record was deleted.
    Released,
    StoreFailed,
}

impl StoreState {
    /// The audit line's `idempotency_store` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreState::Claimed => "claimed",
            StoreState::Unavailable => "unavailable",
            StoreState::Stored => "stored",
            StoreState::Released => "released",
            StoreState::StoreFailed => "store_failed",
        }
    }
}

/// What `begin` found.
pub enum Begin {
    /// This call does the work; it must finish the ticket.
    Owner(Ticket),
    /// An earlier call already answered: its answer, nothing to do.
    Replay {
        response: ActionResponse,
        from: ReplaySource,
    },
    /// A call with the same key is still running and did not finish before the deadline.
    StillInProgress,
}

/// The right (and duty) to do the work for one key. Dropping it unfinished (deadline, panic) abandons the key so
/// a retry can run.
pub struct Ticket {
    key: ChangeKey,
    retention: Retention,
    local: Option<SlotSender>,
    cache: Arc<LocalCache>,
    /// The store and record id, when this call holds the shared record.
    remote: Option<(Arc<dyn Store>, String)>,
    /// The shared record's state; `None` when there is no table.
    pub remote_state: Option<StoreState>,
    finished: bool,
}

impl Ticket {
    /// Publishes the answer in this instance at once (before any await: duplicates get it, or redo the work when
    /// it is not to be reused), then records it in the table. Returns the table's outcome, if there is a table.
    pub async fn finish(mut self, response: &ActionResponse) -> Option<StoreState> {
        let keep = self.retention.keep(self.key.kind, response);
        self.publish(response, keep);
        let (store, id) = self.remote.take()?;
        Some(match keep {
            Some(ttl) => match store.complete(&id, response, ttl).await {
                Ok(()) => StoreState::Stored,
                Err(_) => StoreState::StoreFailed,
            },
            None => match store.delete(&id).await {
                Ok(()) => StoreState::Released,
                Err(_) => StoreState::StoreFailed,
            },
        })
    }

    /// For one message about a delivered event: remembered as done, or (when a later delivery could still get it
    /// out) released so that the next delivery tries again.
    pub async fn settle_event(self, retry: bool) -> Option<StoreState> {
        let record = match retry {
            false => ActionResponse::Success,
            // Never kept: the next identical call does the work again.
            true => policy::DEADLINE_EXCEEDED,
        };
        self.finish(&record).await
    }

    fn publish(&mut self, response: &ActionResponse, keep: Option<Duration>) {
        self.finished = true;
        if let Some(slot) = &self.local {
            slot.send_replace(match keep {
                Some(_) => Slot::Done(response.clone()),
                None => Slot::Abandoned,
            });
            self.cache.settle(&self.key.digest, slot, keep);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.finished
            && let Some(slot) = &self.local
        {
            // The shared record, if any, expires by its in-progress deadline.
            slot.send_replace(Slot::Abandoned);
            self.cache.settle(&self.key.digest, slot, None);
        }
    }
}

/// Cheap to clone: every clone shares the same memory and table.
#[derive(Clone)]
pub struct Idempotency {
    local: Arc<LocalCache>,
    remote: Option<Arc<dyn Store>>,
    retention: Retention,
}

enum Waited {
    Done(ActionResponse),
    Free,
    Timeout,
}

impl Idempotency {
    pub fn new(retention: Retention, max_entries: usize, remote: Option<Arc<dyn Store>>) -> Self {
        Idempotency {
            local: Arc::new(LocalCache::new(max_entries)),
            remote,
            retention,
        }
    }

    /// Whether this key's `requestId` came before with other content (seen in this instance). Such a call is a
    /// new change; the audit line says so.
    pub fn request_id_reused(&self, key: &ChangeKey) -> bool {
        key.id_digest.is_some_and(|id| {
            self.local
                .note_request_id(id, key.digest, self.retention.with_request_id)
        })
    }

    /// Claims `key`, or waits (until `deadline`) for the call that holds it to answer.
    pub async fn begin(&self, key: &ChangeKey, deadline: Instant) -> Begin {
        let local = match self.claim_local(key, deadline).await {
            Ok(slot) => slot,
            Err(found) => return found,
        };
        let ticket = Ticket {
            key: *key,
            retention: self.retention,
            local,
            cache: self.local.clone(),
            remote: None,
            remote_state: None,
            finished: false,
        };
        match &self.remote {
            Some(store) => claim_remote(store.clone(), ticket, deadline).await,
            None => Begin::Owner(ticket),
        }
    }

    async fn claim_local(
        &self,
        key: &ChangeKey,
        deadline: Instant,
    ) -> Result<Option<SlotSender>, Begin> {
        loop {
            let mut held = match self.local.claim(key.digest, deadline) {
                Found::Mine(slot) => return Ok(slot),
                Found::Done(response) => {
                    return Err(Begin::Replay {
                        response,
                        from: ReplaySource::Local,
                    });
                }
                Found::Held(rx) => rx,
            };
            match wait(&mut held, deadline).await {
                Waited::Done(response) => {
                    return Err(Begin::Replay {
                        response,
                        from: ReplaySource::Local,
                    });
                }
                Waited::Free => continue,
                Waited::Timeout => return Err(Begin::StillInProgress),
            }
        }
    }
}

/// Waits for the holder of a change to answer or give up.
async fn wait(rx: &mut watch::Receiver<Slot>, deadline: Instant) -> Waited {
    loop {
        let slot = rx.borrow_and_update().clone();
        match slot {
            Slot::Done(response) => return Waited::Done(response),
            Slot::Abandoned => return Waited::Free,
            Slot::InProgress => {}
        }
        match tokio::time::timeout_at(deadline.into(), rx.changed()).await {
            Ok(Ok(())) => {}
            // The holder vanished without a word: treat as abandoned.
            Ok(Err(_)) => return Waited::Free,
            Err(_) => return Waited::Timeout,
        }
    }
}

/// Claims the shared record, or replays what another instance answered. A malformed or foreign record is taken
/// over, never waited on.
async fn claim_remote(store: Arc<dyn Store>, mut ticket: Ticket, deadline: Instant) -> Begin {
    let id = ticket.key.record_id();
    let ttl = ticket.retention.ttl(ticket.key.kind);
    let until = SystemTime::now() + deadline.saturating_duration_since(Instant::now());
    let mut overwrite = false;
    let state = loop {
        match store.claim(&id, until, ttl, overwrite).await {
            Ok(true) => break StoreState::Claimed,
            Ok(false) => {}
            Err(_) => break StoreState::Unavailable,
        }
        match store.get(&id).await {
            Ok(Some(Record::Completed(response))) => {
                let keep = ticket.retention.keep(ticket.key.kind, &response);
                ticket.publish(&response, keep);
                return Begin::Replay {
                    response,
                    from: ReplaySource::Table,
                };
            }
            Ok(Some(Record::InProgress)) => {
                if Instant::now() + POLL >= deadline {
                    return Begin::StillInProgress;
                }
                tokio::time::sleep(POLL).await;
            }
            Ok(Some(Record::Foreign)) => overwrite = true,
            // Gone (deleted or expired) between the put and the read: claim again.
            Ok(None) => {}
            Err(_) => break StoreState::Unavailable,
        }
        if Instant::now() >= deadline {
            return Begin::StillInProgress;
        }
    };
    if state == StoreState::Claimed {
        ticket.remote = Some((store, id));
    }
    ticket.remote_state = Some(state);
    Begin::Owner(ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: Retention = Retention {
        with_request_id: Duration::from_secs(60),
        content_only: Duration::from_secs(30),
        refused_department: Some(Duration::from_secs(30)),
        event: Duration::from_secs(3600),
    };

    fn key(n: u8) -> ChangeKey {
        ChangeKey {
            kind: KeyKind::Content,
            digest: [n; 32],
            id_digest: None,
        }
    }

    #[test]
    fn only_answers_worth_reusing_are_kept() {
        let r = RETENTION;
        assert_eq!(
            r.keep(KeyKind::Content, &ActionResponse::Success),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            r.keep(KeyKind::RequestId, &ActionResponse::Success),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            r.keep(KeyKind::Event, &ActionResponse::Success),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(r.keep(KeyKind::Event, &policy::DEADLINE_EXCEEDED), None);
        assert_eq!(r.keep(KeyKind::Content, &policy::ALERT_UNDELIVERED), None);
        assert_eq!(r.keep(KeyKind::Content, &policy::DEADLINE_EXCEEDED), None);
        let short = Retention {
            refused_department: Some(Duration::from_secs(5)),
            ..r
        };
        assert_eq!(
            short.keep(KeyKind::RequestId, &policy::INVALID_DEPARTMENT),
            Some(Duration::from_secs(5))
        );
        let uncached = Retention {
            refused_department: None,
            ..r
        };
        assert_eq!(
            uncached.keep(KeyKind::Content, &policy::INVALID_DEPARTMENT),
            None
        );
    }

    #[tokio::test]
    async fn an_undelivered_alert_is_not_replayed() {
        let idem = Idempotency::new(RETENTION, 100, None);
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = idem.begin(&key(1), deadline).await else {
            panic!()
        };
        t.finish(&policy::ALERT_UNDELIVERED).await;
        assert!(matches!(
            idem.begin(&key(1), deadline).await,
            Begin::Owner(_)
        ));
    }

    #[tokio::test]
    async fn a_duplicate_waits_for_the_first_answer() {
        let idem = Arc::new(Idempotency::new(RETENTION, 100, None));
        let deadline = Instant::now() + Duration::from_secs(2);
        let Begin::Owner(ticket) = idem.begin(&key(1), deadline).await else {
            panic!("first call owns the key")
        };
        let waiter = {
            let idem = idem.clone();
            tokio::spawn(async move { idem.begin(&key(1), deadline).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        ticket.finish(&ActionResponse::Success).await;
        match waiter.await.unwrap() {
            Begin::Replay { response, from } => {
                assert_eq!(response, ActionResponse::Success);
                assert_eq!(from, ReplaySource::Local);
            }
            _ => panic!("the duplicate replays the first answer"),
        }
    }

    #[tokio::test]
    async fn an_abandoned_or_dropped_key_can_be_claimed_again() {
        let idem = Idempotency::new(RETENTION, 100, None);
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = idem.begin(&key(1), deadline).await else {
            panic!()
        };
        t.finish(&policy::DEADLINE_EXCEEDED).await;
        let Begin::Owner(t) = idem.begin(&key(1), deadline).await else {
            panic!("claimable after abandon")
        };
        drop(t);
        assert!(
            matches!(idem.begin(&key(1), deadline).await, Begin::Owner(_)),
            "claimable after drop"
        );
    }

    #[tokio::test]
    async fn a_duplicate_gives_up_at_the_deadline() {
        let idem = Idempotency::new(RETENTION, 100, None);
        let _held = idem
            .begin(&key(1), Instant::now() + Duration::from_secs(5))
            .await;
        let started = Instant::now();
        let second = idem
            .begin(&key(1), Instant::now() + Duration::from_millis(100))
            .await;
        assert!(matches!(second, Begin::StillInProgress));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    fn shared(store: &Arc<MemoryStore>) -> Idempotency {
        Idempotency::new(RETENTION, 100, Some(store.clone() as Arc<dyn Store>))
    }

    #[tokio::test]
    async fn a_retry_on_another_instance_replays_from_the_store() {
        let store = Arc::new(MemoryStore::default());
        let (a, b) = (shared(&store), shared(&store));
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = a.begin(&key(3), deadline).await else {
            panic!("the first instance owns the change")
        };
        assert_eq!(t.remote_state, Some(StoreState::Claimed));
        assert_eq!(
            t.finish(&ActionResponse::Success).await,
            Some(StoreState::Stored)
        );
        match b.begin(&key(3), deadline).await {
            Begin::Replay { response, from } => {
                assert_eq!(
                    (response, from),
                    (ActionResponse::Success, ReplaySource::Table)
                );
            }
            _ => panic!("the other instance replays"),
        }
    }

    #[tokio::test]
    async fn a_duplicate_in_flight_on_another_instance_waits_for_the_answer() {
        let store = Arc::new(MemoryStore::default());
        let (a, b) = (shared(&store), Arc::new(shared(&store)));
        let deadline = Instant::now() + Duration::from_secs(2);
        let Begin::Owner(t) = a.begin(&key(4), deadline).await else {
            panic!()
        };
        let waiter = tokio::spawn(async move { b.begin(&key(4), deadline).await });
        tokio::time::sleep(Duration::from_millis(150)).await;
        t.finish(&policy::INVALID_DEPARTMENT).await;
        let Ok(Begin::Replay { response, .. }) = waiter.await else {
            panic!("the duplicate answers as the first call did")
        };
        assert_eq!(response, policy::INVALID_DEPARTMENT);
    }

    #[tokio::test]
    async fn an_answer_not_to_be_reused_leaves_the_store() {
        let store = Arc::new(MemoryStore::default());
        let (a, b) = (shared(&store), shared(&store));
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = a.begin(&key(5), deadline).await else {
            panic!()
        };
        let released = t.finish(&policy::ALERT_UNDELIVERED).await;
        assert_eq!(released, Some(StoreState::Released));
        assert!(matches!(b.begin(&key(5), deadline).await, Begin::Owner(_)));
    }

    #[tokio::test]
    async fn a_foreign_record_is_taken_over_at_once() {
        let store = Arc::new(MemoryStore::default());
        store.plant_foreign(&key(6).record_id());
        let started = Instant::now();
        let deadline = started + Duration::from_secs(1);
        let Begin::Owner(t) = shared(&store).begin(&key(6), deadline).await else {
            panic!("a foreign record is no owner")
        };
        assert_eq!(t.remote_state, Some(StoreState::Claimed));
        assert!(started.elapsed() < Duration::from_millis(50));
    }

    struct Unreachable;

    #[async_trait::async_trait]
    impl Store for Unreachable {
        async fn claim(
            &self,
            _: &str,
            _: SystemTime,
            _: Duration,
            _: bool,
        ) -> Result<bool, StoreError> {
            Err(StoreError("unreachable".into()))
        }
        async fn get(&self, _: &str) -> Result<Option<Record>, StoreError> {
            Err(StoreError("unreachable".into()))
        }
        async fn complete(
            &self,
            _: &str,
            _: &ActionResponse,
            _: Duration,
        ) -> Result<(), StoreError> {
            Err(StoreError("unreachable".into()))
        }
        async fn delete(&self, _: &str) -> Result<(), StoreError> {
            Err(StoreError("unreachable".into()))
        }
    }

    #[tokio::test]
    async fn an_unreachable_store_does_not_block_the_change() {
        let idem = Idempotency::new(RETENTION, 100, Some(Arc::new(Unreachable)));
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = idem.begin(&key(7), deadline).await else {
            panic!()
        };
        assert_eq!(t.remote_state, Some(StoreState::Unavailable));
        assert_eq!(t.finish(&ActionResponse::Success).await, None);
    }
}
