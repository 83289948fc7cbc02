//! The warm instance's memory of changes: a bounded map from key digest to the change's slot, each entry with its
//! own expiry. A plain map under a mutex: lookups are one hash of 8 bytes of a digest, and nothing runs on a
//! request except its own entry (expired entries are swept only when the map is full).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::key::Digest;
use crate::action::ActionResponse;

/// Where one change stands, shared with the calls that wait for it.
#[derive(Debug, Clone)]
pub enum Slot {
    InProgress,
    Done(ActionResponse),
    /// The owner gave up or its answer is not to be reused: the next call does the work again.
    Abandoned,
}

pub type SlotSender = Arc<watch::Sender<Slot>>;

/// What a claim on the local map found.
pub enum Found {
    /// This call owns the change. `None` when the map is full of live entries: the call goes on unremembered
    /// (an alert twice is better than a change nobody heard about).
    Mine(Option<SlotSender>),
    /// Another call is working on it: wait on this.
    Held(watch::Receiver<Slot>),
    Done(ActionResponse),
}

struct Entry {
    slot: SlotSender,
    expires: Instant,
}

/// Digests are uniformly distributed already: their first 8 bytes are a good hash.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }
}

type DigestMap<V> = HashMap<Digest, V, BuildHasherDefault<DigestHasher>>;

#[derive(Default)]
struct Maps {
    slots: DigestMap<Entry>,
    /// `requestId` digest → the content digest last seen with it, to notice an id reused for other content.
    ids: DigestMap<(Digest, Instant)>,
}

impl Maps {
    /// Frees a tenth of the map at once, so a full map costs one sweep per many inserts, not one per call:
    /// expired entries first, then the answers that would expire soonest. A change still in progress is never
    /// dropped (its duplicates wait on it).
    fn make_room(&mut self, now: Instant, max_entries: usize) {
        self.slots.retain(|_, e| e.expires > now);
        let target = max_entries - max_entries.div_ceil(10);
        if self.slots.len() <= target {
            return;
        }
        let mut done: Vec<(Instant, Digest)> = self
            .slots
            .iter()
            .filter(|(_, e)| !matches!(*e.slot.borrow(), Slot::InProgress))
            .map(|(k, e)| (e.expires, *k))
            .collect();
        done.sort_unstable();
        let excess = self.slots.len() - target;
        for (_, key) in done.into_iter().take(excess) {
            self.slots.remove(&key);
        }
    }
}

pub struct LocalCache {
    maps: Mutex<Maps>,
    max_entries: usize,
}

