//! Where pending notices are kept: one list per person, oldest first. Every step that changes an entry names the
//! entry's position and its id, and does nothing (`Ok(false)`) when the id is no longer there: two instances never
//! take, put back or delete each other's notice.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::change::Waiting;
use crate::idempotency::StoreError;

#[async_trait]
pub trait PendingStore: Send + Sync {
    /// Appends `waiting` at the end of the person's list, unless it holds `max` entries already (`Ok(false)`).
    async fn append(&self, scope: &str, waiting: &Waiting, max: usize) -> Result<bool, StoreError>;

    /// The person's list, oldest first, read consistently.
    async fn list(&self, scope: &str) -> Result<Vec<Waiting>, StoreError>;

    /// Sets the lease (and, when given, the notice) of the entry at `index`, if it is still `id` with lease `from`.
    async fn lease(
        &self,
        scope: &str,
        at: (usize, &str),
        from: u64,
        to: u64,
        notice: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Removes the entry at `index`, if it is still `id`.
    async fn remove(&self, scope: &str, at: (usize, &str)) -> Result<bool, StoreError>;
}

/// Pending notices in this instance's memory (no shared table).
#[derive(Default)]
pub struct MemoryPending {
    lists: Mutex<HashMap<String, Vec<Waiting>>>,
}

impl MemoryPending {
    /// Runs `f` on the entry at `index` when it is `id`.
    fn at<T>(
        &self,
        scope: &str,
        (index, id): (usize, &str),
        f: impl FnOnce(&mut Vec<Waiting>, usize) -> T,
    ) -> Option<T> {
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        let list = lists.get_mut(scope)?;
        (list.get(index)?.id == id).then(|| f(list, index))
    }
}

#[async_trait]
impl PendingStore for MemoryPending {
    async fn append(&self, scope: &str, waiting: &Waiting, max: usize) -> Result<bool, StoreError> {
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        let list = lists.entry(scope.to_owned()).or_default();
        if list.len() >= max {
            return Ok(false);
        }
        list.push(waiting.clone());
        Ok(true)
    }

    async fn list(&self, scope: &str) -> Result<Vec<Waiting>, StoreError> {
        let lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(lists.get(scope).cloned().unwrap_or_default())
    }

    async fn lease(
        &self,
        scope: &str,
        at: (usize, &str),
        from: u64,
        to: u64,
        notice: Option<&str>,
    ) -> Result<bool, StoreError> {
        let leased = self.at(scope, at, |list, i| {
            let entry = &mut list[i];
            if entry.lease_ms != from {
                return false;
            }
            entry.lease_ms = to;
            if let Some(notice) = notice {
                entry.notice = notice.to_owned();
            }
            true
        });
        Ok(leased.unwrap_or(false))
    }

    async fn remove(&self, scope: &str, at: (usize, &str)) -> Result<bool, StoreError> {
        Ok(self
            .at(scope, at, |list, i| {
                list.remove(i);
            })
            .is_some())
    }
}
