//! AWS Lambda: one container-image function per deployment (image `HFB_LAMBDA_IMAGE_URI`,
//! role `HFB_LAMBDA_ROLE_ARN`), with the model id, revision and task in its environment.
//! Scaling maps onto Lambda's knobs: `max_replicas` → reserved concurrency, `min_replicas`
//! → provisioned concurrency on the `live` alias, `instance_size` → memory in MB. Every
//! version is published and `live` points at it, with an IAM-authenticated function URL.
//! `pause` sets reserved concurrency to 0 (Lambda's way to stop a function); `remove`
//! deletes it.

use std::sync::Arc;

use async_trait::async_trait;
use hfb_cloud::{FunctionState, LambdaClient, LambdaError, LambdaSettings, LambdaSpec, UrlAuth};
use hfb_shared::deployments::TargetKind;
use tokio::sync::OnceCell;

use super::{DeploymentCtx, EMBEDDING_TASKS, Phase, Progress, Target, TargetError};
use crate::config::Settings;

const DEFAULT_MEMORY_MB: u32 = 2048;
const TIMEOUT_S: u32 = 60;

pub struct LambdaTarget {
    settings: LambdaSettings,
    client: OnceCell<LambdaClient>,
    image_uri: Option<String>,
    role_arn: Option<String>,
}

impl LambdaTarget {
    pub fn new(settings: &Settings) -> Arc<Self> {
        Arc::new(Self {
            settings: LambdaSettings {
                region: Some(settings.aws_region.clone()),
                endpoint: settings.aws_endpoint_url.clone(),
            },
            client: OnceCell::new(),
            image_uri: settings.lambda_image_uri.clone(),
            role_arn: settings.lambda_role_arn.clone(),
        })
    }

    async fn client(&self) -> &LambdaClient {
        self.client
            .get_or_init(|| LambdaClient::connect(&self.settings))
            .await
    }

    fn spec(&self, ctx: &DeploymentCtx) -> Result<LambdaSpec, TargetError> {
        let (Some(image), Some(role)) = (&self.image_uri, &self.role_arn) else {
            return Err(TargetError::permanent(missing()));
        };
        let mut spec = LambdaSpec::new(function_name(ctx), image.clone(), role.clone());
        spec.memory_mb = ctx
            .spec
            .instance_size
            .as_deref()
            .and_then(|s| s.parse().ok())
            .unwrap_or(DEFAULT_MEMORY_MB);
        spec.timeout_s = TIMEOUT_S;
        spec.env = ctx.spec.env.clone();
        spec.env.insert("HFB_MODEL_ID".into(), ctx.model_id.clone());
        spec.env
            .insert("HFB_MODEL_REVISION".into(), ctx.spec.revision.clone());
        spec.env.insert("HFB_TASK".into(), ctx.task.clone());
        spec.reserved_concurrency = Some(ctx.spec.scaling.max_replicas);
        spec.provisioned_concurrency =
            (ctx.spec.scaling.min_replicas > 0).then_some(ctx.spec.scaling.min_replicas);
        spec.url_auth = Some(UrlAuth::AwsIam);
        spec.description = format!("hfb deployment {} ({})", ctx.name, ctx.id);
        spec.validate().map_err(lambda_error)?;
        Ok(spec)
    }
}

fn missing() -> String {
    "set HFB_LAMBDA_IMAGE_URI (the serving image in ECR) and HFB_LAMBDA_ROLE_ARN (the execution role); AWS credentials come from the standard AWS chain".into()
}

/// `hfb-<name>-<id tail>`: at most 64 characters of what Lambda allows.
fn function_name(ctx: &DeploymentCtx) -> String {
    let short: String = ctx.id.chars().filter(char::is_ascii_alphanumeric).collect();
    let tail = &short[short.len().saturating_sub(8)..];
    let base: String = ctx.name.chars().take(40).collect();
    format!("hfb-{}-{tail}", base.trim_end_matches('-'))
}

fn lambda_error(e: LambdaError) -> TargetError {
    if e.is_retryable() {
        TargetError::retryable(e.to_string())
    } else {
        TargetError::permanent(e.to_string())
    }
}

#[async_trait]
impl Target for LambdaTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::AwsLambda
    }

    fn availability(&self) -> Result<(), String> {
        if self.image_uri.is_some() && self.role_arn.is_some() {
            Ok(())
        } else {
            Err(missing())
        }
    }

    fn tasks(&self) -> Vec<String> {
        EMBEDDING_TASKS.iter().map(|t| (*t).to_owned()).collect()
    }

    fn default_instance(&self) -> (Option<String>, Option<String>) {
        (
            Some("container".into()),
            Some(DEFAULT_MEMORY_MB.to_string()),
        )
    }

    async fn apply(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        let spec = self.spec(ctx)?;
        let client = self.client().await;
        let deployed_version = ctx.target_state["deployed_version"].as_u64();
        let mut state = serde_json::json!({
            "function": spec.name,
            "manifest": ctx.manifest_key,
            "lambda_spec": spec,
        });
        if deployed_version != Some(u64::from(ctx.version)) {
            let deployed = client.deploy(&spec).await.map_err(lambda_error)?;
            state["deployed_version"] = serde_json::json!(ctx.version);
            state["lambda_version"] = serde_json::json!(deployed.version);
            state["function_arn"] = serde_json::json!(deployed.function.arn);
            if let Some(url) = &deployed.url {
                state["url"] = serde_json::json!(url.url);
            }
        } else {
            for key in ["deployed_version", "lambda_version", "function_arn", "url"] {
                state[key] = ctx.target_state[key].clone();
            }
        }
        let info = client
            .get_function(&spec.name)
            .await
            .map_err(lambda_error)?
            .ok_or_else(|| TargetError::retryable("the function is not visible yet"))?;
        let url = state["url"].as_str().map(str::to_owned);
        match info.state {
            FunctionState::Failed => Err(TargetError::permanent(format!(
                "the function failed: {}",
                info.state_reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".into())
            ))),
            _ if info.is_ready() => Ok(Progress::new(Phase::Running, "running", state)
                .url(url)
                .message(format!("function {} is active", spec.name))),
            _ => Ok(Progress::new(Phase::InProgress, "provisioning", state)
                .url(url)
                .message(format!("function {} is starting", spec.name))),
        }
    }

    async fn pause(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        if let Some(name) = ctx.target_state["function"].as_str() {
            match self
                .client()
                .await
                .set_reserved_concurrency(name, Some(0))
                .await
            {
                Ok(()) | Err(LambdaError::NotFound(_)) => {}
                Err(e) => return Err(lambda_error(e)),
            }
        }
        let mut state = ctx.target_state.clone();
        if state.is_object() {
            // Resume must apply the spec again (reserved concurrency back up).
            state["deployed_version"] = serde_json::Value::Null;
        }
        Ok(Progress::new(Phase::Paused, "paused", state))
    }

    async fn remove(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        if let Some(name) = ctx.target_state["function"].as_str() {
            self.client()
                .await
                .delete_function(name)
                .await
                .map_err(lambda_error)?;
        }
        Ok(Progress::new(
            Phase::Removed,
            "removed",
            serde_json::Value::Null,
        ))
    }
}
