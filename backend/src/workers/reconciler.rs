//! The deployment reconciler: drives every deployment from its desired state (what people
//! asked for) to its actual state at the target.
//!
//! Each round asks the store for deployments with work due, takes a lease on each (so that
//! several instances never act on one deployment at once, and a crashed instance's work is
//! taken over when its lease expires), calls the target, and records what it observed,
//! fenced by the lease. Failures are retried with exponential backoff and jitter up to
//! `HFB_RECONCILE_MAX_ATTEMPTS`, then the deployment is `failed` with the reason; a retry
//! action (or any change) starts again. Rounds run every `HFB_RECONCILE_INTERVAL_MS` and
//! whenever a change wakes the worker.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hfb_shared::deployments::{DeploymentSpec, TargetKind};
use hfb_shared::ws::ServerMessage;
use hfb_store::{Deployment, DesiredState, NewDeploymentEvent, Observation};
use tokio::sync::{Notify, Semaphore};

use crate::services::deployments::{deployment_info, publish};
use crate::state::AppState;
use crate::targets::{DeploymentCtx, Phase, Progress, TargetError};

/// Wakes the reconciler after a change, so it need not wait for the next tick.
#[derive(Clone, Default)]
pub struct ReconcilerHandle {
    wake: Arc<Notify>,
}

impl ReconcilerHandle {
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Starts the loop on the current runtime; returns at once.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let interval = Duration::from_millis(state.settings.reconcile_interval_ms);
        let permits = Arc::new(Semaphore::new(state.settings.reconcile_concurrency));
        loop {
            if let Err(e) = run_round(&state, &permits).await {
                tracing::warn!(error = %e, "reconciler round failed; trying again next round");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = state.reconciler.wake.notified() => {}
            }
        }
    });
}

