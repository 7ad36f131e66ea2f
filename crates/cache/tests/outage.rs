//! FallbackCache through a real Redis outage: a private `redis-server` child process is
//! started on a free port, killed, and restarted on the same port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{RedisProcess, free_port, within};

use hfb_cache::{Cache, FallbackCache, MemoryCache, RedisCache};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_serves_during_outage_and_recovers() {
    let port = free_port();
    let mut server = RedisProcess::start(port);
    let url = server.url();
    let cache = FallbackCache::new(
        RedisCache::connect(&url, "outage").expect("connect"),
        MemoryCache::new(100),
    );
    assert_eq!(cache.backend(), "redis");

    // Normal operation: values land in Redis.
    cache.ping().await.expect("ping while Redis is up");
    cache.set("before", b"1", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("before").await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    let probe = RedisCache::connect(&url, "outage").unwrap();
    assert_eq!(
        probe.get("before").await.unwrap().as_deref(),
        Some(&b"1"[..]),
        "written to Redis"
    );
    assert!(!cache.is_degraded());

    // Outage.
    server.kill();
    let started = Instant::now();
    let ping = cache.ping().await;
    let took = started.elapsed();
    assert!(ping.is_err(), "ping reports the primary's failure");
    assert!(
        took < Duration::from_millis(1200),
        "ping failed in {took:?}, expected about 0.5 s"
    );
    let started = Instant::now();
    cache
        .set("during", b"2", MINUTE)
        .await
        .expect("set works through the fallback");
    assert_eq!(
        cache
            .get("during")
            .await
            .expect("get works through the fallback")
            .as_deref(),
        Some(&b"2"[..])
    );
    assert!(
        cache.delete("during").await.unwrap(),
        "delete works through the fallback"
    );
    cache.set("during", b"2", MINUTE).await.unwrap();
    for i in 0..20 {
        cache
            .get(&format!("miss{i}"))
            .await
            .expect("misses are not errors");
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "requests stay fast during the outage ({:?} for 24 calls)",
        started.elapsed()
    );
    assert!(cache.is_degraded());
    assert!(cache.ping().await.is_err(), "still down");

    // Recovery on the same port, without rebuilding the cache.
    let _server = RedisProcess::start(port);
    let recovered = within(Duration::from_secs(8), || async {
        cache.ping().await.is_ok()
    })
    .await;
    assert!(
        recovered.is_some(),
        "ping is Ok again within 8 s of Redis coming back"
    );
    cache.set("after", b"3", MINUTE).await.unwrap();
    let fresh = RedisCache::connect(&url, "outage").unwrap();
    assert_eq!(
        fresh.get("after").await.unwrap().as_deref(),
        Some(&b"3"[..]),
        "writes after recovery land in Redis"
    );
    assert_eq!(
        cache.get("after").await.unwrap().as_deref(),
        Some(&b"3"[..])
    );
    assert!(!cache.is_degraded(), "no longer degraded");
    assert_eq!(
        cache.fallback().get_now("after"),
        None,
        "a Redis write does not leave a copy in the fallback"
    );
}

#[tokio::test]
async fn redis_cache_builds_while_redis_is_down_and_fails_fast() {
    let port = free_port();
    let cache = RedisCache::connect(&format!("redis://127.0.0.1:{port}"), "down")
        .expect("construction never contacts Redis");
    let started = Instant::now();
    assert!(cache.ping().await.is_err());
    assert!(cache.get("k").await.is_err());
    assert!(cache.set("k", b"v", MINUTE).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "errors are fast: {:?}",
        started.elapsed()
    );

    // And it recovers by itself once a server appears on that port.
    let _server = RedisProcess::start(port);
    let ok = within(Duration::from_secs(5), || async {
        cache.ping().await.is_ok()
    })
    .await;
    assert!(ok.is_some(), "the same RedisCache works once Redis is up");
    cache.set("k", b"v", MINUTE).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
}
