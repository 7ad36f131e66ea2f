use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::redis::{self, AsyncConnectionConfig};
use deadpool_redis::{Connection, Manager, Pool, PoolError, Runtime};

use crate::{Cache, CacheError, clamp_ttl};

/// Pool wait/create/recycle timeouts and Redis connect/response timeouts: a down or
/// unreachable Redis answers an error in about this long instead of hanging a request.
const TIMEOUT: Duration = Duration::from_millis(500);
/// Upper bound for one whole operation (pool checkout + command).
const OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
const MAX_CONNECTIONS: usize = 16;

/// Redis-backed cache. Keys are stored as `hfb:<prefix>:<key>` (`hfb:<key>` with an empty
/// prefix). Connections are made lazily and re-made after failures, so it can be built
/// while Redis is down and recovers by itself when Redis comes back.
#[derive(Clone)]
pub struct RedisCache {
    pool: Pool,
    namespace: String,
}

impl fmt::Debug for RedisCache {
    // Not derived: the pool's Debug would print the connection info.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Builds the pool without connecting. Fails only for a malformed URL (the error never
    /// repeats the URL, which may hold a password).
    pub fn connect(url: &str, key_prefix: &str) -> Result<Self, CacheError> {
        Ok(Self {
            pool: build_pool(url)?,
            namespace: namespace("hfb:", key_prefix),
        })
    }

    /// The full Redis key for a cache key.
    #[must_use]
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, CacheError> {
        with_timeout(async {
            let mut conn = connection(&self.pool).await?;
            cmd.query_async::<T>(&mut conn)
                .await
                .map_err(map_redis_error)
        })
        .await
    }

    /// The pool, for other Redis-backed parts of this crate that share it.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// A lazily connecting pool with short timeouts. Fails only for a malformed URL (the error
/// never repeats the URL, which may hold a password).
pub(crate) fn build_pool(url: &str) -> Result<Pool, CacheError> {
    let connection = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(TIMEOUT))
        .set_response_timeout(Some(TIMEOUT));
    let manager = Manager::new_with_config(url, connection)
        .map_err(|e| CacheError::Unavailable(format!("invalid Redis URL ({:?})", e.kind())))?;
    Pool::builder(manager)
        .max_size(MAX_CONNECTIONS)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(TIMEOUT))
        .create_timeout(Some(TIMEOUT))
        .recycle_timeout(Some(TIMEOUT))
        .build()
        .map_err(|e| CacheError::Unavailable(format!("redis pool: {e}")))
}

/// `<base><prefix>:` with the prefix's surrounding colons trimmed, `<base>` when it is empty.
/// `base` ends with a colon.
pub(crate) fn namespace(base: &str, key_prefix: &str) -> String {
    let prefix = key_prefix.trim_matches(':');
    if prefix.is_empty() {
        base.to_owned()
    } else {
        format!("{base}{prefix}:")
    }
}

pub(crate) async fn connection(pool: &Pool) -> Result<Connection, CacheError> {
    pool.get().await.map_err(map_pool_error)
}

/// Bounds one whole operation (pool checkout + commands) by [`OPERATION_TIMEOUT`].
pub(crate) async fn with_timeout<T>(
    work: impl Future<Output = Result<T, CacheError>>,
) -> Result<T, CacheError> {
    tokio::time::timeout(OPERATION_TIMEOUT, work)
        .await
        .unwrap_or_else(|_| Err(CacheError::Unavailable("redis: operation timed out".into())))
}

pub(crate) fn map_redis_error(e: redis::RedisError) -> CacheError {
    CacheError::Unavailable(format!("redis: {e}"))
}

fn map_pool_error(e: PoolError) -> CacheError {
    match e {
        PoolError::Timeout(kind) => {
            CacheError::Unavailable(format!("redis: pool timeout ({kind:?})"))
        }
        PoolError::Backend(e) => CacheError::Unavailable(format!("redis: {e}")),
        other => CacheError::Unavailable(format!("redis pool: {other}")),
    }
}

#[async_trait]
impl Cache for RedisCache {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.run(redis::cmd("GET").arg(self.redis_key(key))).await
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        if ttl.is_zero() {
            // Redis rejects PX 0; a zero TTL means "do not keep", as in MemoryCache.
            return self.delete(key).await.map(|_| ());
        }
        let millis = u64::try_from(clamp_ttl(ttl).as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(
            redis::cmd("SET")
                .arg(self.redis_key(key))
                .arg(value)
                .arg("PX")
                .arg(millis),
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let removed: u64 = self.run(redis::cmd("DEL").arg(self.redis_key(key))).await?;
        Ok(removed > 0)
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.run::<String>(&redis::cmd("PING")).await.map(|_| ())
    }
}
