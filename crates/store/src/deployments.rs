//! Deployments: the desired state a user asked for, the state the reconciler observed, the
//! immutable versions of the spec, an event log, and the lease that keeps two instances
//! from acting on one deployment at once.
//!
//! The store keeps the spec as opaque JSON (its shape belongs to the backend's API types);
//! what it enforces itself: versions are numbered 1, 2, 3... without gaps and never change;
//! spec changes are compare-and-set on the current version; status writes are fenced by the
//! lease holder; idempotency keys are unique per team.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// What the owner wants the deployment to be doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DesiredState {
    Running,
    Paused,
    /// Tear it down at the target, then remove the record.
    Deleted,
}

impl DesiredState {
    pub const ALL: [Self; 3] = [Self::Running, Self::Paused, Self::Deleted];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Deleted => "deleted",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for DesiredState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deployment of one model to one target, owned by a team.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub team_id: String,
    /// Unique per team (the caller validates the form).
    pub name: String,
    pub model_id: String,
    /// `local`, `hf-endpoint`, `hf-space` or `aws-lambda` (not interpreted by the store).
    pub target: String,
    pub task: String,
    /// The spec of the current version (opaque JSON).
    pub spec: serde_json::Value,
    pub current_version: u32,
    pub desired: DesiredState,
    /// Bumped on every change of the desired spec or state; the reconciler is done when
    /// `observed_generation == generation` and no poll is scheduled.
    pub generation: u64,
    pub observed_generation: u64,
    /// The version the target runs (after a successful reconcile).
    pub observed_version: Option<u32>,
    /// `pending`, `provisioning`, `running`, `scaled_to_zero`, `paused`, `failed`, `deleting`...
    pub status: String,
    pub status_message: Option<String>,
    /// What the target needs to find its resources again (names, ARNs, URLs).
    pub target_state: serde_json::Value,
    /// Where the deployment answers, when the target has a URL.
    pub endpoint_url: Option<String>,
    /// Failed attempts since the last success (for backoff).
    pub attempts: u32,
    /// When the reconciler should look again (`None`: only when the generation changes).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub lease_holder: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub idempotency_key: Option<String>,
    /// A digest of the create request that used `idempotency_key`.
    pub request_hash: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Deployment {
    /// True when the reconciler has something to do at `now`.
    #[must_use]
    pub fn needs_reconcile(&self, now: DateTime<Utc>) -> bool {
        let due = self.next_attempt_at.is_none_or(|t| t <= now);
        (self.generation > self.observed_generation || self.next_attempt_at.is_some()) && due
    }
}

/// Input of [`DeploymentRepo::create_deployment`]: version 1 is `spec`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeployment {
    pub team_id: String,
    pub name: String,
    pub model_id: String,
    pub target: String,
    pub task: String,
    pub spec: serde_json::Value,
    pub created_by: String,
    /// With `request_hash`: a second create with the same key in the same team returns the
    /// first deployment instead of creating another.
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
}

/// One immutable version of a deployment's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentVersion {
    pub deployment_id: String,
    pub version: u32,
    pub spec: serde_json::Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Why it exists, e.g. "created", "scaling changed", "rollback to v2".
    pub note: String,
}

/// One entry of a deployment's history.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentEvent {
    pub id: String,
    pub deployment_id: String,
    pub at: DateTime<Utc>,
    /// A user id, or `None` for the system (reconciler, runtime).
    pub actor: Option<String>,
    /// A short machine name: `created`, `updated`, `rolled_back`, `paused`, `status`...
    pub kind: String,
    pub message: String,
}

/// Input of [`DeploymentRepo::add_deployment_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeploymentEvent {
    pub deployment_id: String,
    pub actor: Option<String>,
    pub kind: String,
    pub message: String,
}

/// What the reconciler observed, written by [`DeploymentRepo::record_observation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub status: String,
    pub status_message: Option<String>,
    /// The generation this observation answers; `observed_generation` becomes it.
    pub generation: u64,
    pub observed_version: Option<u32>,
    pub target_state: serde_json::Value,
    pub endpoint_url: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Result of [`DeploymentRepo::create_deployment`].
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(Deployment),
    /// A deployment with the same idempotency key existed (check its `request_hash`).
    Existing(Deployment),
}

