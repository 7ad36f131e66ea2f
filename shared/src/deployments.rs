//! Deployments: a model served by a target, with scaling settings, versions and events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a deployment runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// The built-in CPU runtime, in this server process.
    Local,
    /// Hugging Face Inference Endpoints.
    HfEndpoint,
    /// A Hugging Face Space running a generated inference app.
    HfSpace,
    /// An AWS Lambda container function with a function URL.
    AwsLambda,
}

impl TargetKind {
    pub const ALL: [Self; 4] = [
        Self::Local,
        Self::HfEndpoint,
        Self::HfSpace,
        Self::AwsLambda,
    ];

    /// The wire form: `local`, `hf-endpoint`, `hf-space`, `aws-lambda`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::HfEndpoint => "hf-endpoint",
            Self::HfSpace => "hf-space",
            Self::AwsLambda => "aws-lambda",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// A name for people.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::Local => "Local CPU runtime",
            Self::HfEndpoint => "Hugging Face Inference Endpoint",
            Self::HfSpace => "Hugging Face Space",
            Self::AwsLambda => "AWS Lambda",
        }
    }
}

/// Scaling settings. Replicas are worker threads on the local target and instances on
/// cloud targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scaling {
    /// 0 allows scale-to-zero.
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Idle time after which a deployment with `min_replicas == 0` is scaled to zero.
    pub scale_to_zero_after_secs: u32,
    /// Concurrent requests one replica should take before another is added.
    pub target_concurrency: u32,
}

/// The versioned part of a deployment: every change creates a new version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentSpec {
    /// A branch, tag or commit of the model repository.
    pub revision: String,
    pub scaling: Scaling,
    /// Cloud targets: the instance type (e.g. `intel-spr`, `cpu-basic`, or Lambda memory
    /// class); `None` on the local target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Cloud targets: the size (`x1`, `x2`... on Endpoints; memory MB on Lambda).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_size: Option<String>,
    /// Environment variables for the serving process.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// `POST /api/v1/deployments`. Everything but `model_id` has a default (per task and
/// target), so a one-click deploy sends only the model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateDeploymentRequest {
    pub model_id: String,
    /// Unique in the team; default: derived from the model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Default: `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetKind>,
    /// Default: the model's task in the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
}

/// `PATCH /api/v1/deployments/{id}`: the fields given change, and a new version is made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateDeploymentRequest {
    /// The version the change is based on; a 409 if it is not current anymore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
}

/// `POST /api/v1/deployments/{id}/rollback`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RollbackRequest {
    /// The earlier version whose spec becomes a new current version.
    pub version: u32,
}

/// A deployment as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentInfo {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub model_id: String,
    pub target: TargetKind,
    pub task: String,
    /// `pending`, `provisioning`, `running`, `scaled_to_zero`, `updating`, `pausing`,
    /// `paused`, `failed`, `deleting`.
    pub status: String,
    pub status_message: Option<String>,
    /// `running`, `paused` or `deleted`: what was asked for.
    pub desired: String,
    pub current_version: u32,
    /// The version the target runs, once it has been applied.
    pub running_version: Option<u32>,
    pub spec: DeploymentSpec,
    /// Where the deployment answers, for targets with a URL.
    pub endpoint_url: Option<String>,
    /// True while the reconciler still has work to do.
    pub reconciling: bool,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentVersionInfo {
    pub version: u32,
    pub spec: DeploymentSpec,
    pub created_by: String,
    pub created_at: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentEventInfo {
    pub at: String,
    /// A user id, or `None` for the system.
    pub actor: Option<String>,
    pub kind: String,
    pub message: String,
}

/// `GET /api/v1/deployments/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeploymentDetail {
    pub deployment: DeploymentInfo,
    pub versions: Vec<DeploymentVersionInfo>,
    pub events: Vec<DeploymentEventInfo>,
}

/// One deployment target and whether this server can use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetInfo {
    pub kind: TargetKind,
    pub label: String,
    pub configured: bool,
    /// Why it is not configured, and what to set.
    pub reason: Option<String>,
    /// Tasks this target can serve.
    pub tasks: Vec<String>,
    /// The scaling a deployment on this target gets when the request has none (the
    /// deploy form starts from it).
    pub default_scaling: Scaling,
}
