//! Deployments: create (idempotent with a key), change (each change is a new immutable
//! version), roll back, pause, resume, retry and delete. Handlers call these; the
//! reconciler does the work at the target and records what it sees.
//!
//! Deployments belong to the caller's current team (the token's or the API key's team);
//! another team's deployment answers 404.

use std::collections::BTreeMap;

use hfb_shared::ErrorCode;
use hfb_shared::deployments::{
    CreateDeploymentRequest, DeploymentDetail, DeploymentEventInfo, DeploymentInfo, DeploymentSpec,
    DeploymentVersionInfo, RollbackRequest, Scaling, TargetInfo, TargetKind,
    UpdateDeploymentRequest,
};
use hfb_shared::ws::ServerMessage;
use hfb_store::{Created, Deployment, DesiredState, NewDeployment, NewDeploymentEvent};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::error::ApiError;
use crate::services::validation::Validator;
use crate::state::AppState;

/// Events shown on a deployment's page.
const EVENTS_SHOWN: u32 = 100;
const MAX_ENV_VARS: usize = 64;
const MAX_REPLICAS: u32 = 100;

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A spec as stored, or a readable default when it cannot be parsed (never a 500 on read).
fn spec_of(value: &serde_json::Value) -> DeploymentSpec {
    serde_json::from_value(value.clone()).unwrap_or_else(|_| DeploymentSpec {
        revision: "main".into(),
        scaling: default_scaling(TargetKind::Local),
        instance_type: None,
        instance_size: None,
        env: BTreeMap::new(),
    })
}

pub fn deployment_info(d: &Deployment) -> DeploymentInfo {
    DeploymentInfo {
        id: d.id.clone(),
        team_id: d.team_id.clone(),
        name: d.name.clone(),
        model_id: d.model_id.clone(),
        target: TargetKind::parse(&d.target).unwrap_or(TargetKind::Local),
        task: d.task.clone(),
        status: d.status.clone(),
        status_message: d.status_message.clone(),
        desired: d.desired.as_str().to_owned(),
        current_version: d.current_version,
        running_version: d.observed_version,
        spec: spec_of(&d.spec),
        endpoint_url: d.endpoint_url.clone(),
        reconciling: d.generation > d.observed_generation || d.next_attempt_at.is_some(),
        created_by: d.created_by.clone(),
        created_at: rfc3339(d.created_at),
        updated_at: rfc3339(d.updated_at),
    }
}

/// Sends a message to the team's subscribed WebSockets.
pub fn publish(state: &AppState, team_id: &str, message: ServerMessage) {
    state.hub.broadcast_team(team_id, &message);
}

/// Scaling defaults per target: scale-to-zero after 15 minutes idle everywhere. A local
/// deployment gets one replica (a single-threaded runtime worker) per CPU core: on the
/// CPU, N one-thread workers outrun one N-thread worker (bench/README.md).
pub fn default_scaling(target: TargetKind) -> Scaling {
    match target {
        TargetKind::Local => Scaling {
            min_replicas: 0,
            max_replicas: crate::targets::local::default_workers(),
            scale_to_zero_after_secs: 900,
            target_concurrency: 8,
        },
        TargetKind::HfEndpoint | TargetKind::HfSpace => Scaling {
            min_replicas: 0,
            max_replicas: 1,
            scale_to_zero_after_secs: 900,
            target_concurrency: 10,
        },
        TargetKind::AwsLambda => Scaling {
            min_replicas: 0,
            max_replicas: 10,
            scale_to_zero_after_secs: 900,
            target_concurrency: 1,
        },
    }
}