impl LocalCache {
    pub fn new(max_entries: usize) -> Self {
        LocalCache {
            maps: Mutex::new(Maps::default()),
            max_entries,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Maps> {
        // Nothing panics while holding the lock; if something ever did, the maps are still consistent.
        self.maps.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims `digest` until `until` (the owner's deadline), or reports who holds it.
    pub fn claim(&self, digest: Digest, until: Instant) -> Found {
        let now = Instant::now();
        let mut maps = self.lock();
        if let Some(entry) = maps.slots.get(&digest).filter(|e| e.expires > now) {
            match &*entry.slot.borrow() {
                Slot::Done(response) => return Found::Done(response.clone()),
                Slot::InProgress => return Found::Held(entry.slot.subscribe()),
                Slot::Abandoned => {}
            }
        }
        if maps.slots.len() >= self.max_entries && !maps.slots.contains_key(&digest) {
            maps.make_room(now, self.max_entries);
            if maps.slots.len() >= self.max_entries {
                return Found::Mine(None);
            }
        }
        let slot = Arc::new(watch::channel(Slot::InProgress).0);
        let entry = Entry {
            slot: slot.clone(),
            expires: until,
        };
        maps.slots.insert(digest, entry);
        Found::Mine(Some(slot))
    }

    /// After the owner answered: keep the entry for `keep`, or drop it (only if it is still this owner's).
    pub fn settle(&self, digest: &Digest, slot: &SlotSender, keep: Option<Duration>) {
        let mut maps = self.lock();
        let Some(entry) = maps.slots.get_mut(digest) else {
            return;
        };
        if !Arc::ptr_eq(&entry.slot, slot) {
            return;
        }
        match keep {
            Some(ttl) => entry.expires = Instant::now() + ttl,
            None => {
                maps.slots.remove(digest);
            }
        }
    }

    /// Records that `id` came with `content`; true when it came before with other content.
    pub fn note_request_id(&self, id: Digest, content: Digest, ttl: Duration) -> bool {
        let now = Instant::now();
        let mut maps = self.lock();
        if maps.ids.len() >= self.max_entries && !maps.ids.contains_key(&id) {
            maps.ids.retain(|_, (_, expires)| *expires > now);
            if maps.ids.len() >= self.max_entries {
                // Only the audit line's `request_id_reused` depends on these: start afresh rather than grow.
                maps.ids.clear();
            }
        }
        let before = maps.ids.insert(id, (content, now + ttl));
        before.is_some_and(|(seen, expires)| expires > now && seen != content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(n: u8) -> Digest {
        [n; 32]
    }

    #[test]
    fn an_answer_is_kept_only_for_its_time_and_only_by_its_owner() {
        let cache = LocalCache::new(10);
        let until = Instant::now() + Duration::from_secs(5);
        let Found::Mine(Some(slot)) = cache.claim(digest(1), until) else {
            panic!("first claim owns the key")
        };
        assert!(matches!(cache.claim(digest(1), until), Found::Held(_)));
        slot.send_replace(Slot::Done(ActionResponse::Success));
        cache.settle(&digest(1), &slot, Some(Duration::from_millis(30)));
        assert!(matches!(cache.claim(digest(1), until), Found::Done(_)));
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(
            cache.claim(digest(1), until),
            Found::Mine(Some(_))
        ));
    }

    #[test]
    fn an_answer_not_kept_leaves_no_trace() {
        let cache = LocalCache::new(10);
        let until = Instant::now() + Duration::from_secs(5);
        let Found::Mine(Some(slot)) = cache.claim(digest(2), until) else {
            panic!()
        };
        slot.send_replace(Slot::Abandoned);
        cache.settle(&digest(2), &slot, None);
        assert!(matches!(
            cache.claim(digest(2), until),
            Found::Mine(Some(_))
        ));
    }

    #[test]
    fn a_full_map_sweeps_expired_entries_and_never_blocks() {
        let cache = LocalCache::new(2);
        let soon = Instant::now() + Duration::from_millis(10);
        let later = Instant::now() + Duration::from_secs(5);
        assert!(matches!(cache.claim(digest(1), soon), Found::Mine(Some(_))));
        assert!(matches!(
            cache.claim(digest(2), later),
            Found::Mine(Some(_))
        ));
        assert!(matches!(cache.claim(digest(3), later), Found::Mine(None)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(matches!(
            cache.claim(digest(3), later),
            Found::Mine(Some(_))
        ));
    }

    #[test]
    fn a_full_map_drops_the_answers_that_expire_soonest() {
        let cache = LocalCache::new(10);
        let until = Instant::now() + Duration::from_secs(5);
        for n in 0..10u8 {
            let Found::Mine(Some(slot)) = cache.claim(digest(n), until) else {
                panic!("room for ten")
            };
            slot.send_replace(Slot::Done(ActionResponse::Success));
            cache.settle(
                &digest(n),
                &slot,
                Some(Duration::from_secs(60 + u64::from(n))),
            );
        }
        assert!(matches!(
            cache.claim(digest(99), until),
            Found::Mine(Some(_))
        ));
        assert!(
            matches!(cache.claim(digest(0), until), Found::Mine(Some(_))),
            "the soonest went"
        );
        assert!(
            matches!(cache.claim(digest(9), until), Found::Done(_)),
            "the latest stayed"
        );
    }

    #[test]
    fn a_request_id_with_other_content_is_noticed() {
        let cache = LocalCache::new(10);
        let ttl = Duration::from_secs(5);
        assert!(!cache.note_request_id(digest(1), digest(7), ttl));
        assert!(!cache.note_request_id(digest(1), digest(7), ttl));
        assert!(cache.note_request_id(digest(1), digest(8), ttl));
    }
}
