//! One behaviour suite for every `RateLimiter`: MemoryRateLimiter, RedisRateLimiter and
//! FallbackRateLimiter on the real Redis at `HFB_TEST_REDIS_URL` (default
//! redis://127.0.0.1:6379, a unique key prefix per run); then Redis-only properties (two
//! instances share one budget, key layout and expiry), and outages on a private
//! `redis-server` child.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{RedisProcess, free_port, within};
use deadpool_redis::redis;
use hfb_cache::{
    CacheError, FallbackRateLimiter, MemoryRateLimiter, Quota, RateDecision, RateLimiter,
    RedisCache, RedisRateLimiter,
};

const MS: Duration = Duration::from_millis(1);
/// Slack for sleeps that wait for a refill (timer and scheduling jitter).
const MARGIN: Duration = Duration::from_millis(40);

fn redis_url() -> String {
    std::env::var("HFB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn unique_prefix() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

async fn redis_limiter(prefix: &str) -> RedisRateLimiter {
    let limiter = RedisRateLimiter::connect(&redis_url(), prefix).expect("valid Redis URL");
    limiter
        .check("reachable", Quota::per_minute(1000))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "Redis is not reachable at HFB_TEST_REDIS_URL ({}): {e}. Start it with \
                 `redis-server --daemonize yes --port 6379 --save \"\" --appendonly no`",
                redis_url()
            )
        });
    limiter
}

fn memory() -> Arc<dyn RateLimiter> {
    Arc::new(MemoryRateLimiter::new(1000))
}

async fn redis() -> Arc<dyn RateLimiter> {
    Arc::new(redis_limiter(&unique_prefix()).await)
}

async fn fallback() -> Arc<dyn RateLimiter> {
    let limiter = FallbackRateLimiter::new(
        redis_limiter(&unique_prefix()).await,
        MemoryRateLimiter::new(1000),
    );
    assert_eq!(limiter.backend(), "redis");
    Arc::new(limiter)
}

async fn check(limiter: &dyn RateLimiter, key: &str, quota: Quota) -> RateDecision {
    limiter.check(key, quota).await.expect("check")
}

/// `actual` lies in `[expected - early, expected]` (times shrink while requests run).
fn assert_about(actual: Duration, expected: Duration, early: Duration, what: &str) {
    let low = expected.saturating_sub(early + MS);
    assert!(
        low <= actual && actual <= expected,
        "{what}: {actual:?} not in [{low:?}, {expected:?}]"
    );
}

async fn burst_then_denied_with_retry_after(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::new(5, Duration::from_secs(2));
    let emission = Duration::from_millis(400);
    assert_eq!(quota.emission_interval(), emission);
    let started = Instant::now();
    for i in 0..5u32 {
        let d = check(&*limiter, "k", quota).await;
        assert!(d.allowed, "request {i} of the burst is allowed: {d:?}");
        assert_eq!(d.limit, 5);
        assert_eq!(d.remaining, 4 - i, "remaining counts down");
        assert_eq!(d.retry_after, Duration::ZERO, "zero when allowed");
        assert_about(
            d.reset_after,
            emission * (i + 1),
            started.elapsed(),
            "reset_after grows by one emission interval per request",
        );
    }
    let d = check(&*limiter, "k", quota).await;
    assert!(!d.allowed, "the request after the burst is denied: {d:?}");
    assert_eq!((d.limit, d.remaining), (5, 0));
    assert!(d.retry_after > Duration::ZERO);
    assert_about(
        d.retry_after,
        emission,
        started.elapsed(),
        "retry_after is about one emission interval",
    );
    assert_about(
        d.reset_after,
        quota.period,
        started.elapsed(),
        "reset_after is about the whole period",
    );
    assert_eq!(d.retry_after_secs(), 1);
    assert_eq!(d.reset_after_secs(), 2);
}

async fn refills_after_waiting(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::new(2, Duration::from_secs(1));
    assert!(check(&*limiter, "k", quota).await.allowed);
    assert!(check(&*limiter, "k", quota).await.allowed);
    let denied = check(&*limiter, "k", quota).await;
    assert!(!denied.allowed);
    tokio::time::sleep(denied.retry_after + MARGIN).await;
    let d = check(&*limiter, "k", quota).await;
    assert!(d.allowed, "one request is back after retry_after: {d:?}");
    assert_eq!(d.remaining, 0, "but only one");
    assert!(!check(&*limiter, "k", quota).await.allowed);

    tokio::time::sleep(d.reset_after + MARGIN).await;
    let d = check(&*limiter, "k", quota).await;
    assert!(d.allowed);
    assert_eq!(d.remaining, 1, "the whole burst is back after reset_after");
}