fn validate_spec(v: &mut Validator, target: TargetKind, spec: &DeploymentSpec) {
    v.length("revision", &spec.revision, 1, 200);
    if spec
        .revision
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        v.error("revision", "must not contain spaces or control characters");
    }
    let s = &spec.scaling;
    let max_replicas = if target == TargetKind::Local {
        8
    } else {
        MAX_REPLICAS
    };
    if s.max_replicas < 1 || s.max_replicas > max_replicas {
        v.error(
            "scaling.max_replicas",
            format!("must be between 1 and {max_replicas}"),
        );
    }
    if s.min_replicas > s.max_replicas {
        v.error("scaling.min_replicas", "must not exceed max_replicas");
    }
    if !(1..=7 * 86_400).contains(&s.scale_to_zero_after_secs) {
        v.error(
            "scaling.scale_to_zero_after_secs",
            "must be between 1 and 604800 (7 days)",
        );
    }
    if !(1..=1000).contains(&s.target_concurrency) {
        v.error("scaling.target_concurrency", "must be between 1 and 1000");
    }
    for (field, value) in [
        ("instance_type", &spec.instance_type),
        ("instance_size", &spec.instance_size),
    ] {
        if let Some(value) = value {
            v.length(field, value, 1, 64);
            if !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                v.error(field, "may contain letters, digits, '-', '_' and '.' only");
            }
        }
    }
    if spec.env.len() > MAX_ENV_VARS {
        v.error("env", format!("at most {MAX_ENV_VARS} variables"));
    }
    for (key, value) in &spec.env {
        let valid = key.len() <= 128
            && key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            v.error(
                format!("env.{key}"),
                "names are letters, digits and '_', not starting with a digit (at most 128)",
            );
        }
        if value.len() > 4096 {
            v.error(format!("env.{key}"), "values are at most 4096 bytes");
        }
    }
}

fn validate_name(v: &mut Validator, name: &str) {
    v.length("name", name, 1, 63);
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        v.error(
            "name",
            "lowercase letters, digits and '-', not starting or ending with '-'",
        );
    }
}

/// `all-MiniLM-L6-v2` → `all-minilm-l6-v2`.
fn name_from_model(model_id: &str) -> String {
    let base = model_id.rsplit('/').next().unwrap_or(model_id);
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let name = name.trim_matches('-');
    let name: String = name.chars().take(50).collect();
    if name.is_empty() {
        "deployment".into()
    } else {
        name.trim_end_matches('-').to_owned()
    }
}

