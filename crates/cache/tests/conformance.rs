//! One behaviour suite for every `Cache`: MemoryCache, RedisCache and FallbackCache on the
//! real Redis at `HFB_TEST_REDIS_URL` (default redis://127.0.0.1:6379), with a unique key
//! prefix per run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::redis;
use hfb_cache::{Cache, CacheError, CacheExt, FallbackCache, MemoryCache, RedisCache};
use serde::{Deserialize, Serialize};

const MINUTE: Duration = Duration::from_secs(60);

fn redis_url() -> String {
    std::env::var("HFB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn unique_prefix() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

async fn redis_cache() -> RedisCache {
    let cache = RedisCache::connect(&redis_url(), &unique_prefix()).expect("valid Redis URL");
    cache.ping().await.unwrap_or_else(|e| {
        panic!(
            "Redis is not reachable at HFB_TEST_REDIS_URL ({}): {e}. Start it with \
             `redis-server --daemonize yes --port 6379 --save \"\" --appendonly no`",
            redis_url()
        )
    });
    cache
}

fn memory() -> Arc<dyn Cache> {
    Arc::new(MemoryCache::new(1000))
}

async fn redis() -> Arc<dyn Cache> {
    Arc::new(redis_cache().await)
}

async fn fallback() -> Arc<dyn Cache> {
    let cache = FallbackCache::new(redis_cache().await, MemoryCache::new(1000));
    cache.ping().await.expect("ping");
    Arc::new(cache)
}

async fn set_get_delete(cache: Arc<dyn Cache>) {
    assert_eq!(
        cache.get("missing").await.unwrap(),
        None,
        "a missing key is None"
    );
    cache.set("k", b"value", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("k").await.unwrap().as_deref(),
        Some(&b"value"[..])
    );
    assert!(
        cache.delete("k").await.unwrap(),
        "delete of a present key is true"
    );
    assert_eq!(cache.get("k").await.unwrap(), None, "deleted key is gone");
    assert!(
        !cache.delete("k").await.unwrap(),
        "delete of an absent key is false"
    );
    cache.ping().await.expect("ping");
}

async fn keys_are_independent(cache: Arc<dyn Cache>) {
    let keys = ["a", "A", "a:b", "a b", "ключ", "🔑", "{\"$ne\":1}", ""];
    for (i, key) in keys.iter().enumerate() {
        cache
            .set(key, format!("v{i}").as_bytes(), MINUTE)
            .await
            .unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        let value = cache.get(key).await.unwrap();
        assert_eq!(
            value,
            Some(format!("v{i}").into_bytes()),
            "key {key:?} keeps its own value"
        );
    }
}

async fn overwrite_replaces_value_and_ttl(cache: Arc<dyn Cache>) {
    cache
        .set("k", b"first", Duration::from_millis(300))
        .await
        .unwrap();
    cache.set("k", b"second", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("k").await.unwrap().as_deref(),
        Some(&b"second"[..])
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        cache.get("k").await.unwrap().as_deref(),
        Some(&b"second"[..]),
        "an overwrite also replaces the TTL"
    );
}

async fn ttl_expiry(cache: Arc<dyn Cache>) {
    cache
        .set("short", b"v", Duration::from_millis(300))
        .await
        .unwrap();
    cache.set("long", b"v", MINUTE).await.unwrap();
    assert!(
        cache.get("short").await.unwrap().is_some(),
        "present before its TTL"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        cache.get("short").await.unwrap(),
        None,
        "gone after its TTL"
    );
    assert!(
        !cache.delete("short").await.unwrap(),
        "an expired key counts as absent"
    );
    assert!(
        cache.get("long").await.unwrap().is_some(),
        "other keys keep theirs"
    );
    cache.set("zero", b"v", Duration::ZERO).await.unwrap();
    assert_eq!(
        cache.get("zero").await.unwrap(),
        None,
        "a zero TTL stores nothing"
    );
    cache
        .set("huge", b"v", Duration::from_secs(u64::MAX))
        .await
        .expect("an enormous TTL is clamped, not an error");
    assert!(cache.get("huge").await.unwrap().is_some());
    assert!(
        cache.delete("huge").await.unwrap(),
        "no 10-year key left in a shared Redis"
    );
}

async fn binary_values(cache: Arc<dyn Cache>) {
    let all_bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    cache.set("bin", &all_bytes, MINUTE).await.unwrap();
    assert_eq!(
        cache.get("bin").await.unwrap(),
        Some(all_bytes),
        "every byte value round-trips"
    );
    cache.set("empty", b"", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("empty").await.unwrap(),
        Some(Vec::new()),
        "empty value is not a miss"
    );
    let big = vec![0xA5u8; 1 << 20];
    cache.set("big", &big, MINUTE).await.unwrap();
    assert_eq!(
        cache.get("big").await.unwrap().map(|v| v.len()),
        Some(big.len()),
        "1 MiB value"
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Model {
    id: String,
    downloads: u64,
    tags: Vec<String>,
    card: Option<String>,
}

async fn json_helpers(cache: Arc<dyn Cache>) {
    let model = Model {
        id: "sentence-transformers/all-MiniLM-L6-v2".into(),
        downloads: 123_456_789,
        tags: vec!["feature-extraction".into(), "ünïcode".into()],
        card: None,
    };
    cache.set_json("model", &model, MINUTE).await.unwrap();
    let back: Option<Model> = cache.get_json("model").await.unwrap();
    assert_eq!(back, Some(model), "a JSON value round-trips");
    let missing: Option<Model> = cache.get_json("nope").await.unwrap();
    assert_eq!(missing, None);
    cache
        .set("garbage", b"\xff not json", MINUTE)
        .await
        .unwrap();
    let bad = cache.get_json::<Model>("garbage").await;
    assert!(
        matches!(bad, Err(CacheError::Serialization(_))),
        "undecodable JSON: {bad:?}"
    );
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory_cache {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::memory()).await;
                }
            )*
        }
        mod redis_cache {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::redis().await).await;
                }
            )*
        }
        mod fallback_cache_on_healthy_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::fallback().await).await;
                }
            )*
        }
    };
}