async fn denied_checks_consume_nothing(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::new(1, Duration::from_secs(1));
    assert!(check(&*limiter, "k", quota).await.allowed);
    let denied_at = Instant::now();
    let first_denial = check(&*limiter, "k", quota).await;
    assert!(!first_denial.allowed);
    // Denied checks for at most half the wait (so the bucket cannot refill meanwhile).
    let mut denials = 0;
    while denials < 20 && denied_at.elapsed() < first_denial.retry_after / 2 {
        let d = check(&*limiter, "k", quota).await;
        assert!(!d.allowed, "{d:?}");
        assert!(
            d.retry_after <= first_denial.retry_after,
            "denials do not push the next allowed time back: {d:?}"
        );
        denials += 1;
    }
    assert!(denials > 0, "no time left for denied checks");
    tokio::time::sleep_until((denied_at + first_denial.retry_after + MARGIN).into()).await;
    assert!(
        check(&*limiter, "k", quota).await.allowed,
        "allowed as soon as the first denial said, despite {denials} more denied checks"
    );
}

async fn keys_are_independent(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::per_minute(2);
    let keys = ["a", "A", "a:b", "a b", "ключ", "🔑", "{a}", ""];
    for key in keys {
        let first = check(&*limiter, key, quota).await;
        assert!(first.allowed && first.remaining == 1, "{key:?}: {first:?}");
    }
    for key in keys {
        let second = check(&*limiter, key, quota).await;
        assert!(
            second.allowed && second.remaining == 0,
            "{key:?}: {second:?}"
        );
        assert!(!check(&*limiter, key, quota).await.allowed, "{key:?}");
    }
    let other = check(&*limiter, "untouched", quota).await;
    assert_eq!(other.remaining, 1, "a drained key leaves others alone");
}

async fn concurrent_checks_allow_exactly_the_limit(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::per_minute(10);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.check("hot", quota).await })
        })
        .collect();
    let mut remaining_when_allowed = BTreeSet::new();
    let mut denied = 0;
    for task in tasks {
        let d = task.await.expect("task").expect("check");
        if d.allowed {
            assert!(
                remaining_when_allowed.insert(d.remaining),
                "two requests saw the same remaining {}",
                d.remaining
            );
        } else {
            denied += 1;
        }
    }
    assert_eq!(
        remaining_when_allowed,
        (0..10).collect(),
        "exactly 10 allowed, each one cell"
    );
    assert_eq!(denied, 40);
}

async fn zero_limit_denies_everything(limiter: Arc<dyn RateLimiter>) {
    let quota = Quota::per_minute(0);
    for _ in 0..3 {
        let d = check(&*limiter, "k", quota).await;
        assert!(!d.allowed);
        assert_eq!((d.limit, d.remaining), (0, 0));
        assert_eq!(d.retry_after, Duration::from_secs(60));
    }
    assert!(
        check(&*limiter, "k", Quota::per_minute(1)).await.allowed,
        "and stores nothing"
    );
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory_rate_limiter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::memory()).await;
                }
            )*
        }
        mod redis_rate_limiter {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::redis().await).await;
                }
            )*
        }
        mod fallback_rate_limiter_on_healthy_redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(super::fallback().await).await;
                }
            )*
        }
    };
}

suite!(
    burst_then_denied_with_retry_after,
    refills_after_waiting,
    denied_checks_consume_nothing,
    keys_are_independent,
    concurrent_checks_allow_exactly_the_limit,
    zero_limit_denies_everything,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_redis_instances_share_one_budget() {
    let prefix = unique_prefix();
    let server_a = redis_limiter(&prefix).await;
    let server_b = redis_limiter(&prefix).await;
    let quota = Quota::per_minute(6);
    for i in 0..6u32 {
        let server = if i % 2 == 0 { &server_a } else { &server_b };
        let d = check(server, "login:alice", quota).await;
        assert!(d.allowed, "request {i}");
        assert_eq!(d.remaining, 5 - i, "one budget counted down by both");
    }
    assert!(!check(&server_a, "login:alice", quota).await.allowed);
    assert!(!check(&server_b, "login:alice", quota).await.allowed);

    // A third one sharing a cache's pool sees the same buckets.
    let cache = RedisCache::connect(&redis_url(), "cache").unwrap();
    let server_c = RedisRateLimiter::from_cache(&cache, &prefix);
    assert!(!check(&server_c, "login:alice", quota).await.allowed);
    let other_prefix = redis_limiter(&unique_prefix()).await;
    assert!(
        check(&other_prefix, "login:alice", quota).await.allowed,
        "prefixes isolate budgets"
    );

    // Concurrently from both instances: still exactly the limit.
    let (a, b) = (Arc::new(server_a), Arc::new(server_b));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let limiter = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { limiter.check("burst", quota).await })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        allowed += u32::from(task.await.unwrap().unwrap().allowed);
    }
    assert_eq!(allowed, 6, "two instances together allow the limit once");
}