fn request_hash(body: &CreateDeploymentRequest) -> String {
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Validates an `Idempotency-Key` header value.
pub fn parse_idempotency_key(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let key = raw.trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The task of a model: what the request says, else the catalog's `pipeline_tag`.
async fn resolve_task(
    state: &AppState,
    model_id: &str,
    requested: Option<&str>,
) -> Result<Option<String>, ApiError> {
    if let Some(task) = requested {
        return Ok(Some(task.to_owned()));
    }
    Ok(state
        .store
        .catalog_model(model_id)
        .await?
        .and_then(|m| m.task))
}

/// Result of [`create`]: the deployment and whether this call created it.
pub struct CreateOutcome {
    pub deployment: DeploymentInfo,
    pub created: bool,
}

pub async fn create(
    state: &AppState,
    who: &Principal,
    body: CreateDeploymentRequest,
    idempotency_key: Option<String>,
) -> Result<CreateOutcome, ApiError> {
    who.require(Action::ManageDeployments)?;
    let hash = request_hash(&body);
    // A replay answers before any validation: it must not depend on what changed since.
    if let Some(key) = &idempotency_key
        && let Some(existing) = find_by_idempotency(state, &who.team_id, key).await?
    {
        return replay(existing, &hash);
    }
    let target_kind = body.target.unwrap_or(TargetKind::Local);
    let mut v = Validator::default();
    if let Err(e) = hfb_hub::validate_repo_id(&body.model_id) {
        v.error("model_id", e.to_string());
    }
    let Some(target) = state.targets.get(target_kind).cloned() else {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("target {} is not available", target_kind.as_str()),
        ));
    };
    if let Err(reason) = target.availability() {
        v.error(
            "target",
            format!("{} is not configured: {reason}", target_kind.label()),
        );
    }
    let task = if v.is_empty() {
        resolve_task(state, &body.model_id, body.task.as_deref()).await?
    } else {
        body.task.clone()
    };
    match &task {
        None => v.error(
            "task",
            "the model has no task in the catalog; say which task to serve",
        ),
        Some(task) if !target.tasks().iter().any(|t| t == task) => v.error(
            "task",
            format!(
                "{} cannot serve {task}; it serves {}",
                target_kind.label(),
                target.tasks().join(", ")
            ),
        ),
        Some(_) => {}
    }
    let (default_type, default_size) = target.default_instance();
    let spec = DeploymentSpec {
        revision: body.revision.clone().unwrap_or_else(|| "main".into()),
        scaling: body
            .scaling
            .clone()
            .unwrap_or_else(|| default_scaling(target_kind)),
        instance_type: body.instance_type.clone().or(default_type),
        instance_size: body.instance_size.clone().or(default_size),
        env: body.env.clone().unwrap_or_default(),
    };
    validate_spec(&mut v, target_kind, &spec);
    if let Some(name) = &body.name {
        validate_name(&mut v, name);
    }
    v.finish()?;
    if let Err(reason) = target.validate(&body.model_id, &spec).await {
        return Err(
            ApiError::new(ErrorCode::ValidationFailed, reason.clone()).with_details(
                serde_json::json!({ "fields": [{ "field": "model_id", "message": reason }] }),
            ),
        );
    }
    let task = task.unwrap_or_default();
    let spec_json = serde_json::to_value(&spec).map_err(ApiError::internal)?;
    // A default name takes the first free `name`, `name-2`, `name-3`...
    let base = body
        .name
        .clone()
        .unwrap_or_else(|| name_from_model(&body.model_id));
    for attempt in 1..=20u32 {
        let name = if attempt == 1 || body.name.is_some() {
            base.clone()
        } else {
            format!("{base}-{attempt}")
        };
        let new = NewDeployment {
            team_id: who.team_id.clone(),
            name,
            model_id: body.model_id.clone(),
            target: target_kind.as_str().to_owned(),
            task: task.clone(),
            spec: spec_json.clone(),
            created_by: who.user_id.clone(),
            idempotency_key: idempotency_key.clone(),
            request_hash: Some(hash.clone()),
        };
        match state.store.create_deployment(new).await {
            Ok(Created::New(d)) => {
                tracing::info!(deployment = %d.id, model = %d.model_id, target = %d.target, "deployment created");
                state.reconciler.wake();
                let info = deployment_info(&d);
                publish(
                    state,
                    &d.team_id,
                    ServerMessage::Deployment {
                        deployment: Box::new(info.clone()),
                    },
                );
                return Ok(CreateOutcome {
                    deployment: info,
                    created: true,
                });
            }
            Ok(Created::Existing(d)) => return replay(d, &hash),
            Err(hfb_store::StoreError::Conflict(m))
                if m == hfb_store::conflict::DEPLOYMENT_NAME_TAKEN && body.name.is_none() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict(
        "name_taken",
        "too many deployments with this name; choose a name",
    ))
}

async fn find_by_idempotency(
    state: &AppState,
    team_id: &str,
    key: &str,
) -> Result<Option<Deployment>, ApiError> {
    // Few deployments per team: a scan of the team's list is enough and works on both stores.
    Ok(state
        .store
        .deployments_for_team(team_id)
        .await?
        .into_iter()
        .find(|d| d.idempotency_key.as_deref() == Some(key)))
}

fn replay(existing: Deployment, hash: &str) -> Result<CreateOutcome, ApiError> {
    if existing.request_hash.as_deref() != Some(hash) {
        return Err(conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was used for a different request",
        ));
    }
    Ok(CreateOutcome {
        deployment: deployment_info(&existing),
        created: false,
    })
}

/// The deployment, if it exists and belongs to the caller's team.
async fn owned(state: &AppState, who: &Principal, id: &str) -> Result<Deployment, ApiError> {
    state
        .store
        .deployment_by_id(id)
        .await?
        .filter(|d| d.team_id == who.team_id)
        .ok_or_else(|| ApiError::not_found("no deployment with this id in your team"))
}