/// Deployments, their versions, events and leases.
#[async_trait]
pub trait DeploymentRepo: Send + Sync {
    /// Stores the deployment with version 1 and a `created` event, generation 1, status
    /// `pending`, desired `running`. `NotFound` for an unknown team; `Conflict`
    /// ([`crate::conflict::DEPLOYMENT_NAME_TAKEN`]) for a taken name in the team.
    async fn create_deployment(&self, new: NewDeployment) -> Result<Created>;
    async fn deployment_by_id(&self, id: &str) -> Result<Option<Deployment>>;
    /// The team's deployments, newest first.
    async fn deployments_for_team(&self, team_id: &str) -> Result<Vec<Deployment>>;
    /// Adds version `expected_version + 1` with `spec` and makes it current, bumps the
    /// generation, sets desired `running` unless it is `deleted`. `NotFound` for an unknown
    /// deployment; `Conflict` ([`crate::conflict::DEPLOYMENT_VERSION_MOVED`]) when the
    /// current version is not `expected_version` anymore.
    async fn add_deployment_version(
        &self,
        id: &str,
        expected_version: u32,
        spec: serde_json::Value,
        created_by: &str,
        note: &str,
    ) -> Result<Deployment>;
    /// All versions, newest first.
    async fn deployment_versions(&self, id: &str) -> Result<Vec<DeploymentVersion>>;
    /// Sets the desired state and bumps the generation (also to retry a failed deployment:
    /// same state, new generation, attempts reset). `NotFound` for an unknown deployment.
    async fn set_desired_state(&self, id: &str, desired: DesiredState) -> Result<Deployment>;
    /// Takes (or renews) the lease when it is free, expired or already `holder`'s; returns
    /// the deployment when this holder now has it, `None` otherwise (or when unknown).
    async fn acquire_deployment_lease(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Deployment>>;
    /// Releases `holder`'s lease; false when it did not hold it.
    async fn release_deployment_lease(&self, id: &str, holder: &str) -> Result<bool>;
    /// Writes what the reconciler observed, only while `holder` holds an unexpired lease at
    /// `now`; `None` (and nothing written) otherwise.
    async fn record_observation(
        &self,
        id: &str,
        holder: &str,
        now: DateTime<Utc>,
        observation: Observation,
    ) -> Result<Option<Deployment>>;
    /// Sets the status and message without touching the generation (the local runtime
    /// reports `scaled_to_zero` and `running` this way); false for an unknown deployment.
    async fn set_deployment_status(
        &self,
        id: &str,
        status: &str,
        message: Option<&str>,
    ) -> Result<bool>;
    /// Ids of deployments that need the reconciler at `now` (see
    /// [`Deployment::needs_reconcile`]) and whose lease is free or expired, oldest first.
    async fn deployments_to_reconcile(&self, now: DateTime<Utc>, limit: u32)
    -> Result<Vec<String>>;
    /// Appends an event (at the current time).
    async fn add_deployment_event(&self, event: NewDeploymentEvent) -> Result<DeploymentEvent>;
    /// The newest `limit` events, newest first.
    async fn deployment_events(&self, id: &str, limit: u32) -> Result<Vec<DeploymentEvent>>;
    /// Removes the deployment with its versions and events; false when unknown.
    async fn delete_deployment(&self, id: &str) -> Result<bool>;
}

/// The status of a deployment nobody has acted on yet.
pub(crate) const STATUS_PENDING: &str = "pending";

impl NewDeployment {
    /// The records a create stores, built one way for both adapters.
    pub(crate) fn into_records(self) -> (Deployment, DeploymentVersion, DeploymentEvent) {
        let now = crate::now_millis();
        let id = crate::new_id();
        let version = DeploymentVersion {
            deployment_id: id.clone(),
            version: 1,
            spec: self.spec.clone(),
            created_by: self.created_by.clone(),
            created_at: now,
            note: "created".into(),
        };
        let event = DeploymentEvent {
            id: crate::new_id(),
            deployment_id: id.clone(),
            at: now,
            actor: Some(self.created_by.clone()),
            kind: "created".into(),
            message: format!("deployment of {} to {} created", self.model_id, self.target),
        };
        let deployment = Deployment {
            id,
            team_id: self.team_id,
            name: self.name,
            model_id: self.model_id,
            target: self.target,
            task: self.task,
            spec: self.spec,
            current_version: 1,
            desired: DesiredState::Running,
            generation: 1,
            observed_generation: 0,
            observed_version: None,
            status: STATUS_PENDING.into(),
            status_message: None,
            target_state: serde_json::Value::Object(serde_json::Map::new()),
            endpoint_url: None,
            attempts: 0,
            next_attempt_at: None,
            lease_holder: None,
            lease_until: None,
            idempotency_key: self.idempotency_key,
            request_hash: self.request_hash,
            created_by: self.created_by,
            created_at: now,
            updated_at: now,
        };
        (deployment, version, event)
    }
}

impl NewDeploymentEvent {
    pub(crate) fn into_record(self) -> DeploymentEvent {
        DeploymentEvent {
            id: crate::new_id(),
            deployment_id: self.deployment_id,
            at: crate::now_millis(),
            actor: self.actor,
            kind: self.kind,
            message: self.message,
        }
    }
}
