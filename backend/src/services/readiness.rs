//! Probes the dependencies the API needs to answer requests.

use std::future::Future;
use std::time::{Duration, Instant};

use hfb_cache::Cache;
use hfb_shared::health::{CheckStatus, DependencyCheck, Readiness};
use hfb_store::Store;

/// A probe slower than this counts as down: a hung dependency must not hang the probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn check(store: &dyn Store, cache: &dyn Cache) -> Readiness {
    let (store_check, cache_check) = tokio::join!(
        probe("store", store.backend(), async {
            store.ping().await.map_err(|e| e.to_string())
        }),
        probe("cache", cache.backend(), async {
            cache.ping().await.map_err(|e| e.to_string())
        }),
    );
    Readiness::from_checks(
        vec![store_check, cache_check],
        chrono::Utc::now().to_rfc3339(),
    )
}

async fn probe(
    name: &str,
    backend: &str,
    ping: impl Future<Output = Result<(), String>>,
) -> DependencyCheck {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(PROBE_TIMEOUT, ping).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} ms", PROBE_TIMEOUT.as_millis())),
    };
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    match outcome {
        Ok(()) => DependencyCheck {
            name: name.to_owned(),
            backend: backend.to_owned(),
            status: CheckStatus::Up,
            latency_ms,
            message: None,
        },
        Err(message) => {
            tracing::warn!(dependency = name, backend, %message, "dependency down");
            DependencyCheck {
                name: name.to_owned(),
                backend: backend.to_owned(),
                status: CheckStatus::Down,
                latency_ms,
                message: Some(message),
            }
        }
    }
}