suite!(
    set_get_delete,
    keys_are_independent,
    overwrite_replaces_value_and_ttl,
    ttl_expiry,
    binary_values,
    json_helpers,
);

#[tokio::test]
async fn memory_cache_is_bounded_evicting_expired_then_oldest() {
    let cache = MemoryCache::new(3);
    assert_eq!(cache.backend(), "memory");
    cache.set("old", b"1", MINUTE).await.unwrap();
    cache
        .set("short", b"2", Duration::from_millis(50))
        .await
        .unwrap();
    cache.set("mid", b"3", MINUTE).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    cache.set("new", b"4", MINUTE).await.unwrap();
    assert_eq!(cache.len(), 3, "never more than max_entries");
    assert!(
        cache.get("old").await.unwrap().is_some(),
        "the expired entry goes first, not the oldest"
    );
    assert!(cache.get("mid").await.unwrap().is_some());
    assert!(cache.get("new").await.unwrap().is_some());

    cache.set("newer", b"5", MINUTE).await.unwrap();
    assert_eq!(cache.len(), 3);
    assert_eq!(
        cache.get("old").await.unwrap(),
        None,
        "then the oldest write is evicted"
    );
    cache.set("mid", b"3b", MINUTE).await.unwrap();
    cache.set("newest", b"6", MINUTE).await.unwrap();
    assert_eq!(
        cache.get("new").await.unwrap(),
        None,
        "rewriting `mid` made `new` the oldest"
    );
    assert_eq!(cache.get("mid").await.unwrap().as_deref(), Some(&b"3b"[..]));

    let many = MemoryCache::new(100);
    for i in 0..1000 {
        many.set(&format!("k{i}"), b"v", MINUTE).await.unwrap();
    }
    assert_eq!(many.len(), 100, "bounded under many writes");
    assert!(
        many.get("k999").await.unwrap().is_some(),
        "recent writes are kept"
    );
    assert_eq!(
        many.get("k0").await.unwrap(),
        None,
        "old writes are evicted"
    );
}

#[tokio::test]
async fn redis_keys_are_prefixed_and_use_px() {
    let prefix = unique_prefix();
    let cache = RedisCache::connect(&redis_url(), &prefix).unwrap();
    assert_eq!(cache.backend(), "redis");
    cache.set("k", b"v", Duration::from_secs(5)).await.unwrap();
    let expected_key = format!("hfb:{prefix}:k");
    assert_eq!(cache.redis_key("k"), expected_key);

    let client = redis::Client::open(redis_url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<Vec<u8>> = redis::cmd("GET")
        .arg(&expected_key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(
        value.as_deref(),
        Some(&b"v"[..]),
        "stored under hfb:<prefix>:<key>"
    );
    let pttl: i64 = redis::cmd("PTTL")
        .arg(&expected_key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        (4000..=5000).contains(&pttl),
        "TTL set in milliseconds, got {pttl}"
    );
    let unprefixed: Option<Vec<u8>> = redis::cmd("GET")
        .arg("k")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(unprefixed, None);

    let other = RedisCache::connect(&redis_url(), &unique_prefix()).unwrap();
    assert_eq!(
        other.get("k").await.unwrap(),
        None,
        "prefixes isolate caches"
    );
}

#[tokio::test]
async fn from_url_chooses_the_backend() {
    assert_eq!(hfb_cache::from_url(None).unwrap().backend(), "memory");
    assert_eq!(hfb_cache::from_url(Some("  ")).unwrap().backend(), "memory");
    let cache = hfb_cache::from_url(Some(&redis_url())).unwrap();
    assert_eq!(cache.backend(), "redis");
    cache.ping().await.expect("ping Redis through from_url");
    let down =
        hfb_cache::from_url(Some("redis://127.0.0.1:1")).expect("a down Redis is not an error");
    assert!(down.ping().await.is_err(), "but its ping reports it");
    down.set("k", b"v", MINUTE)
        .await
        .expect("served by the fallback");
    let bad = hfb_cache::from_url(Some("not a url"));
    assert!(
        matches!(bad, Err(CacheError::Unavailable(_))),
        "a malformed URL is an error, not a silent downgrade"
    );
}

#[tokio::test]
async fn malformed_url_error_does_not_echo_it() {
    let err = RedisCache::connect("redis://user:s3cret@:notaport", "x").unwrap_err();
    assert!(matches!(err, CacheError::Unavailable(_)));
    assert!(
        !err.to_string().contains("s3cret"),
        "leaks the password: {err}"
    );
}