#[tokio::test]
async fn redis_buckets_use_server_time_and_expire_when_full() {
    let prefix = unique_prefix();
    let limiter = redis_limiter(&prefix).await;
    assert_eq!(limiter.backend(), "redis");
    let key = format!("hfb:rl:{prefix}:user:1");
    assert_eq!(limiter.redis_key("user:1"), key);

    let client = redis::Client::open(redis_url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let quota = Quota::new(5, Duration::from_secs(2)); // T = 400 ms
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut raw).await.unwrap();
    let server_before = secs * 1_000_000 + micros;
    assert!(check(&limiter, "user:1", quota).await.allowed);
    let stored: u64 = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query_async(&mut raw).await.unwrap();
    let server_after = secs * 1_000_000 + micros;
    assert!(
        server_before + 400_000 <= stored && stored <= server_after + 400_000,
        "the TAT is Redis server time + T in µs: {stored} vs {server_before}..{server_after}"
    );
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((1..=400).contains(&pttl), "expires with the TAT: {pttl}");

    for _ in 0..4 {
        assert!(check(&limiter, "user:1", quota).await.allowed);
    }
    let denied = check(&limiter, "user:1", quota).await;
    assert!(!denied.allowed);
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        (1000..=2000).contains(&pttl),
        "a drained bucket lives about one period: {pttl}"
    );
    tokio::time::sleep(denied.reset_after + MARGIN).await;
    let exists: u32 = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(exists, 0, "an idle key vanishes once its bucket is full");

    let unprefixed: u32 = redis::cmd("EXISTS")
        .arg("user:1")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(unprefixed, 0);
}

#[tokio::test]
async fn fallback_on_healthy_redis_counts_in_redis() {
    let prefix = unique_prefix();
    let limiter =
        FallbackRateLimiter::new(redis_limiter(&prefix).await, MemoryRateLimiter::new(100));
    let quota = Quota::per_minute(2);
    assert!(check(&limiter, "k", quota).await.allowed);
    assert!(check(&limiter, "k", quota).await.allowed);
    let other_instance = redis_limiter(&prefix).await;
    assert!(
        !check(&other_instance, "k", quota).await.allowed,
        "the budget was spent in Redis"
    );
    assert!(!limiter.is_degraded());
    assert!(limiter.fallback().is_empty(), "the fallback is not used");
}

