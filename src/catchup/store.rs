//! Where the catch-up's cursor and lease are kept: one record beside the once-per-change records (the DynamoDB
//! table shared by all instances, or this instance's memory). The lease lets one run at a time read the log; every
//! write of the cursor is conditional on still holding it, so a run that lost its lease (it outlived it) cannot
//! move the cursor under the run that took over.

use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::idempotency::StoreError;
use crate::okta::Cursor;

/// What asking for the lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This run holds it; the cursor the last run left (none before the first run).
    Taken { cursor: Option<Cursor> },
    /// Another run holds it.
    Busy,
}

#[async_trait]
pub trait CatchupStore: Send + Sync {
    /// Takes the lease for `owner` until `until`, unless another holds a lease that has not run out.
    async fn acquire(&self, owner: &str, until: SystemTime) -> Result<Lease, StoreError>;

    /// Saves the cursor, while `owner` holds the lease; `Ok(false)` when another run took it meanwhile.
    async fn save(&self, owner: &str, cursor: &Cursor) -> Result<bool, StoreError>;

    /// Gives the lease up, if `owner` still holds it.
    async fn release(&self, owner: &str) -> Result<(), StoreError>;
}

#[derive(Default)]
struct State {
    cursor: Option<Cursor>,
    lease: Option<(String, SystemTime)>,
}

/// The cursor and lease in this instance's memory: without a table, each instance catches up on its own.
#[derive(Default)]
pub struct MemoryCatchupStore(Mutex<State>);

impl MemoryCatchupStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl CatchupStore for MemoryCatchupStore {
    async fn acquire(&self, owner: &str, until: SystemTime) -> Result<Lease, StoreError> {
        let mut state = self.lock();
        let now = SystemTime::now();
        if state.lease.as_ref().is_some_and(|(_, ends)| *ends >= now) {
            return Ok(Lease::Busy);
        }
        state.lease = Some((owner.to_owned(), until));
        Ok(Lease::Taken {
            cursor: state.cursor.clone(),
        })
    }

    async fn save(&self, owner: &str, cursor: &Cursor) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if state.lease.as_ref().is_none_or(|(held, _)| held != owner) {
            return Ok(false);
        }
        state.cursor = Some(cursor.clone());
        Ok(true)
    }

    async fn release(&self, owner: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.lease.as_ref().is_some_and(|(held, _)| held == owner) {
            state.lease = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_lease_at_a_time_and_only_its_holder_moves_the_cursor() {
        let store = MemoryCatchupStore::default();
        let soon = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(
            store.acquire("a", soon).await.unwrap(),
            Lease::Taken { cursor: None }
        );
        assert_eq!(store.acquire("b", soon).await.unwrap(), Lease::Busy);
        let cursor = Cursor {
            published: SystemTime::UNIX_EPOCH,
            uuid: "e".into(),
        };
        assert!(!store.save("b", &cursor).await.unwrap());
        assert!(store.save("a", &cursor).await.unwrap());
        store.release("b").await.unwrap();
        assert_eq!(store.acquire("b", soon).await.unwrap(), Lease::Busy);
        store.release("a").await.unwrap();
        let taken = store.acquire("b", soon).await.unwrap();
        assert_eq!(
            taken,
            Lease::Taken {
                cursor: Some(cursor)
            }
        );
        // A lease that ran out (its run crashed) is taken over; the old holder can no longer save.
        let ended = MemoryCatchupStore::default();
        ended
            .acquire("a", SystemTime::now() - Duration::from_secs(1))
            .await
            .unwrap();
        assert!(matches!(
            ended.acquire("b", soon).await.unwrap(),
            Lease::Taken { .. }
        ));
        assert!(
            !ended
                .save(
                    "a",
                    &Cursor {
                        published: SystemTime::UNIX_EPOCH,
                        uuid: "x".into()
                    }
                )
                .await
                .unwrap()
        );
    }
}
