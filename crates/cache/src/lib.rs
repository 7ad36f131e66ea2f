//! Key-value cache for hfb behind one trait, [`Cache`].
//!
//! - [`MemoryCache`]: in-process, bounded, TTL honoured (the embedded default);
//! - [`RedisCache`]: shared by all instances; constructing it never contacts Redis;
//! - [`FallbackCache`]: Redis first, the in-process cache while Redis is down; its `ping`
//!   reports Redis so readiness shows the outage while requests keep working.
//!
//! [`from_url`] picks one from configuration. JSON helpers are in [`CacheExt`].
//!
//! Rate limiting (GCRA) has the same three shapes behind [`RateLimiter`]:
//! [`MemoryRateLimiter`], [`RedisRateLimiter`] (one atomic Lua script on Redis server time,
//! shared by all instances) and [`FallbackRateLimiter`]; [`rate_limiter_from_url`] picks one.

mod fallback;
mod memory;
mod rate_limit;
mod redis_cache;
mod redis_rate_limit;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use fallback::{FallbackCache, FallbackRateLimiter};
pub use memory::MemoryCache;
pub use rate_limit::{MemoryRateLimiter, Quota, RateDecision, RateLimiter};
pub use redis_cache::RedisCache;
pub use redis_rate_limit::RedisRateLimiter;

/// Entries kept by the in-process cache that [`from_url`] builds.
pub const DEFAULT_MEMORY_ENTRIES: usize = 10_000;
/// Keys remembered by the in-process rate limiter that [`rate_limiter_from_url`] builds
/// (about 100 bytes each).
pub const DEFAULT_RATE_LIMIT_KEYS: usize = 100_000;
/// Longest TTL honoured; longer ones are shortened to this (keeps expiry arithmetic finite).
pub const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Cache failures. Callers usually treat any error as a miss.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The cache server is unreachable, timed out, or answered an error.
    #[error("cache unavailable: {0}")]
    Unavailable(String),
    /// A value could not be encoded or decoded (JSON helpers).
    #[error("cache serialization: {0}")]
    Serialization(String),
}

/// A byte cache with per-entry TTL.
///
/// A zero `ttl` stores nothing (and removes an existing entry); TTLs above [`MAX_TTL`] are
/// shortened to it.
#[async_trait]
pub trait Cache: Send + Sync {
    /// "memory" or "redis".
    fn backend(&self) -> &'static str;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// True when an unexpired entry was removed.
    async fn delete(&self, key: &str) -> Result<bool, CacheError>;
    /// A round trip to the backing server (readiness).
    async fn ping(&self) -> Result<(), CacheError>;
}

/// JSON convenience on any [`Cache`] (including `dyn Cache`).
#[async_trait]
pub trait CacheExt: Cache {
    /// Reads and decodes a JSON value; `Serialization` when the stored bytes do not decode.
    async fn get_json<T: DeserializeOwned + Send>(
        &self,
        key: &str,
    ) -> Result<Option<T>, CacheError> {
        match self.get(key).await? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CacheError::Serialization(format!("decode {key:?}: {e}"))),
        }
    }

    /// Encodes a value as JSON and stores it.
    async fn set_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| CacheError::Serialization(format!("encode {key:?}: {e}")))?;
        self.set(key, &bytes, ttl).await
    }
}

impl<C: Cache + ?Sized> CacheExt for C {}

/// The cache for a configuration: Redis with an in-process fallback when `redis_url` is
/// given (and not blank), otherwise in-process only. Never contacts Redis (a down Redis is
/// not an error here); only a malformed URL is, so a typo fails startup instead of silently
/// running without the shared cache.
pub fn from_url(redis_url: Option<&str>) -> Result<Arc<dyn Cache>, CacheError> {
    let memory = || MemoryCache::new(DEFAULT_MEMORY_ENTRIES);
    Ok(match redis_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Arc::new(memory()),
        Some(url) => Arc::new(FallbackCache::new(
            RedisCache::connect(url, "cache")?,
            memory(),
        )),
    })
}

/// The rate limiter for a configuration, like [`from_url`]: Redis (keys `hfb:rl:<key>`,
/// shared by all instances) with an in-process fallback when `redis_url` is given (and not
/// blank), otherwise in-process only. Never contacts Redis; only a malformed URL is an
/// error.
pub fn rate_limiter_from_url(redis_url: Option<&str>) -> Result<Arc<dyn RateLimiter>, CacheError> {
    let memory = || MemoryRateLimiter::new(DEFAULT_RATE_LIMIT_KEYS);
    Ok(match redis_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => Arc::new(memory()),
        Some(url) => Arc::new(FallbackRateLimiter::new(
            RedisRateLimiter::connect(url, "")?,
            memory(),
        )),
    })
}

fn clamp_ttl(ttl: Duration) -> Duration {
    ttl.min(MAX_TTL)
}