pub async fn list(state: &AppState, who: &Principal) -> Result<Vec<DeploymentInfo>, ApiError> {
    who.require(Action::ViewTeam)?;
    Ok(state
        .store
        .deployments_for_team(&who.team_id)
        .await?
        .iter()
        .map(deployment_info)
        .collect())
}

pub async fn detail(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<DeploymentDetail, ApiError> {
    who.require(Action::ViewTeam)?;
    let d = owned(state, who, id).await?;
    let versions = state.store.deployment_versions(&d.id).await?;
    let events = state.store.deployment_events(&d.id, EVENTS_SHOWN).await?;
    Ok(DeploymentDetail {
        deployment: deployment_info(&d),
        versions: versions
            .into_iter()
            .map(|v| DeploymentVersionInfo {
                version: v.version,
                spec: spec_of(&v.spec),
                created_by: v.created_by,
                created_at: rfc3339(v.created_at),
                note: v.note,
            })
            .collect(),
        events: events
            .into_iter()
            .map(|e| DeploymentEventInfo {
                at: rfc3339(e.at),
                actor: e.actor,
                kind: e.kind,
                message: e.message,
            })
            .collect(),
    })
}

async fn changed(
    state: &AppState,
    who: &Principal,
    d: &Deployment,
    kind: &str,
    message: String,
) -> Result<DeploymentInfo, ApiError> {
    state.hot.deployment_changed(&d.id);
    state
        .store
        .add_deployment_event(NewDeploymentEvent {
            deployment_id: d.id.clone(),
            actor: Some(who.user_id.clone()),
            kind: kind.to_owned(),
            message,
        })
        .await?;
    state.reconciler.wake();
    let info = deployment_info(d);
    publish(
        state,
        &d.team_id,
        ServerMessage::Deployment {
            deployment: Box::new(info.clone()),
        },
    );
    Ok(info)
}

/// A 409 with `details.reason`, so clients can tell conflicts apart without parsing text.
fn conflict(reason: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Conflict, message)
        .with_details(serde_json::json!({ "reason": reason }))
}

/// A lost compare-and-set becomes `version_moved`; other store errors as usual.
fn version_error(e: hfb_store::StoreError) -> ApiError {
    match e {
        hfb_store::StoreError::Conflict(m)
            if m == hfb_store::conflict::DEPLOYMENT_VERSION_MOVED =>
        {
            conflict("version_moved", m)
        }
        e => e.into(),
    }
}

fn refuse_if_deleting(d: &Deployment) -> Result<(), ApiError> {
    if d.desired == DesiredState::Deleted {
        return Err(conflict("deleting", "this deployment is being deleted"));
    }
    Ok(())
}

pub async fn update(
    state: &AppState,
    who: &Principal,
    id: &str,
    body: UpdateDeploymentRequest,
) -> Result<DeploymentInfo, ApiError> {
    who.require(Action::ManageDeployments)?;
    let d = owned(state, who, id).await?;
    refuse_if_deleting(&d)?;
    let target = TargetKind::parse(&d.target).unwrap_or(TargetKind::Local);
    let old = spec_of(&d.spec);
    let mut spec = old.clone();
    let mut what = Vec::new();
    if let Some(revision) = body.revision {
        spec.revision = revision;
        what.push("revision");
    }
    if let Some(scaling) = body.scaling {
        spec.scaling = scaling;
        what.push("scaling");
    }
    if let Some(t) = body.instance_type {
        spec.instance_type = Some(t);
        what.push("instance type");
    }
    if let Some(s) = body.instance_size {
        spec.instance_size = Some(s);
        what.push("instance size");
    }
    if let Some(env) = body.env {
        spec.env = env;
        what.push("env");
    }
    let mut v = Validator::default();
    validate_spec(&mut v, target, &spec);
    v.finish()?;
    if spec == old {
        return Ok(deployment_info(&d));
    }
    let expected = body.expected_version.unwrap_or(d.current_version);
    let note = format!("{} changed", what.join(", "));
    let spec_json = serde_json::to_value(&spec).map_err(ApiError::internal)?;
    let updated = state
        .store
        .add_deployment_version(&d.id, expected, spec_json, &who.user_id, &note)
        .await
        .map_err(version_error)?;
    let message = format!("version {}: {note}", updated.current_version);
    changed(state, who, &updated, "updated", message).await
}

