//! Deployment targets behind one trait: the reconciler asks a target to make a deployment
//! run its spec, pause, or go away, and the target answers what it observed. Targets are
//! idempotent: the reconciler may call `apply` again after a crash or a poll interval, and
//! the target must find what it created before (through `target_state`) instead of
//! creating it twice.

pub mod hf_endpoint;
pub mod hf_space;
pub mod lambda;
pub mod local;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hfb_shared::deployments::{DeploymentSpec, TargetInfo, TargetKind};

/// What a target is told about the deployment it acts on.
#[derive(Debug, Clone)]
pub struct DeploymentCtx {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub model_id: String,
    pub task: String,
    pub version: u32,
    pub spec: DeploymentSpec,
    /// What this target stored on earlier calls (resource names, ARNs, URLs).
    pub target_state: serde_json::Value,
    /// Content address of this version's manifest in the blob store.
    pub manifest_key: Option<String>,
}

/// Where the target stands after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Still on the way: poll again later.
    InProgress,
    /// Serving the spec.
    Running,
    Paused,
    /// Nothing left at the target.
    Removed,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub phase: Phase,
    /// The status shown to people (`provisioning`, `initializing`, `running`...).
    pub status: String,
    pub message: Option<String>,
    pub target_state: serde_json::Value,
    pub endpoint_url: Option<String>,
}

impl Progress {
    pub fn new(phase: Phase, status: &str, target_state: serde_json::Value) -> Self {
        Self {
            phase,
            status: status.to_owned(),
            message: None,
            target_state,
            endpoint_url: None,
        }
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    pub fn url(mut self, url: Option<String>) -> Self {
        self.endpoint_url = url;
        self
    }
}

/// Why a target call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TargetError {
    /// Worth trying again later (network, 429, 5xx, a busy resource).
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help until someone changes something (bad settings, missing
    /// credentials, a model the target cannot serve, the resource failed).
    #[error("{0}")]
    Permanent(String),
}

impl TargetError {
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }
}

#[async_trait]
pub trait Target: Send + Sync {
    fn kind(&self) -> TargetKind;
    /// `Ok` when usable; otherwise what is missing, said so people can fix it.
    fn availability(&self) -> Result<(), String>;
    /// Tasks this target can serve.
    fn tasks(&self) -> Vec<String>;
    /// Default instance type and size for new deployments (cloud targets).
    fn default_instance(&self) -> (Option<String>, Option<String>) {
        (None, None)
    }
    /// Checks a create or update before it is accepted (e.g. the model exists locally).
    async fn validate(&self, _model_id: &str, _spec: &DeploymentSpec) -> Result<(), String> {
        Ok(())
    }
    /// Make the deployment serve `ctx.spec` (create or update); idempotent.
    async fn apply(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError>;
    /// Stop serving but keep what allows a quick resume.
    async fn pause(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError>;
    /// Remove everything at the target; `Removed` once gone (not-found counts as gone).
    async fn remove(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError>;
}

/// The targets of this server, by kind.
#[derive(Clone, Default)]
pub struct Targets {
    by_kind: BTreeMap<TargetKind, Arc<dyn Target>>,
}

impl Targets {
    pub fn new(targets: Vec<Arc<dyn Target>>) -> Self {
        Self {
            by_kind: targets.into_iter().map(|t| (t.kind(), t)).collect(),
        }
    }

    pub fn get(&self, kind: TargetKind) -> Option<&Arc<dyn Target>> {
        self.by_kind.get(&kind)
    }

    /// Every target kind with whether it is usable here.
    pub fn infos(&self) -> Vec<TargetInfo> {
        TargetKind::ALL
            .into_iter()
            .map(|kind| match self.by_kind.get(&kind) {
                Some(t) => {
                    let availability = t.availability();
                    TargetInfo {
                        kind,
                        label: kind.label().to_owned(),
                        configured: availability.is_ok(),
                        reason: availability.err(),
                        tasks: t.tasks(),
                        default_scaling: crate::services::deployments::default_scaling(kind),
                    }
                }
                None => TargetInfo {
                    kind,
                    label: kind.label().to_owned(),
                    configured: false,
                    reason: Some("not available in this build".to_owned()),
                    tasks: Vec::new(),
                    default_scaling: crate::services::deployments::default_scaling(kind),
                },
            })
            .collect()
    }
}

/// The targets this server can use: the local runtime always; the cloud targets with
/// their settings (unconfigured ones say what is missing).
pub async fn build(settings: &crate::config::Settings, local: Arc<local::LocalTarget>) -> Targets {
    let targets: Vec<Arc<dyn Target>> = vec![
        local,
        hf_endpoint::HfEndpointTarget::new(settings),
        hf_space::HfSpaceTarget::new(settings),
        lambda::LambdaTarget::new(settings),
    ];
    Targets::new(targets)
}

/// Tasks the built-in runtime and the generated cloud apps serve.
pub const EMBEDDING_TASKS: [&str; 2] = ["feature-extraction", "sentence-similarity"];
