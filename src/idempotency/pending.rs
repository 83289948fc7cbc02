//! Notices waiting for their change to be committed (`USER_NOTICE_WHEN=commit`): the pre-update call leaves the
//! notice here, keyed by tenant, user and the watched claims it changes; the commit event for the same change takes
//! it, so exactly one taker sends it. A notice whose change never commits expires unsent, and the instance that
//! left it says so in its log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

use super::store::StoreError;

/// Where pending notices are kept: this instance's memory, or the shared table.
#[async_trait]
pub trait PendingStore: Send + Sync {
    /// Leaves `notice` under `id` for `ttl` (replacing one left there before).
    async fn put(&self, id: &str, notice: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Removes and returns the live notice under `id`; of two takers, only one gets it.
    async fn take(&self, id: &str) -> Result<Option<String>, StoreError>;

    /// Removes whatever is under `id`, live or expired; whether anything was there.
    async fn discard(&self, id: &str) -> Result<bool, StoreError>;
}

/// Pending notices in this instance's memory.
#[derive(Default)]
pub struct MemoryPending {
    items: Mutex<HashMap<String, (String, SystemTime)>>,
}

#[async_trait]
impl PendingStore for MemoryPending {
    async fn put(&self, id: &str, notice: &str, ttl: Duration) -> Result<(), StoreError> {
        // Expired ones stay until the instance that left them reports them (`Pending::expired`).
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.insert(id.to_owned(), (notice.to_owned(), SystemTime::now() + ttl));
        Ok(())
    }

    async fn take(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let live = items
            .get(id)
            .is_some_and(|(_, expires)| *expires > SystemTime::now());
        Ok(live
            .then(|| items.remove(id))
            .flatten()
            .map(|(notice, _)| notice))
    }

    async fn discard(&self, id: &str) -> Result<bool, StoreError> {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(items.remove(id).is_some())
    }
}

/// The key of a pending notice: the same for the pre-update call and the commit event of one change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PendingKey(String);

impl PendingKey {
    /// Tenant, user and the watched claims the change writes (in any order).
    pub fn of(tenant: &str, user: &str, claims: &[&str]) -> Self {
        let mut claims = claims.to_vec();
        claims.sort_unstable();
        claims.dedup();
        let mut h = Sha256::new();
        for part in std::iter::once(tenant).chain([user]).chain(claims) {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        PendingKey(format!("pnd-{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What this instance left, to report the notices that expire unsent.
struct Left {
    key: PendingKey,
    expires: Instant,
    request_id: String,
}

/// Pending notices, with how long they wait.
pub struct Pending {
    store: Arc<dyn PendingStore>,
    ttl: Duration,
    left: Mutex<Vec<Left>>,
}

/// A pending notice that expired unsent: the request that prepared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub request_id: String,
    /// The store could not be asked: it may also have been sent by a commit.
    pub store_failed: bool,
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

    /// Leaves a notice for its commit.
    pub async fn leave(
        &self,
        key: &PendingKey,
        notice: &str,
        request_id: &str,
    ) -> Result<(), StoreError> {
        self.store.put(key.as_str(), notice, self.ttl).await?;
        let mut left = self.left.lock().unwrap_or_else(PoisonError::into_inner);
        left.push(Left {
            key: key.clone(),
            expires: Instant::now() + self.ttl,
            request_id: request_id.to_owned(),
        });
        Ok(())
    }

    /// Takes the notice of a committed change, if one waits.
    pub async fn take(&self, key: &PendingKey) -> Result<Option<String>, StoreError> {
        self.store.take(key.as_str()).await
    }

    /// Puts back a taken notice that could not be sent yet, for the event's next delivery.
    pub async fn put_back(&self, key: &PendingKey, notice: &str) -> Result<(), StoreError> {
        self.store.put(key.as_str(), notice, self.ttl).await
    }

    /// The notices this instance left whose time is up and that nobody took: removed, and returned to be logged.
    pub async fn expired(&self) -> Vec<Expired> {
        let due: Vec<Left> = {
            let mut left = self.left.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let (due, waiting): (Vec<Left>, Vec<Left>) =
                left.drain(..).partition(|l| l.expires <= now);
            *left = waiting;
            due
        };
        let mut expired = Vec::new();
        for l in due {
            // Taken by a commit meanwhile: gone, nothing to report. Never committed: still there.
            let store_failed = match self.store.discard(l.key.as_str()).await {
                Ok(false) => continue,
                Ok(true) => false,
                Err(_) => true,
            };
            expired.push(Expired {
                request_id: l.request_id,
                store_failed,
            });
        }
        expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_same_whatever_the_order_of_the_claims() {
        let a = PendingKey::of(
            "2210",
            "u-1",
            &[
                "http://wso2.org/claims/mobile",
                "http://wso2.org/claims/emailaddress",
            ],
        );
        let b = PendingKey::of(
            "2210",
            "u-1",
            &[
                "http://wso2.org/claims/emailaddress",
                "http://wso2.org/claims/mobile",
            ],
        );
        assert_eq!(a, b);
        assert!(a.as_str().starts_with("pnd-"));
        assert_ne!(
            a,
            PendingKey::of("2210", "u-2", &["http://wso2.org/claims/mobile"])
        );
        // Parts cannot run into each other.
        assert_ne!(
            PendingKey::of("ab", "c", &[]),
            PendingKey::of("a", "bc", &[])
        );
    }

    #[tokio::test]
    async fn one_taker_gets_it_and_an_untaken_one_is_reported_once_expired() {
        let pending = Pending::new(
            Arc::new(MemoryPending::default()),
            Duration::from_millis(50),
        );
        let (sent, unsent) = (
            PendingKey::of("t", "u1", &[]),
            PendingKey::of("t", "u2", &[]),
        );
        pending.leave(&sent, "n1", "r-1").await.unwrap();
        pending.leave(&unsent, "n2", "r-2").await.unwrap();
        assert_eq!(pending.take(&sent).await.unwrap().as_deref(), Some("n1"));
        assert_eq!(pending.take(&sent).await.unwrap(), None);
        assert!(pending.expired().await.is_empty(), "nothing is due yet");
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(
            pending.take(&unsent).await.unwrap(),
            None,
            "expired: not sent late"
        );
        let expired = pending.expired().await;
        assert_eq!(
            expired,
            vec![Expired {
                request_id: "r-2".into(),
                store_failed: false
            }]
        );
        assert!(pending.expired().await.is_empty());
    }
}
