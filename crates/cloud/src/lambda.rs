//! [`LambdaClient`]: the AWS Lambda calls a container-image deployment needs.
//!
//! A deployment is the unqualified function (`$LATEST`) plus an alias, [`LIVE_ALIAS`],
//! that [`LambdaClient::deploy`] moves to a newly published version after every change.
//! Provisioned concurrency and the function URL hang on that alias, as Lambda requires
//! for provisioned concurrency, so callers of the URL always reach the last complete
//! version; rolling back is pointing the alias at an earlier version
//! ([`LambdaClient::point_alias`]).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::Region;
use aws_sdk_lambda::types::{Environment, FunctionCode, FunctionConfiguration, PackageType};

use crate::error::map_sdk_error;
use crate::{Architecture, LambdaError, LambdaSpec, UrlAuth};

/// The alias that carries provisioned concurrency and the function URL.
pub const LIVE_ALIAS: &str = "live";
/// Region used when neither the settings nor the AWS chain name one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// How long [`LambdaClient::wait_until_ready`] waits by default: container functions can
/// stay `Pending` for minutes while Lambda optimizes the image.
pub const DEFAULT_SETTLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Statement id of the permission that makes an `AuthType=NONE` URL callable by anyone.
const PUBLIC_URL_STATEMENT: &str = "hfb-public-function-url";

/// Where the client connects. Credentials come from the standard AWS chain.
#[derive(Debug, Clone, Default)]
pub struct LambdaSettings {
    /// Region; else the AWS chain's (`AWS_REGION`, profile), else [`DEFAULT_REGION`].
    pub region: Option<String>,
    /// A custom endpoint (moto, LocalStack).
    pub endpoint: Option<String>,
}

/// Lifecycle state of a function, from Lambda's `State`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionState {
    /// Being created (or re-activated): not invocable yet.
    Pending,
    /// Invocable.
    Active,
    /// Idle for weeks and reclaimed; the next invocation re-activates it.
    Inactive,
    /// Creation failed; see the reason.
    Failed,
    /// Any other value Lambda reports (e.g. `Deleting`), verbatim.
    Unknown(String),
}