#[tokio::test]
async fn rate_limiter_from_url_chooses_the_backend() {
    let quota = Quota::per_minute(1);
    let memory = hfb_cache::rate_limiter_from_url(None).unwrap();
    assert_eq!(memory.backend(), "memory");
    assert!(check(&*memory, "k", quota).await.allowed);
    assert_eq!(
        hfb_cache::rate_limiter_from_url(Some("  "))
            .unwrap()
            .backend(),
        "memory"
    );

    let shared = hfb_cache::rate_limiter_from_url(Some(&redis_url())).unwrap();
    assert_eq!(shared.backend(), "redis");
    let key = unique_prefix();
    assert!(check(&*shared, &key, quota).await.allowed);
    let direct = RedisRateLimiter::connect(&redis_url(), "").unwrap();
    assert_eq!(direct.redis_key(&key), format!("hfb:rl:{key}"));
    assert!(
        !check(&direct, &key, quota).await.allowed,
        "from_url stores under hfb:rl:<key>"
    );

    let down = hfb_cache::rate_limiter_from_url(Some("redis://127.0.0.1:1"))
        .expect("a down Redis is not an error");
    let started = Instant::now();
    assert!(
        check(&*down, "k", quota).await.allowed,
        "the fallback answers"
    );
    assert!(!check(&*down, "k", quota).await.allowed, "and limits");
    assert!(started.elapsed() < Duration::from_secs(2));

    let bad = hfb_cache::rate_limiter_from_url(Some("redis://user:s3cret@:notaport"));
    match bad {
        Err(e @ CacheError::Unavailable(_)) => {
            assert!(!e.to_string().contains("s3cret"), "leaks the password: {e}");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a malformed URL is an error, not a silent downgrade"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_limits_in_process_during_outage_and_recovers() {
    let port = free_port();
    let mut server = RedisProcess::start(port);
    let url = server.url();
    let limiter = FallbackRateLimiter::new(
        RedisRateLimiter::connect(&url, "outage").unwrap(),
        MemoryRateLimiter::new(100),
    );
    let probe = RedisRateLimiter::connect(&url, "outage").unwrap();
    let quota = Quota::per_minute(3);

    // Normal operation: counted in Redis.
    for _ in 0..3 {
        assert!(check(&limiter, "user", quota).await.allowed);
    }
    assert!(
        !check(&probe, "user", quota).await.allowed,
        "another instance sees the spent budget"
    );
    assert!(!limiter.is_degraded());

    // Outage: answered in-process, fast, and still limited.
    server.kill();
    let started = Instant::now();
    let d = limiter
        .check("user", quota)
        .await
        .expect("answered by the fallback");
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the first failure took {:?}, expected about 0.5 s at most",
        started.elapsed()
    );
    assert!(limiter.is_degraded());
    assert!(
        d.allowed && d.remaining == 2,
        "in-process buckets start full: {d:?}"
    );
    let started = Instant::now();
    for expected_remaining in [1, 0] {
        let d = check(&limiter, "user", quota).await;
        assert!(d.allowed);
        assert_eq!(d.remaining, expected_remaining);
    }
    let d = check(&limiter, "user", quota).await;
    assert!(!d.allowed, "the quota holds during the outage");
    assert_about(
        d.retry_after,
        Duration::from_secs(20),
        started.elapsed(),
        "retry_after",
    );
    for i in 0..20 {
        check(&limiter, &format!("other{i}"), quota).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "checks stay fast during the outage ({:?} for 23)",
        started.elapsed()
    );
    assert!(probe.check("user", quota).await.is_err(), "Redis is down");

    // Recovery on the same port (an empty server, without the script), same limiter.
    let _server = RedisProcess::start(port);
    let recovered = within(Duration::from_secs(8), || async {
        limiter.check("poll", Quota::per_minute(1000)).await.is_ok() && !limiter.is_degraded()
    })
    .await;
    assert!(recovered.is_some(), "back on Redis within 8 s");
    let d = check(&limiter, "user", quota).await;
    assert!(
        d.allowed && d.remaining == 2,
        "decided by the new Redis, not the drained in-process bucket: {d:?}"
    );
    let d = check(&probe, "user", quota).await;
    assert_eq!(d.remaining, 1, "shared with other instances again");
    assert!(!limiter.is_degraded());
}

#[tokio::test]
async fn redis_rate_limiter_survives_script_flush() {
    let server = RedisProcess::start(free_port());
    let limiter = RedisRateLimiter::connect(&server.url(), "").unwrap();
    let quota = Quota::per_minute(5);
    assert_eq!(check(&limiter, "k", quota).await.remaining, 4);
    let client = redis::Client::open(server.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut raw)
        .await
        .unwrap();
    let d = check(&limiter, "k", quota).await;
    assert_eq!(
        d.remaining, 3,
        "NOSCRIPT is answered by running the script again"
    );
}

#[tokio::test]
async fn redis_rate_limiter_builds_while_redis_is_down_and_fails_fast() {
    let port = free_port();
    let limiter = RedisRateLimiter::connect(&format!("redis://127.0.0.1:{port}"), "down")
        .expect("construction never contacts Redis");
    let quota = Quota::per_minute(5);
    let started = Instant::now();
    assert!(matches!(
        limiter.check("k", quota).await,
        Err(CacheError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "errors are fast: {:?}",
        started.elapsed()
    );

    let _server = RedisProcess::start(port);
    let ok = within(Duration::from_secs(5), || async {
        limiter.check("k", quota).await.is_ok()
    })
    .await;
    assert!(ok.is_some(), "the same limiter works once Redis is up");
}
