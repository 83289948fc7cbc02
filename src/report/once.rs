//! Once per reported change: the first click reports it; any later click (on another instance too, when the
//! once-per-change table is shared) reads "already reported". The record lives as long as the link still works.
//! It uses the once-per-change store's four steps, so the DynamoDB table needs nothing new.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::action::ActionResponse;
use crate::idempotency::{Record, Store, StoreError};
use crate::notify::report_link::LinkedChange;

/// What a click found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This click reports the change.
    Mine,
    /// Reported before, or being reported right now by another click.
    Already,
    /// The store could not be asked: the click reports without the guarantee (twice is better than never).
    Unavailable,
}

impl Claim {
    /// The audit line's `once`.
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::Mine => "claimed",
            Claim::Already => "already",
            Claim::Unavailable => "unavailable",
        }
    }
}

/// The record's id: a digest of the change's source, tenant, user and reference (every field length-prefixed,
/// so no value can imitate a boundary), never the values themselves.
pub fn record_id(change: &LinkedChange) -> String {
    let mut h = Sha256::new();
    for field in [
        change.source.as_str(),
        &change.tenant,
        &change.user_id,
        &change.reference,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("rpt-{hex}")
}

/// The reports' records: the shared table when configured, else this instance's memory.
#[derive(Clone)]
pub struct Once {
    store: Arc<dyn Store>,
}

impl Once {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Once { store }
    }

    /// Whether the change was reported (for the page a `GET` shows; a store that cannot answer says no).
    pub async fn is_reported(&self, id: &str) -> bool {
        matches!(self.store.get(id).await, Ok(Some(Record::Completed(_))))
    }

    /// Claims the report. A record of another shape under the id is taken over, never waited on.
    pub async fn claim(&self, id: &str, in_progress_until: SystemTime, ttl: Duration) -> Claim {
        let mut overwrite = false;
        // A record that vanishes between the put and the read (it expired) is claimed again, a few times at most.
        for _ in 0..3 {
            match self
                .store
                .claim(id, in_progress_until, ttl, overwrite)
                .await
            {
                Ok(true) => return Claim::Mine,
                Ok(false) => {}
                Err(_) => return Claim::Unavailable,
            }
            match self.store.get(id).await {
                Ok(Some(Record::Completed(_) | Record::InProgress)) => return Claim::Already,
                Ok(Some(Record::Foreign)) => overwrite = true,
                Ok(None) => {}
                Err(_) => return Claim::Unavailable,
            }
        }
        Claim::Unavailable
    }

    /// The change stays reported for `ttl`.
    pub async fn done(&self, id: &str, ttl: Duration) -> Result<(), StoreError> {
        self.store.complete(id, &ActionResponse::Success, ttl).await
    }

    /// The report did not get through: the next click may report again.
    pub async fn release(&self, id: &str) -> Result<(), StoreError> {
        self.store.delete(id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idempotency::MemoryStore;
    use crate::notify::report_link::{ChangeSource, ChangedBy};

    fn change(reference: &str) -> LinkedChange {
        LinkedChange {
            source: ChangeSource::Okta,
            tenant: "example.okta.com".into(),
            user_id: "00u1".into(),
            reference: reference.into(),
            at: SystemTime::UNIX_EPOCH,
            changed_by: ChangedBy::AnotherUser,
            lines: Vec::new(),
            more: 0,
        }
    }

    #[tokio::test]
    async fn a_change_is_reported_once() {
        let once = Once::new(Arc::new(MemoryStore::default()));
        let id = record_id(&change("e-1"));
        assert!(id.starts_with("rpt-") && id.len() == 68);
        assert_ne!(id, record_id(&change("e-2")));
        let until = SystemTime::now() + Duration::from_secs(5);
        let ttl = Duration::from_secs(60);
        assert!(!once.is_reported(&id).await);
        assert_eq!(once.claim(&id, until, ttl).await, Claim::Mine);
        assert_eq!(
            once.claim(&id, until, ttl).await,
            Claim::Already,
            "in flight"
        );
        assert!(!once.is_reported(&id).await, "not yet done");
        once.done(&id, ttl).await.unwrap();
        assert!(once.is_reported(&id).await);
        assert_eq!(once.claim(&id, until, ttl).await, Claim::Already);
        once.release(&id).await.unwrap();
        assert_eq!(once.claim(&id, until, ttl).await, Claim::Mine);
    }
}
