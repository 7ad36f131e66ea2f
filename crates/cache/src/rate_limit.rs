//! Rate limiting with GCRA (the generic cell rate algorithm).
//!
//! A quota of `limit` requests per `period` has an emission interval `T = period / limit`
//! and a burst of `limit`. Each key stores one number, its theoretical arrival time (TAT):
//! the instant at which its bucket is full again. A request at `now` is allowed when
//! `max(TAT, now) + T - limit·T <= now`; an allowed request moves the TAT to
//! `max(TAT, now) + T`, a denied one changes nothing. A key whose TAT is in the past holds a
//! full bucket, exactly like a key never seen, so it can be forgotten.
//!
//! All arithmetic is in whole microseconds, in [`Gcra::decide`] for the in-process limiter
//! and in the same steps in the Redis Lua script.

use std::collections::BTreeSet;

// Read on every authenticated call: foldhash rather than SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{CacheError, clamp_ttl};

/// A rate: at most `limit` requests in a burst, refilled evenly over `period` (one request
/// every `period / limit`).
///
/// `limit` 0 denies every request. `period` is used in whole microseconds, at least one
/// microsecond per request, and at most [`MAX_TTL`](crate::MAX_TTL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    /// Burst size, and requests allowed per `period`.
    pub limit: u32,
    /// The time in which `limit` requests are refilled.
    pub period: Duration,
}

impl Quota {
    #[must_use]
    pub const fn new(limit: u32, period: Duration) -> Self {
        Self { limit, period }
    }

    #[must_use]
    pub const fn per_second(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(1))
    }

    #[must_use]
    pub const fn per_minute(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(60))
    }

    #[must_use]
    pub const fn per_hour(limit: u32) -> Self {
        Self::new(limit, Duration::from_secs(3600))
    }

    /// The time in which one request is refilled (`period / limit`, as used); the whole
    /// period when `limit` is 0.
    #[must_use]
    pub fn emission_interval(&self) -> Duration {
        Gcra::new(*self).map_or(self.period, |gcra| Duration::from_micros(gcra.emission_us))
    }
}

/// The answer to one [`RateLimiter::check`], with what an HTTP layer needs for `429`,
/// `Retry-After` and the `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset`
/// headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may proceed (it then used one request of the quota).
    pub allowed: bool,
    /// The quota's `limit`.
    pub limit: u32,
    /// Requests that would be allowed right now, after this one.
    pub remaining: u32,
    /// Until the next request can be allowed; zero when this one was allowed.
    pub retry_after: Duration,
    /// Until the full burst (`limit` requests) is available again.
    pub reset_after: Duration,
}

impl RateDecision {
    /// `retry_after` in whole seconds, rounded up (the `Retry-After` header; at least 1 when
    /// denied).
    #[must_use]
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.retry_after)
    }

    /// `reset_after` in whole seconds, rounded up (the `RateLimit-Reset` header).
    #[must_use]
    pub fn reset_after_secs(&self) -> u64 {
        ceil_secs(self.reset_after)
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// Decides requests against per-key quotas.
///
/// Use one key per quota (e.g. `login:ip:<addr>`, `login:user:<id>`): a key checked with
/// different quotas shares one bucket state between them.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// "memory" or "redis".
    fn backend(&self) -> &'static str;
    /// Decides one request for `key`; an allowed request uses one request of the quota, a
    /// denied one uses nothing.
    async fn check(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError>;
}

/// The GCRA parameters of a [`Quota`] with a non-zero limit, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gcra {
    pub(crate) limit: u32,
    /// `T`, at least 1.
    pub(crate) emission_us: u64,
}

impl Gcra {
    /// None for a zero limit (every request is denied: see [`Gcra::never`]).
    pub(crate) fn new(quota: Quota) -> Option<Self> {
        if quota.limit == 0 {
            return None;
        }
        let period_us = u64::try_from(clamp_ttl(quota.period).as_micros()).unwrap_or(u64::MAX);
        Some(Self {
            limit: quota.limit,
            emission_us: (period_us / u64::from(quota.limit)).max(1),
        })
    }

    /// The decision for a quota of zero requests.
    pub(crate) fn never(quota: Quota) -> RateDecision {
        RateDecision {
            allowed: false,
            limit: 0,
            remaining: 0,
            retry_after: clamp_ttl(quota.period),
            reset_after: Duration::ZERO,
        }
    }

