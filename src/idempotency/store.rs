//! Where records are shared between instances: a small trait with the four steps of the Powertools design, so
//! the claim logic can be tried against memory as well as DynamoDB.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::action::ActionResponse;

/// What the store holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    InProgress,
    Completed(ActionResponse),
    /// A record of a shape this version does not write (malformed, or another tool's): treated as absent.
    Foreign,
}

#[derive(Debug, thiserror::Error)]
#[error("idempotency table: {0}")]
pub struct StoreError(pub String);

#[async_trait]
pub trait Store: Send + Sync {
    /// Writes an INPROGRESS record unless a live one exists (`Ok(false)`). `overwrite` takes the key whatever the
    /// store holds (after a foreign record was found there).
    async fn claim(
        &self,
        id: &str,
        in_progress_until: SystemTime,
        ttl: Duration,
        overwrite: bool,
    ) -> Result<bool, StoreError>;

    /// The live record for `id`, if any (an expired or stale one is absent).
    async fn get(&self, id: &str) -> Result<Option<Record>, StoreError>;

    /// Marks the record COMPLETED with the answer, kept for `ttl` from now.
    async fn complete(
        &self,
        id: &str,
        response: &ActionResponse,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    async fn delete(&self, id: &str) -> Result<(), StoreError>;
}

struct Item {
    record: Record,
    expires: SystemTime,
    in_progress_until: SystemTime,
}

/// Records in memory, with the same conditions as the DynamoDB table: for tests of the claim logic, and a
/// stand-in wherever a shared table is not wanted.
#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<HashMap<String, Item>>,
}

impl MemoryStore {
    /// Puts a record of another shape under `id`, as a foreign tool might.
    #[cfg(test)]
    pub fn plant_foreign(&self, id: &str) {
        let far = SystemTime::now() + Duration::from_secs(3600);
        let item = Item {
            record: Record::Foreign,
            expires: far,
            in_progress_until: far,
        };
        self.lock().insert(id.to_owned(), item);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Item>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn live(item: &Item, now: SystemTime) -> Option<&Record> {
    let stale =
        item.expires < now || (item.record == Record::InProgress && item.in_progress_until < now);
    (!stale).then_some(&item.record)
}

#[async_trait]
impl Store for MemoryStore {
    async fn claim(
        &self,
        id: &str,
        in_progress_until: SystemTime,
        ttl: Duration,
        overwrite: bool,
    ) -> Result<bool, StoreError> {
        let now = SystemTime::now();
        let mut items = self.lock();
        if !overwrite && items.get(id).and_then(|i| live(i, now)).is_some() {
            return Ok(false);
        }
        let item = Item {
            record: Record::InProgress,
            expires: now + ttl,
            in_progress_until,
        };
        items.insert(id.to_owned(), item);
        Ok(true)
    }

    async fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let now = SystemTime::now();
        Ok(self.lock().get(id).and_then(|i| live(i, now)).cloned())
    }

    async fn complete(
        &self,
        id: &str,
        response: &ActionResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut items = self.lock();
        if let Some(item) = items.get_mut(id) {
            item.record = Record::Completed(response.clone());
            item.expires = SystemTime::now() + ttl;
        }
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.lock().remove(id);
        Ok(())
    }
}
