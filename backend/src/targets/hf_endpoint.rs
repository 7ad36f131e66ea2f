//! Hugging Face Inference Endpoints: one endpoint per deployment, named after it, in
//! `HFB_HF_NAMESPACE`. `apply` creates the endpoint (or updates it to the current spec) and
//! then polls its state until `running`; `pause` pauses it; `remove` deletes it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hfb_hub::{EndpointSpec, EndpointState, EndpointUpdate, EndpointsClient, HubError};
use hfb_shared::deployments::TargetKind;

use super::{DeploymentCtx, EMBEDDING_TASKS, Phase, Progress, Target, TargetError};
use crate::config::Settings;

/// A Hugging Face management client with the namespace it acts in, or what is missing to
/// use it (shared by the Endpoints and Spaces targets).
pub(crate) struct HfAccess<C> {
    client: Option<C>,
    namespace: Option<String>,
    missing: Option<String>,
}

impl<C> HfAccess<C> {
    pub(crate) fn new(
        settings: &Settings,
        owns: &str,
        timeout: Duration,
        make: impl FnOnce(hfb_hub::HubConfig) -> Result<C, HubError>,
    ) -> Self {
        let token = settings
            .hugging_face_api_key
            .as_ref()
            .map(|s| s.expose().to_owned());
        let mut missing = Vec::new();
        if token.is_none() {
            missing.push("HUGGING_FACE_API_KEY (a token with write access)".to_owned());
        }
        if settings.hf_namespace.is_none() {
            missing.push(format!(
                "HFB_HF_NAMESPACE (the user or organization that owns the {owns})"
            ));
        }
        let config = hfb_hub::HubConfig {
            endpoint: settings.hf_endpoint.clone(),
            token,
            timeout,
            ..hfb_hub::HubConfig::default()
        };
        let client = match make(config) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "{owns} client unavailable");
                missing.push(format!("a valid Hugging Face API URL ({e})"));
                None
            }
        };
        Self {
            client,
            namespace: settings.hf_namespace.clone(),
            missing: (!missing.is_empty()).then(|| format!("set {}", missing.join(" and "))),
        }
    }

    pub(crate) fn availability(&self) -> Result<(), String> {
        self.missing.clone().map_or(Ok(()), Err)
    }

    pub(crate) fn ready(&self) -> Result<(&C, &str), TargetError> {
        match (&self.client, &self.namespace, &self.missing) {
            (Some(c), Some(ns), None) => Ok((c, ns)),
            _ => Err(TargetError::permanent(
                self.missing
                    .clone()
                    .unwrap_or_else(|| "Hugging Face is not configured".into()),
            )),
        }
    }
}

pub struct HfEndpointTarget {
    access: HfAccess<EndpointsClient>,
}

impl HfEndpointTarget {
    pub fn new(settings: &Settings) -> Arc<Self> {
        let api = settings.hf_endpoints_api.clone();
        Arc::new(Self {
            access: HfAccess::new(
                settings,
                "Inference Endpoints",
                Duration::from_secs(20),
                |c| EndpointsClient::new(&c, &api),
            ),
        })
    }

    fn ready(&self) -> Result<(&EndpointsClient, &str), TargetError> {
        self.access.ready()
    }
}

/// Endpoint names: lowercase, digits and '-', at most 32 characters; unique per deployment.
fn endpoint_name(ctx: &DeploymentCtx) -> String {
    let short: String = ctx.id.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail = &short[short.len().saturating_sub(8)..];
    let base: String = ctx.name.chars().take(20).collect();
    format!(
        "{}-{}",
        base.trim_end_matches('-'),
        tail.to_ascii_lowercase()
    )
}

pub(crate) fn hub_error(e: HubError) -> TargetError {
    match &e {
        HubError::RateLimited { retry_after } => TargetError::Retryable {
            message: e.to_string(),
            retry_after: *retry_after,
        },
        _ if e.is_retryable() => TargetError::retryable(e.to_string()),
        _ => TargetError::permanent(e.to_string()),
    }
}

fn spec_for(ctx: &DeploymentCtx, namespace: &str, name: &str) -> EndpointSpec {
    let mut spec = EndpointSpec::cpu(namespace, name, &ctx.model_id, &ctx.task);
    spec.revision = Some(ctx.spec.revision.clone());
    if let Some(t) = &ctx.spec.instance_type {
        spec.instance_type = t.clone();
    }
    if let Some(s) = &ctx.spec.instance_size {
        spec.instance_size = s.clone();
    }
    spec.min_replica = ctx.spec.scaling.min_replicas;
    spec.max_replica = ctx.spec.scaling.max_replicas;
    spec.scale_to_zero_timeout = (ctx.spec.scaling.min_replicas == 0).then(|| {
        ctx.spec
            .scaling
            .scale_to_zero_after_secs
            .div_ceil(60)
            .max(1)
    });
    spec.env = ctx.spec.env.clone();
    spec
}

