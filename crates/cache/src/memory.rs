use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{Cache, CacheError, clamp_ttl};

/// In-process cache: at most `max_entries` entries; when full, expired entries go first,
/// then the least recently written. Every operation is O(log n) under a std mutex that is
/// never held across an await.
#[derive(Debug)]
pub struct MemoryCache {
    max_entries: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Arc<str>, Entry>,
    /// Write order: sequence number -> key (first = oldest write).
    by_write: BTreeMap<u64, Arc<str>>,
    /// Expiry order: (deadline, sequence) -> key (first = expires soonest).
    by_expiry: BTreeMap<(Instant, u64), Arc<str>>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
    seq: u64,
}

impl MemoryCache {
    /// A cache holding at most `max_entries` (at least 1).
    #[must_use]
    pub fn new(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Entries currently held (expired ones not yet purged included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when no entries are held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured bound.
    #[must_use]
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Synchronous read, for callers outside async code.
    #[must_use]
    pub fn get_now(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let mut state = self.lock();
        match state.entries.get(key) {
            Some(entry) if entry.expires_at > now => Some(entry.value.clone()),
            Some(_) => {
                state.remove(key);
                None
            }
            None => None,
        }
    }

    /// Synchronous write, for callers outside async code.
    pub fn set_now(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut state = self.lock();
        if ttl.is_zero() {
            state.remove(key);
            return;
        }
        let now = Instant::now();
        let expires_at = now
            .checked_add(clamp_ttl(ttl))
            .unwrap_or(now + Duration::from_secs(3600));
        state.remove(key);
        let seq = state.next_seq;
        state.next_seq += 1;
        let key: Arc<str> = Arc::from(key);
        state.by_write.insert(seq, key.clone());
        state.by_expiry.insert((expires_at, seq), key.clone());
        state.entries.insert(
            key,
            Entry {
                value: value.to_vec(),
                expires_at,
                seq,
            },
        );
        if state.entries.len() > self.max_entries {
            state.purge_expired(now);
        }
        while state.entries.len() > self.max_entries {
            let Some((_, oldest)) = state.by_write.pop_first() else {
                break;
            };
            state.remove(&oldest);
        }
    }

    /// Synchronous delete; true when an unexpired entry was removed.
    pub fn delete_now(&self, key: &str) -> bool {
        let now = Instant::now();
        self.lock()
            .remove(key)
            .is_some_and(|entry| entry.expires_at > now)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Critical sections never panic half-way, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn remove(&mut self, key: &str) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        self.by_write.remove(&entry.seq);
        self.by_expiry.remove(&(entry.expires_at, entry.seq));
        Some(entry)
    }

    fn purge_expired(&mut self, now: Instant) {
        while let Some(entry) = self.by_expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let key = entry.remove();
            if let Some(removed) = self.entries.remove(&key) {
                self.by_write.remove(&removed.seq);
            }
        }
    }
}

#[async_trait]
impl Cache for MemoryCache {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.get_now(key))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.set_now(key, value, ttl);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.delete_now(key))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn indexes_stay_consistent() {
        let cache = MemoryCache::new(3);
        for i in 0..10 {
            cache.set_now(&format!("k{}", i % 4), b"v", Duration::from_secs(60));
            cache.set_now("short", b"v", Duration::from_nanos(1));
            let state = cache.lock();
            assert!(state.entries.len() <= 3);
            assert_eq!(state.entries.len(), state.by_write.len());
            assert_eq!(state.entries.len(), state.by_expiry.len());
        }
        assert!(cache.delete_now("k1") || cache.get_now("k1").is_none());
    }
}
