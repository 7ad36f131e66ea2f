use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{
    Cache, CacheError, MemoryCache, MemoryRateLimiter, Quota, RateDecision, RateLimiter,
    RedisCache, RedisRateLimiter,
};

/// At most one "Redis is down" warning per this period.
const WARN_EVERY: Duration = Duration::from_secs(30);
/// After a Redis failure, requests skip Redis for this long (a circuit breaker: a silent
/// outage would otherwise add a timeout to every request); `ping` always tries Redis.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The Redis health shared by the fallback wrappers: whether to try Redis now, whether the
/// last attempt failed, and rate-limited warnings.
#[derive(Debug)]
struct Breaker {
    /// What is degraded, for the log lines: "cache", "rate limiter".
    component: &'static str,
    /// What happens meanwhile, for the warning.
    meanwhile: &'static str,
    health: Mutex<Health>,
    degraded: AtomicBool,
}

#[derive(Debug, Default)]
struct Health {
    last_warning: Option<Instant>,
    skip_primary_until: Option<Instant>,
}

impl Breaker {
    fn new(component: &'static str, meanwhile: &'static str) -> Self {
        Self {
            component,
            meanwhile,
            health: Mutex::new(Health::default()),
            degraded: AtomicBool::new(false),
        }
    }

    fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    fn primary_allowed(&self) -> bool {
        let health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        health
            .skip_primary_until
            .is_none_or(|until| Instant::now() >= until)
    }

    fn primary_failed(&self, operation: &str, error: &CacheError) {
        self.degraded.store(true, Ordering::Relaxed);
        let now = Instant::now();
        let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
        health.skip_primary_until = Some(now + RETRY_AFTER);
        if health
            .last_warning
            .is_none_or(|at| now.duration_since(at) >= WARN_EVERY)
        {
            health.last_warning = Some(now);
            drop(health);
            tracing::warn!(
                %error, operation,
                "Redis {} unavailable; {} (next warning in 30 s at most)",
                self.component, self.meanwhile
            );
        }
    }

    fn primary_ok(&self) {
        if self.degraded.swap(false, Ordering::Relaxed) {
            let mut health = self.health.lock().unwrap_or_else(PoisonError::into_inner);
            health.skip_primary_until = None;
            drop(health);
            tracing::info!("Redis {} reachable again", self.component);
        }
    }
}

/// Redis, with an in-process cache that serves reads and takes writes while Redis fails.
///
/// After recovery reads and writes go to Redis again; entries written to the fallback
/// during the outage are not copied over (they are cache entries: a miss recomputes them).
/// A successful Redis write or delete also drops the key from the fallback, so a later
/// outage never serves a value older than what Redis had.
#[derive(Debug)]
pub struct FallbackCache {
    primary: RedisCache,
    fallback: MemoryCache,
    breaker: Breaker,
}

impl FallbackCache {
    #[must_use]
    pub fn new(primary: RedisCache, fallback: MemoryCache) -> Self {
        Self {
            primary,
            fallback,
            breaker: Breaker::new("cache", "serving from the in-process cache"),
        }
    }

    /// True while the last Redis attempt failed (requests are served in-process).
    #[must_use]
    pub fn is_degraded(&self) -> bool {
        self.breaker.is_degraded()
    }

    /// The Redis side, e.g. to inspect it in tests.
    #[must_use]
    pub fn primary(&self) -> &RedisCache {
        &self.primary
    }

    /// The in-process side.
    #[must_use]
    pub fn fallback(&self) -> &MemoryCache {
        &self.fallback
    }

    fn primary_allowed(&self) -> bool {
        self.breaker.primary_allowed()
    }

    fn primary_failed(&self, operation: &str, error: &CacheError) {
        self.breaker.primary_failed(operation, error);
    }

    fn primary_ok(&self) {
        self.breaker.primary_ok();
    }
}

#[async_trait]
impl Cache for FallbackCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        if self.primary_allowed() {
            match self.primary.get(key).await {
                Ok(value) => {
                    self.primary_ok();
                    return Ok(value);
                }
                Err(e) => self.primary_failed("get", &e),
            }
        }
        self.fallback.get(key).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        if self.primary_allowed() {
            match self.primary.set(key, value, ttl).await {
                Ok(()) => {
                    self.primary_ok();
                    self.fallback.delete_now(key);
                    return Ok(());
                }
                Err(e) => self.primary_failed("set", &e),
            }
        }
        self.fallback.set(key, value, ttl).await
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let local = self.fallback.delete_now(key);
        if self.primary_allowed() {
            match self.primary.delete(key).await {
                Ok(removed) => {
                    self.primary_ok();
                    return Ok(removed || local);
                }
                Err(e) => self.primary_failed("delete", &e),
            }
        }
        Ok(local)
    }

    /// The primary's health: readiness reports Redis down while requests keep working.
    async fn ping(&self) -> Result<(), CacheError> {
        let result = self.primary.ping().await;
        match &result {
            Ok(()) => self.primary_ok(),
            Err(e) => self.primary_failed("ping", e),
        }
        result
    }
}

/// Redis, with an in-process limiter that takes over while Redis fails.
///
/// During an outage every instance enforces the quotas on its own, starting from full
/// buckets (so all instances together allow up to N times the quota); once Redis answers
/// again the shared Redis buckets are used, as they were before the outage (the in-process
/// counts are not copied over). Like [`FallbackCache`], a failure makes checks skip Redis
/// for about a second, and the warning is logged at most once per 30 s.
#[derive(Debug)]
pub struct FallbackRateLimiter {
    primary: RedisRateLimiter,
    fallback: MemoryRateLimiter,
    breaker: Breaker,
}

impl FallbackRateLimiter {
    #[must_use]
    pub fn new(primary: RedisRateLimiter, fallback: MemoryRateLimiter) -> Self {
        Self {
            primary,
            fallback,
            breaker: Breaker::new("rate limiter", "enforcing rate limits in-process"),
        }
    }

    /// True while the last Redis attempt failed (checks are decided in-process).
    #[must_use]
    pub fn is_degraded(&self) -> bool {
        self.breaker.is_degraded()
    }

    /// The Redis side.
    #[must_use]
    pub fn primary(&self) -> &RedisRateLimiter {
        &self.primary
    }

    /// The in-process side.
    #[must_use]
    pub fn fallback(&self) -> &MemoryRateLimiter {
        &self.fallback
    }
}

#[async_trait]
impl RateLimiter for FallbackRateLimiter {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn check(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError> {
        if self.breaker.primary_allowed() {
            match self.primary.check(key, quota).await {
                Ok(decision) => {
                    self.breaker.primary_ok();
                    return Ok(decision);
                }
                Err(e) => self.breaker.primary_failed("rate limit check", &e),
            }
        }
        self.fallback.check(key, quota).await
    }
}