pub async fn rollback(
    state: &AppState,
    who: &Principal,
    id: &str,
    body: RollbackRequest,
) -> Result<DeploymentInfo, ApiError> {
    who.require(Action::ManageDeployments)?;
    let d = owned(state, who, id).await?;
    refuse_if_deleting(&d)?;
    let versions = state.store.deployment_versions(&d.id).await?;
    let Some(target) = versions.iter().find(|v| v.version == body.version) else {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("version {} does not exist", body.version),
        ));
    };
    if body.version == d.current_version {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!("version {} is already current", body.version),
        ));
    }
    let note = format!("rollback to v{}", body.version);
    let updated = state
        .store
        .add_deployment_version(
            &d.id,
            d.current_version,
            target.spec.clone(),
            &who.user_id,
            &note,
        )
        .await
        .map_err(version_error)?;
    let message = format!("version {}: {note}", updated.current_version);
    changed(state, who, &updated, "rolled_back", message).await
}

/// Pause, resume, retry or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Pause,
    Resume,
    Retry,
    Delete,
}

pub async fn transition(
    state: &AppState,
    who: &Principal,
    id: &str,
    transition: Transition,
) -> Result<DeploymentInfo, ApiError> {
    who.require(Action::ManageDeployments)?;
    let d = owned(state, who, id).await?;
    if transition != Transition::Delete {
        refuse_if_deleting(&d)?;
    }
    let (desired, kind, message) = match transition {
        Transition::Pause => (DesiredState::Paused, "paused", "pause requested"),
        Transition::Resume => (DesiredState::Running, "resumed", "resume requested"),
        Transition::Retry => (d.desired, "retried", "retry requested"),
        Transition::Delete => (DesiredState::Deleted, "deleted", "delete requested"),
    };
    if transition == Transition::Retry && d.status != "failed" {
        return Err(conflict(
            "not_failed",
            "only a failed deployment can be retried",
        ));
    }
    let updated = state.store.set_desired_state(&d.id, desired).await?;
    changed(state, who, &updated, kind, message.to_owned()).await
}

/// What the local target's janitor calls after unloading an idle model: the status says
/// `scaled_to_zero` until the next call loads it again.
pub fn on_scaled_to_zero(state: &AppState) -> crate::targets::local::ScaledToZero {
    let state = state.clone();
    std::sync::Arc::new(move |id: String| {
        let state = state.clone();
        tokio::spawn(async move {
            set_status(
                &state,
                &id,
                "scaled_to_zero",
                "unloaded after idle time; the next call loads it",
            )
            .await
        });
    })
}

/// Sets a status that the runtime observed (not a new generation) and tells the team.
pub async fn set_status(state: &AppState, id: &str, status: &str, message: &str) {
    state.hot.deployment_changed(id);
    let store = &state.store;
    if let Err(e) = store.set_deployment_status(id, status, Some(message)).await {
        tracing::warn!(deployment = %id, error = %e, "could not record the status");
        return;
    }
    let _ = store
        .add_deployment_event(NewDeploymentEvent {
            deployment_id: id.to_owned(),
            actor: None,
            kind: "status".into(),
            message: format!("{status}: {message}"),
        })
        .await;
    if let Ok(Some(d)) = store.deployment_by_id(id).await {
        publish(
            state,
            &d.team_id,
            ServerMessage::Deployment {
                deployment: Box::new(deployment_info(&d)),
            },
        );
    }
}

pub fn targets(state: &AppState) -> Vec<TargetInfo> {
    state.targets.infos()
}

#[cfg(test)]
mod tests {
    use super::name_from_model;

    #[test]
    fn names_from_model_ids() {
        assert_eq!(
            name_from_model("sentence-transformers/all-MiniLM-L6-v2"),
            "all-minilm-l6-v2"
        );
        assert_eq!(name_from_model("org/__x__"), "x");
        assert_eq!(name_from_model("org/___"), "deployment");
    }
}