fn progress_of(
    state: &EndpointState,
    message: Option<String>,
    url: Option<String>,
    target_state: serde_json::Value,
) -> Result<Progress, TargetError> {
    let (phase, status) = match state {
        EndpointState::Running => (Phase::Running, "running"),
        EndpointState::ScaledToZero => (Phase::Running, "scaled_to_zero"),
        EndpointState::Paused => (Phase::Paused, "paused"),
        s if s.is_failed() => {
            return Err(TargetError::permanent(format!(
                "the endpoint is {}: {}",
                s.as_str(),
                message.unwrap_or_else(|| "no reason given".into())
            )));
        }
        EndpointState::Pending => (Phase::InProgress, "provisioning"),
        EndpointState::Initializing => (Phase::InProgress, "initializing"),
        EndpointState::Updating => (Phase::InProgress, "updating"),
        _ => (Phase::InProgress, "provisioning"),
    };
    let mut p = Progress::new(phase, status, target_state).url(url);
    p.message = message.or_else(|| Some(format!("endpoint is {}", state.as_str())));
    Ok(p)
}

#[async_trait]
impl Target for HfEndpointTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::HfEndpoint
    }

    fn availability(&self) -> Result<(), String> {
        self.access.availability()
    }

    fn tasks(&self) -> Vec<String> {
        let mut tasks: Vec<String> = EMBEDDING_TASKS.iter().map(|t| (*t).to_owned()).collect();
        tasks.extend(
            [
                "text-classification",
                "token-classification",
                "text-generation",
            ]
            .into_iter()
            .map(str::to_owned),
        );
        tasks
    }

    fn default_instance(&self) -> (Option<String>, Option<String>) {
        (Some("intel-spr".into()), Some("x2".into()))
    }

    async fn apply(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        let (client, ns) = self.ready()?;
        let name = ctx.target_state["endpoint"]
            .as_str()
            .map_or_else(|| endpoint_name(ctx), str::to_owned);
        let applied = ctx.target_state["applied_version"].as_u64();
        let state = serde_json::json!({
            "endpoint": name,
            "namespace": ns,
            "applied_version": ctx.version,
            "manifest": ctx.manifest_key,
        });
        let endpoint = match client.get(ns, &name).await {
            Ok(existing) => {
                let endpoint = if applied != Some(u64::from(ctx.version)) {
                    let spec = spec_for(ctx, ns, &name);
                    let update = EndpointUpdate {
                        revision: spec.revision.clone(),
                        instance_type: Some(spec.instance_type.clone()),
                        instance_size: Some(spec.instance_size.clone()),
                        min_replica: Some(spec.min_replica),
                        max_replica: Some(spec.max_replica),
                        scale_to_zero_timeout: spec.scale_to_zero_timeout,
                        env: Some(spec.env.clone()),
                        ..EndpointUpdate::default()
                    };
                    client.update(ns, &name, &update).await.map_err(hub_error)?
                } else {
                    existing
                };
                if endpoint.status.state == EndpointState::Paused {
                    client.resume(ns, &name).await.map_err(hub_error)?
                } else {
                    endpoint
                }
            }
            Err(HubError::NotFound) => client
                .create(&spec_for(ctx, ns, &name))
                .await
                .map_err(hub_error)?,
            Err(e) => return Err(hub_error(e)),
        };
        let status = endpoint.status;
        progress_of(&status.state, status.message, status.url, state)
    }

    async fn pause(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        let (client, ns) = self.ready()?;
        let Some(name) = ctx.target_state["endpoint"].as_str() else {
            return Ok(Progress::new(
                Phase::Paused,
                "paused",
                ctx.target_state.clone(),
            ));
        };
        match client.pause(ns, name).await {
            Ok(e) => progress_of(
                &e.status.state,
                e.status.message,
                None,
                ctx.target_state.clone(),
            ),
            Err(HubError::NotFound) => Ok(Progress::new(
                Phase::Paused,
                "paused",
                ctx.target_state.clone(),
            )),
            Err(e) => Err(hub_error(e)),
        }
    }

    async fn remove(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        let Some(name) = ctx.target_state["endpoint"].as_str() else {
            return Ok(Progress::new(
                Phase::Removed,
                "removed",
                serde_json::Value::Null,
            ));
        };
        let (client, ns) = self.ready()?;
        client.delete(ns, name).await.map_err(hub_error)?;
        Ok(Progress::new(
            Phase::Removed,
            "removed",
            serde_json::Value::Null,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoint_names_are_short_and_unique_per_deployment() {
        let ctx = DeploymentCtx {
            id: "0190e7a2-1111-7000-8000-00000000abcd".into(),
            team_id: "t".into(),
            name: "all-minilm-l6-v2-with-a-long-name".into(),
            model_id: "m/x".into(),
            task: "feature-extraction".into(),
            version: 1,
            spec: hfb_shared::deployments::DeploymentSpec {
                revision: "main".into(),
                scaling: crate::services::deployments::default_scaling(TargetKind::HfEndpoint),
                instance_type: None,
                instance_size: None,
                env: Default::default(),
            },
            target_state: serde_json::Value::Null,
            manifest_key: None,
        };
        let name = endpoint_name(&ctx);
        assert!(name.len() <= 32, "{name}");
        assert!(name.ends_with("0000abcd"), "{name}");
    }
}