    /// `limit · T`: how far the TAT may run ahead of now and still allow a request.
    fn burst_us(&self) -> u64 {
        self.emission_us.saturating_mul(u64::from(self.limit))
    }

    /// Decides a request at `now` for a key whose stored TAT is `stored` (None when absent);
    /// returns the new TAT to store when allowed.
    pub(crate) fn decide(&self, now: u64, stored: Option<u64>) -> (RateDecision, Option<u64>) {
        let tat = stored.map_or(now, |tat| tat.max(now));
        let new_tat = tat.saturating_add(self.emission_us);
        let horizon = now.saturating_add(self.burst_us());
        if new_tat > horizon {
            let decision = self.decision(false, 0, new_tat - horizon, tat - now);
            return (decision, None);
        }
        let remaining = (horizon - new_tat) / self.emission_us;
        let decision = self.decision(true, remaining, 0, new_tat - now);
        (decision, Some(new_tat))
    }

    pub(crate) fn decision(
        &self,
        allowed: bool,
        remaining: u64,
        retry_after_us: u64,
        reset_after_us: u64,
    ) -> RateDecision {
        RateDecision {
            allowed,
            limit: self.limit,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX).min(self.limit),
            retry_after: Duration::from_micros(retry_after_us),
            reset_after: Duration::from_micros(reset_after_us),
        }
    }
}

/// In-process GCRA limiter for one instance: at most `max_keys` keys are remembered.
///
/// Keys whose bucket is full again are dropped on every check; when the map is still full,
/// the key closest to a full bucket is forgotten (the least information lost: a flood of
/// fresh keys cannot push out a key that has used up its quota before the others). Every
/// check is O(log n) under a std mutex that is never held across an await.
#[derive(Debug)]
pub struct MemoryRateLimiter {
    max_keys: usize,
    /// Time zero of the stored TATs.
    epoch: Instant,
    state: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    tats: HashMap<Arc<str>, u64>,
    /// (TAT, key), first = full again soonest.
    by_tat: BTreeSet<(u64, Arc<str>)>,
}

impl MemoryRateLimiter {
    /// A limiter remembering at most `max_keys` keys (at least 1).
    #[must_use]
    pub fn new(max_keys: usize) -> Self {
        Self {
            max_keys: max_keys.max(1),
            epoch: Instant::now(),
            state: Mutex::new(Buckets::default()),
        }
    }