impl FunctionState {
    fn from_str(state: &str) -> Self {
        match state {
            "Pending" => Self::Pending,
            "Active" => Self::Active,
            "Inactive" | "Deactivating" | "Deactivated" => Self::Inactive,
            "Failed" => Self::Failed,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

/// Outcome of the last configuration or code update, from Lambda's `LastUpdateStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateStatus {
    Successful,
    InProgress,
    Failed,
    Unknown(String),
}

impl UpdateStatus {
    fn from_str(status: &str) -> Self {
        match status {
            "Successful" => Self::Successful,
            "InProgress" => Self::InProgress,
            "Failed" => Self::Failed,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

/// What Lambda reports about a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: String,
    pub arn: String,
    pub state: FunctionState,
    /// Why the function is in its state (set for `Pending`, `Failed`, `Inactive`).
    pub state_reason: Option<String>,
    pub last_update: Option<UpdateStatus>,
    pub last_update_reason: Option<String>,
    pub memory_mb: Option<u32>,
    pub timeout_s: Option<u32>,
    pub env: BTreeMap<String, String>,
    pub architecture: Option<Architecture>,
    pub role_arn: Option<String>,
    pub image_uri: Option<String>,
    pub reserved_concurrency: Option<u32>,
}

impl FunctionInfo {
    /// Active and not in the middle of an update: the next change can be applied.
    pub fn is_ready(&self) -> bool {
        self.state == FunctionState::Active && self.last_update != Some(UpdateStatus::InProgress)
    }

    /// The most relevant reason Lambda gave, if any (the failed update's first).
    pub fn reason(&self) -> Option<&str> {
        match self.last_update {
            Some(UpdateStatus::Failed) => self.last_update_reason.as_deref(),
            _ => None,
        }
        .or(self.state_reason.as_deref())
    }

    fn from_sdk(
        config: &FunctionConfiguration,
        image_uri: Option<&str>,
        reserved_concurrency: Option<i32>,
    ) -> Self {
        let to_u32 = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
        Self {
            name: config.function_name().unwrap_or_default().to_owned(),
            arn: config.function_arn().unwrap_or_default().to_owned(),
            state: config
                .state()
                .map_or(FunctionState::Unknown(String::new()), |s| {
                    FunctionState::from_str(s.as_str())
                }),
            state_reason: config.state_reason().map(str::to_owned),
            last_update: config
                .last_update_status()
                .map(|s| UpdateStatus::from_str(s.as_str())),
            last_update_reason: config.last_update_status_reason().map(str::to_owned),
            memory_mb: to_u32(config.memory_size()),
            timeout_s: to_u32(config.timeout()),
            env: config
                .environment()
                .and_then(|e| e.variables())
                .map(|vars| vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            architecture: config
                .architectures()
                .first()
                .and_then(Architecture::from_sdk),
            role_arn: config.role().map(str::to_owned),
            image_uri: image_uri.map(str::to_owned),
            reserved_concurrency: to_u32(reserved_concurrency),
        }
    }
}

/// A function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUrl {
    /// `https://<id>.lambda-url.<region>.on.aws/`
    pub url: String,
    pub auth: UrlAuth,
    pub function_arn: String,
}

/// Result of [`LambdaClient::deploy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The function after the change (`$LATEST`).
    pub function: FunctionInfo,
    /// The published version [`LIVE_ALIAS`] now points at.
    pub version: String,
    pub url: Option<FunctionUrl>,
    /// Whether the function was created (rather than updated).
    pub created: bool,
}

/// AWS Lambda client for container-image functions.
#[derive(Debug, Clone)]
pub struct LambdaClient {
    client: Client,
    settle_timeout: Duration,
}

fn to_i32(value: u32, what: &str) -> Result<i32, LambdaError> {
    i32::try_from(value)
        .map_err(|_| LambdaError::InvalidParameter(format!("{what} {value} is too large")))
}

fn environment(spec: &LambdaSpec) -> Environment {
    let vars: HashMap<String, String> = spec.env.clone().into_iter().collect();
    Environment::builder().set_variables(Some(vars)).build()
}

impl LambdaClient {
    /// A client with the standard AWS credential chain. Does not contact AWS.
    pub async fn connect(settings: &LambdaSettings) -> Self {
        let region = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::from_static(DEFAULT_REGION));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        Self::new(Client::new(&loader.load().await))
    }

    /// A client from a ready aws-sdk-lambda client.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            settle_timeout: DEFAULT_SETTLE_TIMEOUT,
        }
    }

    /// How long [`LambdaClient::wait_until_ready`] and [`LambdaClient::deploy`] wait for
    /// a function to settle.
    pub fn with_settle_timeout(mut self, timeout: Duration) -> Self {
        self.settle_timeout = timeout;
        self
    }

    /// The underlying SDK client, for calls this type does not wrap.
    pub fn sdk(&self) -> &Client {
        &self.client
    }

