use std::fmt;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use deadpool_redis::redis::{self, ErrorKind, ServerErrorKind};
use deadpool_redis::{Connection, Pool};

use crate::rate_limit::Gcra;
use crate::redis_cache::{build_pool, connection, map_redis_error, namespace, with_timeout};
use crate::{CacheError, Quota, RateDecision, RateLimiter, RedisCache};

/// GCRA in one atomic step, on Redis server time so instances with skewed clocks agree.
///
/// KEYS[1]: the bucket; ARGV[1]: emission interval T in µs (≥ 1); ARGV[2]: limit (≥ 1).
/// Stores the TAT in µs of Redis time, expiring when the bucket is full again.
/// Returns {allowed (0/1), remaining, retry_after µs, reset_after µs}.
/// The same steps as `Gcra::decide`; all numbers stay below 2^53, exact in Lua doubles.
const SCRIPT: &str = r"
if redis.replicate_commands then redis.replicate_commands() end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local emission = tonumber(ARGV[1])
local horizon = now + emission * tonumber(ARGV[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  local value = tonumber(stored)
  if value and value > now then tat = value end
end
local new_tat = tat + emission
if new_tat > horizon then
  return {0, 0, new_tat - horizon, tat - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', string.format('%d', ttl_ms))
return {1, math.floor((horizon - new_tat) / emission), 0, new_tat - now}
";

/// GCRA rate limiter on Redis, shared by all instances: each check is one atomic Lua
/// script (EVALSHA, with EVAL when the server does not have it cached) that reads Redis
/// server time. Buckets are stored as `hfb:rl:<prefix>:<key>` (`hfb:rl:<key>` with an empty
/// prefix) and expire when full again, so idle keys take no space.
///
/// Like [`RedisCache`], it never connects on construction, fails fast while Redis is down
/// and recovers by itself.
#[derive(Clone)]
pub struct RedisRateLimiter {
    pool: Pool,
    namespace: String,
    /// The script's SHA1, as answered by `SCRIPT LOAD` (the same for every server).
    script_sha: Arc<OnceLock<String>>,
}

impl fmt::Debug for RedisRateLimiter {
    // Not derived: the pool's Debug would print the connection info.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// Builds its own pool without connecting (the same timeouts as [`RedisCache`]). Fails
    /// only for a malformed URL, without repeating it.
    pub fn connect(url: &str, key_prefix: &str) -> Result<Self, CacheError> {
        Ok(Self::with_pool(build_pool(url)?, key_prefix))
    }

    /// Shares the connection pool of a [`RedisCache`] (its key prefix is not used).
    #[must_use]
    pub fn from_cache(cache: &RedisCache, key_prefix: &str) -> Self {
        Self::with_pool(cache.pool().clone(), key_prefix)
    }

    fn with_pool(pool: Pool, key_prefix: &str) -> Self {
        Self {
            pool,
            namespace: namespace("hfb:rl:", key_prefix),
            script_sha: Arc::new(OnceLock::new()),
        }
    }

    /// The full Redis key of a rate-limit key.
    #[must_use]
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    async fn run_script(
        &self,
        conn: &mut Connection,
        key: &str,
        gcra: Gcra,
    ) -> Result<Vec<i64>, redis::RedisError> {
        let sha = match self.script_sha.get() {
            Some(sha) => sha.clone(),
            None => {
                let sha: String = redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(SCRIPT)
                    .query_async(conn)
                    .await?;
                self.script_sha.get_or_init(|| sha).clone()
            }
        };
        let mut evalsha = redis::cmd("EVALSHA");
        evalsha.arg(&sha);
        let mut eval = redis::cmd("EVAL");
        eval.arg(SCRIPT);
        for cmd in [&mut evalsha, &mut eval] {
            cmd.arg(1)
                .arg(self.redis_key(key))
                .arg(gcra.emission_us)
                .arg(gcra.limit);
        }
        match evalsha.query_async(conn).await {
            // A restarted or flushed server: EVAL runs the script and caches it again.
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                eval.query_async(conn).await
            }
            other => other,
        }
    }
}

fn micros(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn check(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError> {
        let Some(gcra) = Gcra::new(quota) else {
            return Ok(Gcra::never(quota));
        };
        let reply = with_timeout(async {
            let mut conn = connection(&self.pool).await?;
            self.run_script(&mut conn, key, gcra)
                .await
                .map_err(map_redis_error)
        })
        .await?;
        match reply[..] {
            [allowed, remaining, retry_after, reset_after] => Ok(gcra.decision(
                allowed == 1,
                micros(remaining),
                micros(retry_after),
                micros(reset_after),
            )),
            _ => Err(CacheError::Unavailable(format!(
                "redis: unexpected rate limit reply {reply:?}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn keys_are_namespaced() {
        let pool = || build_pool("redis://127.0.0.1:1").unwrap();
        let limiter = RedisRateLimiter::with_pool(pool(), "");
        assert_eq!(limiter.redis_key("login:1.2.3.4"), "hfb:rl:login:1.2.3.4");
        let limiter = RedisRateLimiter::with_pool(pool(), ":t1:");
        assert_eq!(limiter.redis_key("k"), "hfb:rl:t1:k");
    }
}