    /// Keys currently remembered (keys with a full bucket are dropped on the next check).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().tats.len()
    }

    /// True when no key is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The configured bound.
    #[must_use]
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// Synchronous [`RateLimiter::check`], for callers outside async code.
    pub fn check_now(&self, key: &str, quota: Quota) -> RateDecision {
        let Some(gcra) = Gcra::new(quota) else {
            return Gcra::never(quota);
        };
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut buckets = self.lock();
        buckets.purge(now);
        let stored = buckets
            .tats
            .get_key_value(key)
            .map(|(k, tat)| (k.clone(), *tat));
        let (decision, new_tat) = gcra.decide(now, stored.as_ref().map(|(_, tat)| *tat));
        if let Some(new_tat) = new_tat {
            let key = match stored {
                Some((key, old_tat)) => {
                    buckets.by_tat.remove(&(old_tat, key.clone()));
                    key
                }
                None => {
                    if buckets.tats.len() >= self.max_keys {
                        buckets.evict_one();
                    }
                    Arc::from(key)
                }
            };
            buckets.by_tat.insert((new_tat, key.clone()));
            buckets.tats.insert(key, new_tat);
        }
        decision
    }

    fn lock(&self) -> MutexGuard<'_, Buckets> {
        // Critical sections never panic half-way, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Buckets {
    /// Drops keys whose bucket is full again (TAT not after now).
    fn purge(&mut self, now: u64) {
        while self.by_tat.first().is_some_and(|(tat, _)| *tat <= now) {
            if let Some((_, key)) = self.by_tat.pop_first() {
                self.tats.remove(&key);
            }
        }
    }

    fn evict_one(&mut self) {
        if let Some((_, key)) = self.by_tat.pop_first() {
            self.tats.remove(&key);
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn check(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError> {
        Ok(self.check_now(key, quota))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const MS: u64 = 1000;

    fn gcra(limit: u32, period_ms: u64) -> Gcra {
        Gcra::new(Quota::new(limit, Duration::from_millis(period_ms))).unwrap()
    }

    #[test]
    fn burst_then_one_per_emission_interval() {
        let g = gcra(4, 400); // T = 100 ms
        assert_eq!(g.emission_us, 100 * MS);
        let mut tat = None;
        for expected_remaining in [3, 2, 1, 0] {
            let (d, new_tat) = g.decide(0, tat);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
            assert_eq!(d.retry_after, Duration::ZERO);
            tat = new_tat;
        }
        assert_eq!(tat, Some(400 * MS));
        let (d, new_tat) = g.decide(30 * MS, tat);
        assert!(!d.allowed);
        assert_eq!(new_tat, None, "a denied request stores nothing");
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Duration::from_millis(70));
        assert_eq!(d.reset_after, Duration::from_millis(370));
        let (d, new_tat) = g.decide(100 * MS, tat);
        assert!(d.allowed, "one request refilled after T");
        assert_eq!(d.remaining, 0);
        assert_eq!(new_tat, Some(500 * MS));
        let (d, _) = g.decide(1000 * MS, new_tat);
        assert!(d.allowed);
        assert_eq!(d.remaining, 3, "full again after the whole period");
        assert_eq!(d.reset_after, Duration::from_millis(100));
    }

    #[test]
    fn degenerate_quotas() {
        assert_eq!(Gcra::new(Quota::per_minute(0)), None);
        let never = Gcra::never(Quota::per_minute(0));
        assert!(!never.allowed);
        assert_eq!(never.retry_after, Duration::from_secs(60));
        let tiny = Gcra::new(Quota::new(10, Duration::ZERO)).unwrap();
        assert_eq!(tiny.emission_us, 1, "at least one microsecond per request");
        let huge = Gcra::new(Quota::new(1, Duration::MAX)).unwrap();
        assert_eq!(
            u128::from(huge.emission_us),
            crate::MAX_TTL.as_micros(),
            "periods are clamped like TTLs"
        );
        assert_eq!(
            Quota::new(3, Duration::from_millis(1000)).emission_interval(),
            Duration::from_micros(333_333)
        );
    }

    #[test]
    fn header_seconds_round_up() {
        let d = RateDecision {
            allowed: false,
            limit: 1,
            remaining: 0,
            retry_after: Duration::from_millis(1),
            reset_after: Duration::from_secs(2),
        };
        assert_eq!(d.retry_after_secs(), 1);
        assert_eq!(d.reset_after_secs(), 2);
    }

    #[test]
    fn memory_indexes_stay_consistent_and_bounded() {
        let limiter = MemoryRateLimiter::new(3);
        let quota = Quota::per_minute(5);
        for i in 0..50 {
            limiter.check_now(&format!("k{}", i % 7), quota);
            let buckets = limiter.lock();
            assert!(buckets.tats.len() <= 3);
            assert_eq!(buckets.tats.len(), buckets.by_tat.len());
            for (tat, key) in &buckets.by_tat {
                assert_eq!(buckets.tats.get(key), Some(tat));
            }
        }
    }

    #[test]
    fn memory_evicts_the_fullest_bucket_first() {
        let limiter = MemoryRateLimiter::new(2);
        let quota = Quota::per_minute(3);
        for _ in 0..3 {
            assert!(limiter.check_now("drained", quota).allowed);
        }
        assert!(limiter.check_now("a", quota).allowed);
        assert!(limiter.check_now("b", quota).allowed, "evicts `a`");
        assert_eq!(limiter.len(), 2);
        assert!(
            !limiter.check_now("drained", quota).allowed,
            "a flood of fresh keys does not reset a drained one"
        );
    }

    #[test]
    fn memory_drops_keys_whose_bucket_is_full_again() {
        let limiter = MemoryRateLimiter::new(100);
        let quota = Quota::new(2, Duration::from_millis(20));
        limiter.check_now("a", quota);
        limiter.check_now("b", quota);
        assert_eq!(limiter.len(), 2);
        std::thread::sleep(Duration::from_millis(30));
        limiter.check_now("c", quota);
        assert_eq!(limiter.len(), 1, "only `c` is left");
    }
}