    /// Creates the function (`$LATEST` only: no version, alias, concurrency or URL).
    /// An existing function gives [`LambdaError::Conflict`].
    pub async fn create_function(&self, spec: &LambdaSpec) -> Result<FunctionInfo, LambdaError> {
        spec.validate()?;
        let out = self
            .client
            .create_function()
            .function_name(&spec.name)
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(&spec.image_uri).build())
            .role(&spec.role_arn)
            .memory_size(to_i32(spec.memory_mb, "memory")?)
            .timeout(to_i32(spec.timeout_s, "timeout")?)
            .environment(environment(spec))
            .architectures(spec.architecture.to_sdk())
            .description(&spec.description)
            .send()
            .await
            .map_err(|e| map_sdk_error("CreateFunction", e))?;
        tracing::info!(function = %spec.name, arn = out.function_arn().unwrap_or_default(), "created Lambda function");
        self.require_function(&spec.name).await
    }

    /// Applies the spec's role, memory, timeout, environment and description.
    pub async fn update_configuration(
        &self,
        spec: &LambdaSpec,
    ) -> Result<FunctionInfo, LambdaError> {
        spec.validate()?;
        self.client
            .update_function_configuration()
            .function_name(&spec.name)
            .role(&spec.role_arn)
            .memory_size(to_i32(spec.memory_mb, "memory")?)
            .timeout(to_i32(spec.timeout_s, "timeout")?)
            .environment(environment(spec))
            .description(&spec.description)
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateFunctionConfiguration", e))?;
        self.require_function(&spec.name).await
    }

    /// Points `$LATEST` at the spec's image and architecture.
    pub async fn update_code(&self, spec: &LambdaSpec) -> Result<FunctionInfo, LambdaError> {
        spec.validate()?;
        self.client
            .update_function_code()
            .function_name(&spec.name)
            .image_uri(&spec.image_uri)
            .architectures(spec.architecture.to_sdk())
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateFunctionCode", e))?;
        self.require_function(&spec.name).await
    }

    /// The function's configuration, image and reserved concurrency; `None` when absent.
    pub async fn get_function(&self, name: &str) -> Result<Option<FunctionInfo>, LambdaError> {
        match self.client.get_function().function_name(name).send().await {
            Ok(out) => Ok(out.configuration().map(|config| {
                FunctionInfo::from_sdk(
                    config,
                    out.code().and_then(|c| c.image_uri()),
                    out.concurrency()
                        .and_then(|c| c.reserved_concurrent_executions()),
                )
            })),
            Err(e) => match map_sdk_error("GetFunction", e) {
                LambdaError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn require_function(&self, name: &str) -> Result<FunctionInfo, LambdaError> {
        self.get_function(name)
            .await?
            .ok_or_else(|| LambdaError::NotFound(format!("function {name} disappeared")))
    }

    /// Polls until the function is [`FunctionInfo::is_ready`]. `Failed` (state or last
    /// update) and the settle timeout give [`LambdaError::NotReady`] with the reason.
    pub async fn wait_until_ready(&self, name: &str) -> Result<FunctionInfo, LambdaError> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(500);
        loop {
            let info = self.require_function(name).await?;
            if info.state == FunctionState::Failed || info.last_update == Some(UpdateStatus::Failed)
            {
                return Err(LambdaError::NotReady(format!(
                    "function {name} failed: {}",
                    info.reason().unwrap_or("no reason given")
                )));
            }
            if info.is_ready() {
                return Ok(info);
            }
            if started.elapsed() >= self.settle_timeout {
                return Err(LambdaError::NotReady(format!(
                    "function {name} is still {:?} after {:?}: {}",
                    info.state,
                    self.settle_timeout,
                    info.reason().unwrap_or("no reason given")
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(10));
        }
    }

    /// Reserves (and caps) concurrent executions; `None` returns the function to the
    /// account's unreserved pool.
    pub async fn set_reserved_concurrency(
        &self,
        name: &str,
        reserved: Option<u32>,
    ) -> Result<(), LambdaError> {
        match reserved {
            Some(n) => {
                self.client
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(to_i32(n, "reserved concurrency")?)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("PutFunctionConcurrency", e))?;
            }
            None => {
                self.client
                    .delete_function_concurrency()
                    .function_name(name)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("DeleteFunctionConcurrency", e))?;
            }
        }
        Ok(())
    }

    /// The reserved concurrency, `None` when not set.
    pub async fn reserved_concurrency(&self, name: &str) -> Result<Option<u32>, LambdaError> {
        let out = self
            .client
            .get_function_concurrency()
            .function_name(name)
            .send()
            .await
            .map_err(|e| map_sdk_error("GetFunctionConcurrency", e))?;
        Ok(out
            .reserved_concurrent_executions()
            .and_then(|n| u32::try_from(n).ok()))
    }

    /// Publishes `$LATEST` as an immutable version and returns its number. Lambda returns
    /// the last version instead when nothing changed since it was published.
    pub async fn publish_version(&self, name: &str) -> Result<String, LambdaError> {
        let out = self
            .client
            .publish_version()
            .function_name(name)
            .send()
            .await
            .map_err(|e| map_sdk_error("PublishVersion", e))?;
        out.version()
            .map(str::to_owned)
            .ok_or_else(|| LambdaError::Other("PublishVersion returned no version".into()))
    }

    /// Points `alias` at `version`, creating the alias when missing.
    pub async fn point_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
    ) -> Result<(), LambdaError> {
        let updated = self
            .client
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .map_err(|e| map_sdk_error("UpdateAlias", e));
        match updated {
            Ok(_) => Ok(()),
            Err(LambdaError::NotFound(_)) => {
                self.client
                    .create_alias()
                    .function_name(name)
                    .name(alias)
                    .function_version(version)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("CreateAlias", e))?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The version `alias` points at; `None` when the alias does not exist.
    pub async fn alias_version(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<String>, LambdaError> {
        match self
            .client
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
        {
            Ok(out) => Ok(out.function_version().map(str::to_owned)),
            Err(e) => match map_sdk_error("GetAlias", e) {
                LambdaError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Keeps `instances` pre-initialized instances of `qualifier` (an alias or version;
    /// Lambda refuses `$LATEST`), or removes the setting with `None`/0. Removing a setting
    /// that does not exist is not an error; an endpoint that does not implement
    /// provisioned concurrency (moto) cannot hold one, so removal is a no-op there too.
    pub async fn set_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        instances: Option<u32>,
    ) -> Result<(), LambdaError> {
        match instances.filter(|n| *n > 0) {
            Some(n) => {
                self.client
                    .put_provisioned_concurrency_config()
                    .function_name(name)
                    .qualifier(qualifier)
                    .provisioned_concurrent_executions(to_i32(n, "provisioned concurrency")?)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("PutProvisionedConcurrencyConfig", e))?;
                Ok(())
            }
            None => match self
                .client
                .delete_provisioned_concurrency_config()
                .function_name(name)
                .qualifier(qualifier)
                .send()
                .await
                .map_err(|e| map_sdk_error("DeleteProvisionedConcurrencyConfig", e))
            {
                Ok(_) | Err(LambdaError::NotFound(_) | LambdaError::Unsupported(_)) => Ok(()),
                Err(e) => Err(e),
            },
        }
    }

    /// Creates a function URL (on `qualifier`, an alias, when given). A URL that already
    /// exists gives [`LambdaError::Conflict`]. `UrlAuth::None` also grants everyone
    /// `lambda:InvokeFunctionUrl`, without which a public URL answers 403.
    pub async fn create_function_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
        auth: UrlAuth,
    ) -> Result<FunctionUrl, LambdaError> {
        let out = self
            .client
            .create_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .auth_type(auth.to_sdk())
            .send()
            .await
            .map_err(|e| map_sdk_error("CreateFunctionUrlConfig", e))?;
        if auth == UrlAuth::None {
            self.allow_public_url(name, qualifier).await?;
        }
        Ok(FunctionUrl {
            url: out.function_url().to_owned(),
            auth: UrlAuth::from_sdk(out.auth_type()),
            function_arn: out.function_arn().to_owned(),
        })
    }

    async fn allow_public_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaError> {
        let added = self
            .client
            .add_permission()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .statement_id(PUBLIC_URL_STATEMENT)
            .action("lambda:InvokeFunctionUrl")
            .principal("*")
            .function_url_auth_type(UrlAuth::None.to_sdk())
            .send()
            .await
            .map_err(|e| map_sdk_error("AddPermission", e));
        match added {
            // The statement exists from an earlier deploy.
            Ok(_) | Err(LambdaError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The function URL; `None` when there is none.
    pub async fn function_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<Option<FunctionUrl>, LambdaError> {
        let got = self
            .client
            .get_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await;
        match got {
            Ok(out) => Ok(Some(FunctionUrl {
                url: out.function_url().to_owned(),
                auth: UrlAuth::from_sdk(out.auth_type()),
                function_arn: out.function_arn().to_owned(),
            })),
            Err(e) => match map_sdk_error("GetFunctionUrlConfig", e) {
                LambdaError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// The function URL with `auth`: created when missing, its auth changed when different.
    pub async fn ensure_function_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
        auth: UrlAuth,
    ) -> Result<FunctionUrl, LambdaError> {
        match self.function_url(name, qualifier).await? {
            Some(url) if url.auth == auth => Ok(url),
            Some(_) => {
                let out = self
                    .client
                    .update_function_url_config()
                    .function_name(name)
                    .set_qualifier(qualifier.map(str::to_owned))
                    .auth_type(auth.to_sdk())
                    .send()
                    .await
                    .map_err(|e| map_sdk_error("UpdateFunctionUrlConfig", e))?;
                if auth == UrlAuth::None {
                    self.allow_public_url(name, qualifier).await?;
                }
                Ok(FunctionUrl {
                    url: out.function_url().to_owned(),
                    auth: UrlAuth::from_sdk(out.auth_type()),
                    function_arn: out.function_arn().to_owned(),
                })
            }
            None => self.create_function_url(name, qualifier, auth).await,
        }
    }

    /// Removes the function URL; a missing URL is not an error.
    pub async fn delete_function_url(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Result<(), LambdaError> {
        let deleted = self
            .client
            .delete_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
            .map_err(|e| map_sdk_error("DeleteFunctionUrlConfig", e));
        match deleted {
            Ok(_) | Err(LambdaError::NotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes the function with all its versions, aliases and URLs. Returns whether it
    /// existed; deleting a missing function is not an error.
    pub async fn delete_function(&self, name: &str) -> Result<bool, LambdaError> {
        match self
            .client
            .delete_function()
            .function_name(name)
            .send()
            .await
        {
            Ok(_) => {
                tracing::info!(function = name, "deleted Lambda function");
                Ok(true)
            }
            Err(e) => match map_sdk_error("DeleteFunction", e) {
                LambdaError::NotFound(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Drives the function to `spec`, whether it exists or not: create or update
    /// configuration and code (waiting for each update to settle), set reserved
    /// concurrency, publish a version, point [`LIVE_ALIAS`] at it, set provisioned
    /// concurrency on the alias, and create, update or remove the alias's function URL.
    /// Safe to call again after a failure at any step.
    pub async fn deploy(&self, spec: &LambdaSpec) -> Result<Deployed, LambdaError> {
        spec.validate()?;
        let name = spec.name.as_str();
        let created = match self.get_function(name).await? {
            None => match self.create_function(spec).await {
                Ok(_) => true,
                // Created concurrently since the lookup: update it like an existing one.
                Err(LambdaError::Conflict(_)) => false,
                Err(e) => return Err(e),
            },
            Some(_) => false,
        };
        if !created {
            let current = self.wait_until_ready(name).await?;
            self.update_configuration(spec).await?;
            self.wait_until_ready(name).await?;
            let code_changed = current.image_uri.as_deref() != Some(spec.image_uri.as_str())
                || current.architecture != Some(spec.architecture);
            if code_changed {
                self.update_code(spec).await?;
            }
        }
        let function = self.wait_until_ready(name).await?;
        self.set_reserved_concurrency(name, spec.reserved_concurrency)
            .await?;
        let version = self.publish_version(name).await?;
        self.point_alias(name, LIVE_ALIAS, &version).await?;
        self.set_provisioned_concurrency(name, LIVE_ALIAS, spec.provisioned())
            .await?;
        let url = match spec.url_auth {
            Some(auth) => Some(
                self.ensure_function_url(name, Some(LIVE_ALIAS), auth)
                    .await?,
            ),
            None => {
                self.delete_function_url(name, Some(LIVE_ALIAS)).await?;
                None
            }
        };
        let function = self.get_function(name).await?.unwrap_or(function);
        tracing::info!(
            function = name,
            version,
            created,
            "deployed Lambda function"
        );
        Ok(Deployed {
            function,
            version,
            url,
            created,
        })
    }
}