/// One round: every due deployment, at most `reconcile_concurrency` at a time.
async fn run_round(
    state: &AppState,
    permits: &Arc<Semaphore>,
) -> Result<(), hfb_store::StoreError> {
    let limit = u32::try_from(state.settings.reconcile_concurrency * 8).unwrap_or(64);
    let due = state
        .store
        .deployments_to_reconcile(Utc::now(), limit)
        .await?;
    let mut tasks = tokio::task::JoinSet::new();
    for id in due {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let state = state.clone();
        tasks.spawn(async move {
            if let Err(e) = reconcile_one(&state, &id).await {
                tracing::warn!(deployment = %id, error = %e, "reconcile failed");
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

fn holder(state: &AppState) -> String {
    format!("instance-{}", state.instance_id)
}

/// Reconciles one deployment if this instance can lease it.
pub async fn reconcile_one(state: &AppState, id: &str) -> Result<(), hfb_store::StoreError> {
    let holder = holder(state);
    let lease =
        chrono::Duration::seconds(i64::try_from(state.settings.reconcile_lease_secs).unwrap_or(30));
    let now = Utc::now();
    let Some(d) = state
        .store
        .acquire_deployment_lease(id, &holder, now, now + lease)
        .await?
    else {
        return Ok(()); // another instance has it
    };
    if !d.needs_reconcile(Utc::now()) {
        state.store.release_deployment_lease(id, &holder).await?;
        return Ok(());
    }
    let result = act(state, &d).await;
    let observation = observe(state, &d, result);
    let status_changed =
        observation.status != d.status || observation.status_message != d.status_message;
    let removed = observation.status == "removed";
    if removed {
        state.store.delete_deployment(&d.id).await?;
        state.upstreams.forget(&d.id);
        state.hot.deployment_changed(&d.id);
        publish(
            state,
            &d.team_id,
            ServerMessage::DeploymentRemoved {
                deployment_id: d.id.clone(),
            },
        );
        tracing::info!(deployment = %d.id, "deployment removed");
        return Ok(());
    }
    let recorded = state
        .store
        .record_observation(&d.id, &holder, Utc::now(), observation.clone())
        .await?;
    state.hot.deployment_changed(&d.id);
    state.store.release_deployment_lease(&d.id, &holder).await?;
    let Some(updated) = recorded else {
        tracing::warn!(deployment = %d.id, "lease lost before the observation was recorded");
        return Ok(());
    };
    if status_changed {
        let message = match &observation.status_message {
            Some(m) => format!("{}: {m}", observation.status),
            None => observation.status.clone(),
        };
        state
            .store
            .add_deployment_event(NewDeploymentEvent {
                deployment_id: d.id.clone(),
                actor: None,
                kind: "status".into(),
                message,
            })
            .await?;
    }
    publish(
        state,
        &d.team_id,
        ServerMessage::Deployment {
            deployment: Box::new(deployment_info(&updated)),
        },
    );
    Ok(())
}

async fn act(state: &AppState, d: &Deployment) -> Result<Progress, TargetError> {
    let kind = TargetKind::parse(&d.target)
        .ok_or_else(|| TargetError::permanent(format!("unknown target `{}`", d.target)))?;
    let target = state
        .targets
        .get(kind)
        .ok_or_else(|| TargetError::permanent(format!("target `{}` is not available", d.target)))?
        .clone();
    let spec: DeploymentSpec = serde_json::from_value(d.spec.clone())
        .map_err(|e| TargetError::permanent(format!("stored spec is invalid: {e}")))?;
    let manifest_key = match d.desired {
        DesiredState::Running => Some(store_manifest(state, d, &spec).await?),
        _ => None,
    };
    let ctx = DeploymentCtx {
        id: d.id.clone(),
        team_id: d.team_id.clone(),
        name: d.name.clone(),
        model_id: d.model_id.clone(),
        task: d.task.clone(),
        version: d.current_version,
        spec,
        target_state: d.target_state.clone(),
        manifest_key,
    };
    match d.desired {
        DesiredState::Running => target.apply(&ctx).await,
        DesiredState::Paused => target.pause(&ctx).await,
        DesiredState::Deleted => target.remove(&ctx).await,
    }
}

/// Writes the version's manifest to the blob store (content-addressed, so writing it again
/// on a retry is free) and returns its key.
async fn store_manifest(
    state: &AppState,
    d: &Deployment,
    spec: &DeploymentSpec,
) -> Result<String, TargetError> {
    let manifest = serde_json::json!({
        "kind": "hfb.deployment/v1",
        "deployment_id": d.id,
        "team_id": d.team_id,
        "name": d.name,
        "model_id": d.model_id,
        "task": d.task,
        "target": d.target,
        "version": d.current_version,
        "spec": spec,
    });
    let bytes = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| TargetError::permanent(format!("manifest: {e}")))?;
    state
        .blobs
        .put(&bytes)
        .await
        .map(|key| key.to_string())
        .map_err(|e| TargetError::retryable(format!("artifact store: {e}")))
}

/// Turns a target's answer into what the store records (status, retries, next poll).
fn observe(state: &AppState, d: &Deployment, result: Result<Progress, TargetError>) -> Observation {
    let settings = &state.settings;
    let poll = chrono::Duration::seconds(i64::try_from(settings.reconcile_poll_secs).unwrap_or(10));
    let base = Observation {
        status: d.status.clone(),
        status_message: d.status_message.clone(),
        generation: d.generation,
        observed_version: d.observed_version,
        target_state: d.target_state.clone(),
        endpoint_url: d.endpoint_url.clone(),
        attempts: 0,
        next_attempt_at: None,
    };
    match result {
        Ok(p) => {
            let observed_version = match p.phase {
                Phase::Running => Some(d.current_version),
                _ => d.observed_version,
            };
            let next_attempt_at = match p.phase {
                Phase::InProgress => {
                    Some(Utc::now() + poll.max(chrono::Duration::milliseconds(200)))
                }
                _ => None,
            };
            let status = match p.phase {
                Phase::Removed => "removed".to_owned(),
                _ => p.status,
            };
            Observation {
                status,
                status_message: p.message,
                observed_version,
                target_state: p.target_state,
                endpoint_url: p.endpoint_url.or(base.endpoint_url.clone()),
                next_attempt_at,
                ..base
            }
        }
        Err(TargetError::Permanent(message)) => Observation {
            status: "failed".into(),
            status_message: Some(message),
            ..base
        },
        Err(TargetError::Retryable {
            message,
            retry_after,
        }) => {
            let attempts = d.attempts + 1;
            if attempts >= settings.reconcile_max_attempts {
                return Observation {
                    status: "failed".into(),
                    status_message: Some(format!("gave up after {attempts} attempts: {message}")),
                    attempts,
                    ..base
                };
            }
            let delay = retry_after.unwrap_or_else(|| backoff(attempts));
            Observation {
                status_message: Some(format!(
                    "attempt {attempts} of {} failed, retrying in {} s: {message}",
                    settings.reconcile_max_attempts,
                    delay.as_secs().max(1)
                )),
                attempts,
                next_attempt_at: Some(
                    Utc::now() + chrono::Duration::from_std(delay).unwrap_or(poll),
                ),
                ..base
            }
        }
    }
}

/// Exponential backoff with full jitter: up to 1 s, 2 s, 4 s... capped at 60 s.
fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_secs(60);
    let exp = Duration::from_millis(500u64.saturating_mul(1u64 << attempt.min(10))).min(cap);
    let jitter = rand::random::<f64>();
    Duration::from_millis((exp.as_millis() as f64 * (0.5 + jitter / 2.0)) as u64)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d.as_secs() <= 60, "{attempt}: {d:?}");
        }
        assert!(backoff(1).as_millis() >= 500);
        assert!(backoff(8).as_secs() >= 30);
    }
}
