//! Short-lived in-process copies of what every inference call reads, so the hot path does
//! not go to the store on each call: the principal behind an API key
//! (`HFB_AUTH_CACHE_MS`, default 5 s), and the deployment a call targets or the team's
//! deployments a call by model name chooses from (`HFB_DEPLOYMENT_CACHE_MS`, default
//! 1 s). Changes made through this instance drop the affected entries at once (revoking
//! a key, membership and team changes, deployment changes); changes made through another
//! instance reach this one within those times (plus one store read: when an entry
//! expires, one call reads it again while the others keep the old value).
//! Zero disables a cache.

type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hfb_store::Deployment;

use crate::auth::Principal;

/// Entries kept at most; past it the cache starts over (bounded memory, no eviction
/// bookkeeping on the hot path).
const MAX_ENTRIES: usize = 10_000;

pub struct TtlCache<V> {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

struct Entry<V> {
    at: Instant,
    value: V,
    /// A caller was told the entry expired and is reading it again.
    refreshing: bool,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry<V>>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value while it is fresh. Once it expires, the first caller gets `None` and is
    /// expected to read it again and [`put`](Self::put) it; until then (for at most
    /// another TTL) the others keep getting the expired value, so a busy server does not
    /// send every call in flight to the store at once when an entry expires.
    pub fn get(&self, key: &str) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.lock();
        let entry = entries.get_mut(key)?;
        let age = entry.at.elapsed();
        if age < self.ttl {
            return Some(entry.value.clone());
        }
        if entry.refreshing && age < self.ttl * 2 {
            return Some(entry.value.clone());
        }
        entry.refreshing = true;
        None
    }

    pub fn put(&self, key: String, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                at: Instant::now(),
                value,
                refreshing: false,
            },
        );
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }
}

pub struct HotCaches {
    /// By the API key's hash (a [`Principal`] is shared: a hit copies a pointer).
    pub api_keys: TtlCache<Principal>,
    /// By deployment id (shared, so a hit copies a pointer rather than the record).
    pub deployments: TtlCache<Arc<Deployment>>,
    /// A team's deployments, by team id (the routes that name a model rather than a
    /// deployment choose from them).
    pub team_deployments: TtlCache<Arc<[Arc<Deployment>]>>,
}

impl HotCaches {
    /// A key was revoked, or a membership, team or account changed: what API keys
    /// resolved to may be stale, so they are resolved again (rare; all are dropped).
    pub fn credentials_changed(&self) {
        self.api_keys.clear();
    }

    /// Deployment `id` changed (or is gone): it is read again, and so are the team lists
    /// (all of them: changes are rare next to calls).
    pub fn deployment_changed(&self, id: &str) {
        self.deployments.remove(id);
        self.team_deployments.clear();
    }

    pub fn new(auth_ttl: Duration, deployment_ttl: Duration) -> Self {
        Self {
            api_keys: TtlCache::new(auth_ttl),
            deployments: TtlCache::new(deployment_ttl),
            team_deployments: TtlCache::new(deployment_ttl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_dropped() {
        let c = TtlCache::new(Duration::from_millis(30));
        c.put("a".into(), 1);
        assert_eq!(c.get("a"), Some(1));
        c.remove("a");
        assert_eq!(c.get("a"), None);
        c.put("b".into(), 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get("b"), None, "expired: the first caller reads it again");
        assert_eq!(
            c.get("b"),
            Some(2),
            "the others keep the old value meanwhile"
        );
        c.put("b".into(), 3);
        assert_eq!(c.get("b"), Some(3), "fresh again");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get("b"), None);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            c.get("b"),
            None,
            "a refresh that never came ends after another TTL"
        );
        let off = TtlCache::new(Duration::ZERO);
        off.put("c".into(), 3);
        assert_eq!(off.get("c"), None, "zero disables");
    }
}
