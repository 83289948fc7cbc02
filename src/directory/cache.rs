//! The directory's answers, reused for a while.

use std::time::Duration;

use async_trait::async_trait;

use super::{CachePolicy, Directory, DirectoryError};
use crate::policy::Membership;

struct TtlByAnswer(CachePolicy);

impl moka::Expiry<String, Membership> for TtlByAnswer {
    fn expire_after_create(
        &self,
        _: &String,
        value: &Membership,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(match value {
            Membership::Known => self.0.known_ttl,
            Membership::Unknown => self.0.unknown_ttl,
        })
    }
}

/// Reuses the directory's answers: known and unknown departments for their own TTLs, errors never. Concurrent
/// misses for the same department wait for one upstream call.
pub struct CachedDirectory {
    inner: Box<dyn Directory>,
    cache: moka::future::Cache<String, Membership>,
    policy: CachePolicy,
}

impl CachedDirectory {
    pub fn new(inner: Box<dyn Directory>, policy: CachePolicy) -> Self {
        CachedDirectory {
            inner,
            cache: moka::future::Cache::builder()
                .max_capacity(policy.max_entries)
                .expire_after(TtlByAnswer(policy))
                .build(),
            policy,
        }
    }
}

#[async_trait]
impl Directory for CachedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        self.cache
            .try_get_with_by_ref(department, self.inner.lookup(department))
            .await
            .map_err(|e| (*e).clone())
    }

    fn describe(&self) -> String {
        format!(
            "{}, cached ({} s known, {} s unknown, at most {} entries)",
            self.inner.describe(),
            self.policy.known_ttl.as_secs(),
            self.policy.unknown_ttl.as_secs(),
            self.policy.max_entries
        )
    }
}
