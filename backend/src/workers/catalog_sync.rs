//! Keeps the synced part of the catalog fresh: every `HFB_CATALOG_SYNC_INTERVAL_SECS` it
//! copies the Hub's most downloaded `HFB_CATALOG_SYNC_TOP` models, and refreshes the
//! models people opened since the last round. Does nothing when the Hub is disabled or
//! unreachable (the next round tries again).
//!
//! With several instances each one syncs on its own; the upserts are idempotent (an
//! unchanged model is not rewritten), so the cost is Hub quota, not correctness.

use std::time::Duration;

use chrono::Utc;
use hfb_hub::{HubSort, ListModelsQuery};
use hfb_store::CatalogSource;

use crate::services::catalog::from_hub;
use crate::state::AppState;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncRound {
    pub fetched: usize,
    pub changed: u64,
}

/// Starts the loop on the current runtime; returns at once.
pub fn spawn(state: AppState) {
    let interval = Duration::from_secs(state.settings.catalog_sync_interval_secs);
    if interval.is_zero() || state.live_hub.is_none() {
        return;
    }
    tokio::spawn(async move {
        // A short delay lets the server come up before the first round.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match run_once(&state).await {
                Ok(round) => tracing::info!(
                    fetched = round.fetched,
                    changed = round.changed,
                    "catalog sync round"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "catalog sync round failed; retrying next round")
                }
            }
        }
    });
}

/// One round: the top models, then the recently opened ones.
pub async fn run_once(state: &AppState) -> Result<SyncRound, String> {
    let Some(live) = state.live_hub.as_ref() else {
        return Ok(SyncRound::default());
    };
    let top = state.settings.catalog_sync_top as usize;
    let query = ListModelsQuery {
        sort: Some(HubSort::Downloads),
        full: true,
        card_data: true,
        limit: Some(state.settings.catalog_sync_top.min(hfb_hub::MAX_PAGE_SIZE)),
        ..ListModelsQuery::default()
    };
    let now = Utc::now();
    let mut models: Vec<_> = live
        .client()
        .list_all(&query, top)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|m| from_hub(m, CatalogSource::Synced, now))
        .collect();
    for id in live.take_opened() {
        match live.client().model_info(&id, None).await {
            Ok(m) => models.push(from_hub(m, CatalogSource::Synced, now)),
            Err(e) => tracing::debug!(model = %id, error = %e, "could not refresh an opened model"),
        }
    }
    let mut round = SyncRound {
        fetched: models.len(),
        changed: 0,
    };
    for chunk in models.chunks(500) {
        let counts = state
            .store
            .upsert_models(chunk)
            .await
            .map_err(|e| e.to_string())?;
        round.changed += counts.inserted + counts.updated;
    }
    Ok(round)
}
