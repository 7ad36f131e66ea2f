//! Client of Hugging Face Inference Endpoints (dedicated deployments), API v2.
//!
//! `POST /endpoint/{namespace}` creates, `GET|PUT|DELETE /endpoint/{namespace}/{name}`
//! reads, updates and deletes, `POST …/pause|resume|scale-to-zero` change the state.
//! An endpoint moves `pending → initializing → running`; it can end `failed` (or
//! `updateFailed`), be `paused` by hand, or sit `scaledToZero` until a request wakes it.
//! The client sends one request per call (with the retries of [`HubConfig`]); polling is
//! the caller's: [`EndpointsClient::status`] is a single `GET`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::client::{Body, Call, ErrorMode, Fetched};
use crate::{HubClient, HubConfig, HubError, validate_repo_id};

/// Base URL of the Inference Endpoints API.
pub const DEFAULT_ENDPOINTS_API: &str = "https://api.endpoints.huggingface.cloud/v2";
/// Idle minutes before a `min_replica: 0` endpoint scales to zero when none is given
/// (the API needs a value whenever the minimum is 0).
pub const DEFAULT_SCALE_TO_ZERO_MINUTES: u32 = 15;
/// Longest endpoint name the API accepts.
pub const MAX_ENDPOINT_NAME_LEN: usize = 32;

/// Who may call the endpoint's URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointType {
    /// Anyone, without a token.
    Public,
    /// Callers with a Hugging Face token (the API's default).
    #[default]
    Protected,
    /// Same as `Protected` in newer API versions.
    Authenticated,
    /// Only through an AWS/Azure private link.
    Private,
}

/// What the API autoscales on, with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingMeasure {
    /// Percent of CPU/GPU use per replica (`{"hardwareUsage": 80}`).
    HardwareUsage(u32),
    /// Requests waiting per replica (`{"pendingRequests": 4}`): the target concurrency.
    PendingRequests(u32),
}

impl ScalingMeasure {
    fn to_json(self) -> Value {
        match self {
            ScalingMeasure::HardwareUsage(n) => json!({ "hardwareUsage": n }),
            ScalingMeasure::PendingRequests(n) => json!({ "pendingRequests": n }),
        }
    }
}

/// The container an endpoint runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EndpointImage {
    /// Hugging Face's inference toolkit for the model's task (`{"huggingface": {}}`).
    #[default]
    Huggingface,
    /// A custom image (`{"custom": {"url", "health_route"?, "port"?}}`).
    Custom {
        url: String,
        health_route: Option<String>,
        port: Option<u16>,
    },
}

impl EndpointImage {
    fn to_json(&self) -> Value {
        match self {
            EndpointImage::Huggingface => json!({ "huggingface": {} }),
            EndpointImage::Custom {
                url,
                health_route,
                port,
            } => {
                let mut custom = Map::new();
                custom.insert("url".into(), json!(url));
                if let Some(route) = health_route {
                    custom.insert("health_route".into(), json!(route));
                }
                if let Some(port) = port {
                    custom.insert("port".into(), json!(port));
                }
                json!({ "custom": custom })
            }
        }
    }
}

/// Everything `POST /endpoint/{namespace}` needs. [`EndpointSpec::cpu`] fills in a
/// small CPU deployment that scales to zero. `Debug` shows the names of `secrets`, not
/// their values.
#[derive(Clone, PartialEq, Eq)]
pub struct EndpointSpec {
    /// User or organization that owns (and pays for) the endpoint.
    pub namespace: String,
    /// 1 to 32 of `[a-z0-9-]`, not starting or ending with `-`; unique in the namespace.
    pub name: String,
    /// Model repo id on the Hub.
    pub repository: String,
    /// Commit sha or branch; `None` is the default branch.
    pub revision: Option<String>,
    /// `pytorch` (the default), `custom`, …
    pub framework: String,
    /// Pipeline task, e.g. `sentence-embeddings`, `feature-extraction`, `text-classification`.
    pub task: String,
    /// `cpu` or `gpu`.
    pub accelerator: String,
    /// Cloud vendor: `aws`, `azure`, `gcp`.
    pub vendor: String,
    /// Vendor region, e.g. `us-east-1`.
    pub region: String,
    /// e.g. `intel-spr` (CPU), `nvidia-t4`, `nvidia-a10g`.
    pub instance_type: String,
    /// e.g. `x1`, `x2`, `x4`.
    pub instance_size: String,
    /// 0 allows scale-to-zero.
    pub min_replica: u32,
    pub max_replica: u32,
    /// Idle minutes before scaling to zero; used only when `min_replica` is 0
    /// ([`DEFAULT_SCALE_TO_ZERO_MINUTES`] if `None`).
    pub scale_to_zero_timeout: Option<u32>,
    pub measure: Option<ScalingMeasure>,
    pub endpoint_type: EndpointType,
    pub image: EndpointImage,
    /// Environment variables of the container.
    pub env: BTreeMap<String, String>,
    /// Secret environment variables (write-only on the API side).
    pub secrets: BTreeMap<String, String>,
}

impl EndpointSpec {
    /// A protected CPU endpoint on AWS `us-east-1` (`intel-spr`, `x2`), 0 to 1 replica,
    /// scaling to zero after 15 idle minutes, with Hugging Face's inference image.
    pub fn cpu(namespace: &str, name: &str, repository: &str, task: &str) -> Self {
        EndpointSpec {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            repository: repository.to_owned(),
            revision: None,
            framework: "pytorch".to_owned(),
            task: task.to_owned(),
            accelerator: "cpu".to_owned(),
            vendor: "aws".to_owned(),
            region: "us-east-1".to_owned(),
            instance_type: "intel-spr".to_owned(),
            instance_size: "x2".to_owned(),
            min_replica: 0,
            max_replica: 1,
            scale_to_zero_timeout: Some(DEFAULT_SCALE_TO_ZERO_MINUTES),
            measure: None,
            endpoint_type: EndpointType::Protected,
            image: EndpointImage::Huggingface,
            env: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    /// The create payload in the API's shape; checks the spec first.
    pub fn to_payload(&self) -> Result<Value, HubError> {
        validate_namespace(&self.namespace)?;
        validate_endpoint_name(&self.name)?;
        validate_repo_id(&self.repository)?;
        validate_replicas(self.min_replica, self.max_replica)?;
        for (what, value) in [
            ("framework", &self.framework),
            ("task", &self.task),
            ("accelerator", &self.accelerator),
            ("vendor", &self.vendor),
            ("region", &self.region),
            ("instance_type", &self.instance_type),
            ("instance_size", &self.instance_size),
        ] {
            if value.trim().is_empty() {
                return Err(HubError::InvalidArgument(format!("{what} is empty")));
            }
        }
        if let EndpointImage::Custom { url, .. } = &self.image
            && url.trim().is_empty()
        {
            return Err(HubError::InvalidArgument(
                "custom image url is empty".to_owned(),
            ));
        }

        let mut scaling = Map::new();
        scaling.insert("minReplica".into(), json!(self.min_replica));
        scaling.insert("maxReplica".into(), json!(self.max_replica));
        if self.min_replica == 0 {
            let minutes = self
                .scale_to_zero_timeout
                .unwrap_or(DEFAULT_SCALE_TO_ZERO_MINUTES);
            scaling.insert("scaleToZeroTimeout".into(), json!(minutes));
        }
        if let Some(measure) = self.measure {
            scaling.insert("measure".into(), measure.to_json());
        }

        let mut model = Map::new();
        model.insert("repository".into(), json!(self.repository));
        if let Some(revision) = self.revision.as_deref().filter(|r| !r.is_empty()) {
            model.insert("revision".into(), json!(revision));
        }
        model.insert("framework".into(), json!(self.framework));
        model.insert("task".into(), json!(self.task));
        model.insert("image".into(), self.image.to_json());
        if !self.env.is_empty() {
            model.insert("env".into(), json!(self.env));
        }
        if !self.secrets.is_empty() {
            model.insert("secrets".into(), json!(self.secrets));
        }

        Ok(json!({
            "name": self.name,
            "type": self.endpoint_type,
            "compute": {
                "accelerator": self.accelerator,
                "instanceType": self.instance_type,
                "instanceSize": self.instance_size,
                "scaling": scaling,
            },
            "model": model,
            "provider": { "vendor": self.vendor, "region": self.region },
        }))
    }
}

/// A change of a running endpoint: only the fields set are sent (`PUT` merges them).
/// `Debug` shows the names of `secrets`, not their values.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct EndpointUpdate {
    pub repository: Option<String>,
    pub revision: Option<String>,
    pub framework: Option<String>,
    pub task: Option<String>,
    pub image: Option<EndpointImage>,
    /// Replaces the whole environment.
    pub env: Option<BTreeMap<String, String>>,
    pub secrets: Option<BTreeMap<String, String>>,
    pub accelerator: Option<String>,
    pub instance_type: Option<String>,
    pub instance_size: Option<String>,
    pub min_replica: Option<u32>,
    pub max_replica: Option<u32>,
    /// Minutes.
    pub scale_to_zero_timeout: Option<u32>,
    pub measure: Option<ScalingMeasure>,
}

impl fmt::Debug for EndpointSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointSpec")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("repository", &self.repository)
            .field("revision", &self.revision)
            .field("framework", &self.framework)
            .field("task", &self.task)
            .field("accelerator", &self.accelerator)
            .field("vendor", &self.vendor)
            .field("region", &self.region)
            .field("instance_type", &self.instance_type)
            .field("instance_size", &self.instance_size)
            .field("min_replica", &self.min_replica)
            .field("max_replica", &self.max_replica)
            .field("scale_to_zero_timeout", &self.scale_to_zero_timeout)
            .field("measure", &self.measure)
            .field("endpoint_type", &self.endpoint_type)
            .field("image", &self.image)
            .field("env", &self.env)
            .field("secrets", &secret_names(&self.secrets))
            .finish()
    }
}

impl fmt::Debug for EndpointUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointUpdate")
            .field("repository", &self.repository)
            .field("revision", &self.revision)
            .field("framework", &self.framework)
            .field("task", &self.task)
            .field("image", &self.image)
            .field("env", &self.env)
            .field("secrets", &self.secrets.as_ref().map(secret_names))
            .field("accelerator", &self.accelerator)
            .field("instance_type", &self.instance_type)
            .field("instance_size", &self.instance_size)
            .field("min_replica", &self.min_replica)
            .field("max_replica", &self.max_replica)
            .field("scale_to_zero_timeout", &self.scale_to_zero_timeout)
            .field("measure", &self.measure)
            .finish()
    }
}

/// The names of secrets, for `Debug`.
pub(crate) fn secret_names(secrets: &BTreeMap<String, String>) -> Vec<&str> {
    secrets.keys().map(String::as_str).collect()
}

impl EndpointUpdate {
    /// The `PUT` payload; refuses an update that changes nothing.
    pub fn to_payload(&self) -> Result<Value, HubError> {
        if let Some(repository) = &self.repository {
            validate_repo_id(repository)?;
        }
        if let (Some(min), Some(max)) = (self.min_replica, self.max_replica) {
            validate_replicas(min, max)?;
        } else if self.max_replica == Some(0) {
            return Err(HubError::InvalidArgument(
                "max_replica must be at least 1".to_owned(),
            ));
        }
        let mut model = Map::new();
        let strings = [
            ("repository", &self.repository),
            ("revision", &self.revision),
            ("framework", &self.framework),
            ("task", &self.task),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                model.insert(key.into(), json!(value));
            }
        }
        if let Some(image) = &self.image {
            model.insert("image".into(), image.to_json());
        }
        if let Some(env) = &self.env {
            model.insert("env".into(), json!(env));
        }
        if let Some(secrets) = &self.secrets {
            model.insert("secrets".into(), json!(secrets));
        }

        let mut compute = Map::new();
        let strings = [
            ("accelerator", &self.accelerator),
            ("instanceType", &self.instance_type),
            ("instanceSize", &self.instance_size),
        ];
        for (key, value) in strings {
            if let Some(value) = value {
                compute.insert(key.into(), json!(value));
            }
        }
        let mut scaling = Map::new();
        if let Some(n) = self.min_replica {
            scaling.insert("minReplica".into(), json!(n));
        }
        if let Some(n) = self.max_replica {
            scaling.insert("maxReplica".into(), json!(n));
        }
        if let Some(n) = self.scale_to_zero_timeout {
            scaling.insert("scaleToZeroTimeout".into(), json!(n));
        }
        if let Some(measure) = self.measure {
            scaling.insert("measure".into(), measure.to_json());
        }
        if !scaling.is_empty() {
            compute.insert("scaling".into(), Value::Object(scaling));
        }

        let mut payload = Map::new();
        if !compute.is_empty() {
            payload.insert("compute".into(), Value::Object(compute));
        }
        if !model.is_empty() {
            payload.insert("model".into(), Value::Object(model));
        }
        if payload.is_empty() {
            return Err(HubError::InvalidArgument(
                "an endpoint update must change something".to_owned(),
            ));
        }
        Ok(Value::Object(payload))
    }
}

/// `status.state` of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EndpointState {
    Pending,
    Initializing,
    Updating,
    UpdateFailed,
    Running,
    Paused,
    Failed,
    ScaledToZero,
    /// A state this client does not know yet, as the API wrote it.
    Unknown(String),
}

impl EndpointState {
    /// Reads the API's spelling (`scaledToZero`, …).
    pub fn parse(state: &str) -> Self {
        match state {
            "pending" => EndpointState::Pending,
            "initializing" => EndpointState::Initializing,
            "updating" => EndpointState::Updating,
            "updateFailed" => EndpointState::UpdateFailed,
            "running" => EndpointState::Running,
            "paused" => EndpointState::Paused,
            "failed" => EndpointState::Failed,
            "scaledToZero" => EndpointState::ScaledToZero,
            other => EndpointState::Unknown(other.to_owned()),
        }
    }

    /// The API's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            EndpointState::Pending => "pending",
            EndpointState::Initializing => "initializing",
            EndpointState::Updating => "updating",
            EndpointState::UpdateFailed => "updateFailed",
            EndpointState::Running => "running",
            EndpointState::Paused => "paused",
            EndpointState::Failed => "failed",
            EndpointState::ScaledToZero => "scaledToZero",
            EndpointState::Unknown(s) => s,
        }
    }

    /// `failed` or `updateFailed`: a person (or a retry) must act.
    pub fn is_failed(&self) -> bool {
        matches!(self, EndpointState::Failed | EndpointState::UpdateFailed)
    }

    /// On its way somewhere (`pending`, `initializing`, `updating`): poll again.
    pub fn is_transitional(&self) -> bool {
        matches!(
            self,
            EndpointState::Pending | EndpointState::Initializing | EndpointState::Updating
        )
    }

    /// Serving requests now (`running`), or on the next request (`scaledToZero`).
    pub fn is_available(&self) -> bool {
        matches!(self, EndpointState::Running | EndpointState::ScaledToZero)
    }
}

impl fmt::Display for EndpointState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EndpointState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EndpointState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(EndpointState::parse(&s))
    }
}

/// The `status` object of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointStatus {
    pub state: EndpointState,
    /// The API's explanation (why it failed, what it waits for).
    pub message: Option<String>,
    /// Where to send inference requests, once deployed.
    pub url: Option<String>,
    pub ready_replicas: Option<u32>,
    pub target_replicas: Option<u32>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// An endpoint as the API describes it. `raw` keeps the whole JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub name: String,
    pub endpoint_type: Option<String>,
    pub repository: String,
    pub revision: Option<String>,
    pub framework: Option<String>,
    pub task: Option<String>,
    pub accelerator: Option<String>,
    pub instance_type: Option<String>,
    pub instance_size: Option<String>,
    pub vendor: Option<String>,
    pub region: Option<String>,
    pub min_replica: Option<u32>,
    pub max_replica: Option<u32>,
    /// Minutes.
    pub scale_to_zero_timeout: Option<u32>,
    pub env: BTreeMap<String, String>,
    pub health_route: Option<String>,
    pub status: EndpointStatus,
    pub raw: Value,
}

impl Endpoint {
    fn from_json(raw: Value) -> Result<Self, HubError> {
        let wire: WireEndpoint = serde_json::from_value(raw.clone())
            .map_err(|e| HubError::Malformed(format!("endpoint: {e}")))?;
        let model = wire.model.unwrap_or_default();
        let compute = wire.compute.unwrap_or_default();
        let scaling = compute.scaling.unwrap_or_default();
        let provider = wire.provider.unwrap_or_default();
        let status = wire.status;
        Ok(Endpoint {
            name: wire.name,
            endpoint_type: wire.kind,
            repository: model.repository.unwrap_or_default(),
            revision: model.revision,
            framework: model.framework,
            task: model.task,
            accelerator: compute.accelerator,
            instance_type: compute.instance_type,
            instance_size: compute.instance_size,
            vendor: provider.vendor,
            region: provider.region,
            min_replica: scaling.min_replica,
            max_replica: scaling.max_replica,
            scale_to_zero_timeout: scaling.scale_to_zero_timeout,
            env: model.env.unwrap_or_default(),
            health_route: wire.health_route,
            status: EndpointStatus {
                state: status.state,
                message: status
                    .message
                    .or(status.error_message)
                    .filter(|m| !m.trim().is_empty()),
                url: status.url.filter(|u| !u.is_empty()),
                ready_replicas: status.ready_replica,
                target_replicas: status.target_replica,
                created_at: status.created_at,
                updated_at: status.updated_at,
            },
            raw,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEndpoint {
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    model: Option<WireModel>,
    compute: Option<WireCompute>,
    provider: Option<WireProvider>,
    status: WireStatus,
    health_route: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireModel {
    repository: Option<String>,
    revision: Option<String>,
    framework: Option<String>,
    task: Option<String>,
    env: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireCompute {
    accelerator: Option<String>,
    instance_type: Option<String>,
    instance_size: Option<String>,
    scaling: Option<WireScaling>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireScaling {
    min_replica: Option<u32>,
    max_replica: Option<u32>,
    scale_to_zero_timeout: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireProvider {
    vendor: Option<String>,
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireStatus {
    state: EndpointState,
    message: Option<String>,
    error_message: Option<String>,
    url: Option<String>,
    ready_replica: Option<u32>,
    target_replica: Option<u32>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct WireList {
    items: Vec<Value>,
}

/// Client of the Inference Endpoints API. Cheap to clone; `Debug` never shows the token.
///
/// Errors: no token → [`HubError::MissingToken`]; a refused token →
/// [`HubError::TokenRejected`]; unknown endpoint → [`HubError::NotFound`]; name taken →
/// [`HubError::Conflict`]; a refused spec → [`HubError::Invalid`] with the API's
/// message; 429 → retried after `Retry-After`, then [`HubError::RateLimited`]; API down →
/// retried, then [`HubError::Upstream`] (5xx), [`HubError::Timeout`] or
/// [`HubError::Network`] ([`HubError::is_upstream_down`]).
///
/// Reads, updates, state changes and deletes are retried on network errors, timeouts,
/// 429 and 5xx. Create is retried only when the API cannot have acted on it (429, 503,
/// connection refused); after another failure a later create may answer
/// [`HubError::Conflict`] because the first one did succeed: [`EndpointsClient::get`]
/// tells.
#[derive(Debug, Clone)]
pub struct EndpointsClient {
    api: HubClient,
}

impl EndpointsClient {
    /// A client of the API at `api_base` ([`DEFAULT_ENDPOINTS_API`] for Hugging Face),
    /// with the token, timeout, retries and user agent of `config` (its `endpoint` is not
    /// used). The token is sent only to `api_base`'s origin.
    pub fn new(config: &HubConfig, api_base: &str) -> Result<Self, HubError> {
        let api = HubClient::new(HubConfig {
            endpoint: api_base.to_owned(),
            ..config.clone()
        })?;
        Ok(EndpointsClient { api })
    }

    /// The API base URL.
    pub fn api_base(&self) -> &str {
        self.api.endpoint()
    }

    /// Whether a token is configured (every call of this API needs one).
    pub fn is_authenticated(&self) -> bool {
        self.api.is_authenticated()
    }

    /// `POST /endpoint/{namespace}`: creates the endpoint (it starts `pending`).
    pub async fn create(&self, spec: &EndpointSpec) -> Result<Endpoint, HubError> {
        let payload = spec.to_payload()?;
        let url = self.api.url(&["endpoint", &spec.namespace]);
        self.call(Method::POST, url, Some(Body::json(&payload)?), false)
            .await
            .and_then(endpoint_from)
    }

    /// `GET /endpoint/{namespace}/{name}`.
    pub async fn get(&self, namespace: &str, name: &str) -> Result<Endpoint, HubError> {
        let url = self.endpoint_url(namespace, name, None)?;
        self.call(Method::GET, url, None, true)
            .await
            .and_then(endpoint_from)
    }

    /// The endpoint's status: state, message and URL (one `GET`).
    pub async fn status(&self, namespace: &str, name: &str) -> Result<EndpointStatus, HubError> {
        Ok(self.get(namespace, name).await?.status)
    }

    /// `GET /endpoint/{namespace}`: every endpoint of the namespace.
    pub async fn list(&self, namespace: &str) -> Result<Vec<Endpoint>, HubError> {
        validate_namespace(namespace)?;
        let url = self.api.url(&["endpoint", namespace]);
        let fetched = self.call(Method::GET, url, None, true).await?;
        let list: WireList = fetched.json("endpoint list")?;
        list.items.into_iter().map(Endpoint::from_json).collect()
    }

    /// `PUT /endpoint/{namespace}/{name}` with the fields of `update` (model revision,
    /// scaling, instance…); the endpoint goes `updating`.
    pub async fn update(
        &self,
        namespace: &str,
        name: &str,
        update: &EndpointUpdate,
    ) -> Result<Endpoint, HubError> {
        let payload = update.to_payload()?;
        let url = self.endpoint_url(namespace, name, None)?;
        self.call(Method::PUT, url, Some(Body::json(&payload)?), true)
            .await
            .and_then(endpoint_from)
    }

    /// `POST …/pause`: stops every replica until [`EndpointsClient::resume`]; not billed.
    pub async fn pause(&self, namespace: &str, name: &str) -> Result<Endpoint, HubError> {
        self.action(namespace, name, "pause").await
    }

    /// `POST …/resume`. Resuming an endpoint that already runs is not an error: its
    /// current description is returned.
    pub async fn resume(&self, namespace: &str, name: &str) -> Result<Endpoint, HubError> {
        match self.action(namespace, name, "resume").await {
            Err(HubError::Invalid { message, .. } | HubError::Conflict { message })
                if message.to_ascii_lowercase().contains("already running") =>
            {
                self.get(namespace, name).await
            }
            other => other,
        }
    }

    /// `POST …/scale-to-zero`: stops the replicas now; the next request wakes it.
    pub async fn scale_to_zero(&self, namespace: &str, name: &str) -> Result<Endpoint, HubError> {
        self.action(namespace, name, "scale-to-zero").await
    }

    /// `DELETE /endpoint/{namespace}/{name}`. `Ok(false)` if it did not exist.
    pub async fn delete(&self, namespace: &str, name: &str) -> Result<bool, HubError> {
        let url = self.endpoint_url(namespace, name, None)?;
        match self.call(Method::DELETE, url, None, true).await {
            Ok(_) => Ok(true),
            Err(HubError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn action(&self, namespace: &str, name: &str, what: &str) -> Result<Endpoint, HubError> {
        let url = self.endpoint_url(namespace, name, Some(what))?;
        self.call(Method::POST, url, None, true)
            .await
            .and_then(endpoint_from)
    }

    fn endpoint_url(
        &self,
        namespace: &str,
        name: &str,
        action: Option<&str>,
    ) -> Result<url::Url, HubError> {
        validate_namespace(namespace)?;
        validate_endpoint_name(name)?;
        let mut segments = vec!["endpoint", namespace, name];
        segments.extend(action);
        Ok(self.api.url(&segments))
    }

    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<Body>,
        idempotent: bool,
    ) -> Result<Fetched, HubError> {
        self.api
            .send(Call {
                method,
                url,
                body,
                idempotent,
                mode: ErrorMode::Manage,
            })
            .await
    }
}

fn endpoint_from(fetched: Fetched) -> Result<Endpoint, HubError> {
    Endpoint::from_json(fetched.json("endpoint")?)
}

/// An endpoint name the API accepts: 1 to 32 of `[a-z0-9-]`, not starting or ending with
/// `-` (it becomes part of a host name).
pub fn validate_endpoint_name(name: &str) -> Result<(), HubError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_ENDPOINT_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(HubError::InvalidArgument(format!(
            "endpoint name {:?}: 1 to {MAX_ENDPOINT_NAME_LEN} lowercase letters, digits or `-`, not starting or ending with `-`",
            name.chars().take(64).collect::<String>()
        )))
    }
}

fn validate_namespace(namespace: &str) -> Result<(), HubError> {
    if namespace.contains('/') {
        return Err(HubError::InvalidArgument(format!(
            "namespace {:?} is a user or organization name, without `/`",
            namespace.chars().take(64).collect::<String>()
        )));
    }
    validate_repo_id(namespace).map_err(|_| {
        HubError::InvalidArgument(format!(
            "namespace {:?} is not a valid user or organization name",
            namespace.chars().take(64).collect::<String>()
        ))
    })
}

fn validate_replicas(min: u32, max: u32) -> Result<(), HubError> {
    if max == 0 {
        return Err(HubError::InvalidArgument(
            "max_replica must be at least 1".to_owned(),
        ));
    }
    if min > max {
        return Err(HubError::InvalidArgument(format!(
            "min_replica ({min}) is larger than max_replica ({max})"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_in_api_spelling() {
        for s in [
            "pending",
            "initializing",
            "updating",
            "updateFailed",
            "running",
            "paused",
            "failed",
            "scaledToZero",
            "somethingNew",
        ] {
            let state = EndpointState::parse(s);
            assert_eq!(state.as_str(), s);
            assert_eq!(serde_json::to_value(&state).unwrap(), json!(s));
        }
        assert_eq!(
            EndpointState::parse("somethingNew"),
            EndpointState::Unknown("somethingNew".into())
        );
        assert!(EndpointState::UpdateFailed.is_failed());
        assert!(EndpointState::Initializing.is_transitional());
        assert!(EndpointState::ScaledToZero.is_available());
        assert!(!EndpointState::Paused.is_available());
    }

    #[test]
    fn endpoint_names() {
        for ok in ["a", "minilm-prod", "x1", &"a".repeat(32)] {
            assert_eq!(validate_endpoint_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "Upper",
            "a_b",
            "a.b",
            "a/b",
            &"a".repeat(33),
        ] {
            assert!(validate_endpoint_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cpu_spec_payload_has_the_api_shape() {
        let mut spec = EndpointSpec::cpu(
            "acme",
            "minilm",
            "sentence-transformers/all-MiniLM-L6-v2",
            "sentence-embeddings",
        );
        spec.revision = Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf".into());
        spec.measure = Some(ScalingMeasure::PendingRequests(4));
        spec.env.insert("MAX_BATCH".into(), "32".into());
        let payload = spec.to_payload().unwrap();
        assert_eq!(
            payload,
            json!({
                "name": "minilm",
                "type": "protected",
                "compute": {
                    "accelerator": "cpu",
                    "instanceType": "intel-spr",
                    "instanceSize": "x2",
                    "scaling": {
                        "minReplica": 0,
                        "maxReplica": 1,
                        "scaleToZeroTimeout": 15,
                        "measure": {"pendingRequests": 4}
                    }
                },
                "model": {
                    "repository": "sentence-transformers/all-MiniLM-L6-v2",
                    "revision": "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
                    "framework": "pytorch",
                    "task": "sentence-embeddings",
                    "image": {"huggingface": {}},
                    "env": {"MAX_BATCH": "32"}
                },
                "provider": {"vendor": "aws", "region": "us-east-1"}
            })
        );
    }

    #[test]
    fn scale_to_zero_timeout_only_with_a_zero_minimum() {
        let mut spec = EndpointSpec::cpu("acme", "e", "a/b", "feature-extraction");
        spec.min_replica = 1;
        spec.max_replica = 3;
        let payload = spec.to_payload().unwrap();
        assert!(
            payload["compute"]["scaling"]
                .get("scaleToZeroTimeout")
                .is_none()
        );
        spec.min_replica = 0;
        spec.scale_to_zero_timeout = None;
        let payload = spec.to_payload().unwrap();
        assert_eq!(payload["compute"]["scaling"]["scaleToZeroTimeout"], 15);
    }

    #[test]
    fn custom_images() {
        let mut spec = EndpointSpec::cpu("acme", "e", "a/b", "text-generation");
        spec.image = EndpointImage::Custom {
            url: "ghcr.io/huggingface/text-generation-inference:3.0".into(),
            health_route: Some("/health".into()),
            port: Some(80),
        };
        let payload = spec.to_payload().unwrap();
        assert_eq!(
            payload["model"]["image"],
            json!({"custom": {"url": "ghcr.io/huggingface/text-generation-inference:3.0", "health_route": "/health", "port": 80}})
        );
    }

    #[test]
    fn invalid_specs_are_refused_before_sending() {
        let good = EndpointSpec::cpu("acme", "e", "a/b", "feature-extraction");
        type Change = Box<dyn Fn(&mut EndpointSpec)>;
        let cases: Vec<(&str, Change)> = vec![
            ("namespace", Box::new(|s| s.namespace = "a/b".into())),
            ("name", Box::new(|s| s.name = "Bad_Name".into())),
            ("repository", Box::new(|s| s.repository = "../x".into())),
            ("replicas", Box::new(|s| s.min_replica = 2)),
            ("max", Box::new(|s| s.max_replica = 0)),
            ("task", Box::new(|s| s.task = " ".into())),
            (
                "image",
                Box::new(|s| {
                    s.image = EndpointImage::Custom {
                        url: String::new(),
                        health_route: None,
                        port: None,
                    }
                }),
            ),
        ];
        for (what, change) in cases {
            let mut spec = good.clone();
            change(&mut spec);
            assert!(spec.to_payload().is_err(), "{what}");
        }
    }

    #[test]
    fn debug_hides_secret_values() {
        let mut spec = EndpointSpec::cpu("acme", "e", "a/b", "feature-extraction");
        spec.secrets.insert("API_KEY".into(), "s3cret-value".into());
        let update = EndpointUpdate {
            secrets: Some(spec.secrets.clone()),
            ..EndpointUpdate::default()
        };
        for shown in [format!("{spec:?}"), format!("{update:?}")] {
            assert!(shown.contains("API_KEY"), "{shown}");
            assert!(!shown.contains("s3cret-value"), "{shown}");
        }
    }

    #[test]
    fn updates_send_only_what_changes() {
        let update = EndpointUpdate {
            revision: Some("abc".into()),
            min_replica: Some(1),
            max_replica: Some(4),
            instance_size: Some("x4".into()),
            ..EndpointUpdate::default()
        };
        assert_eq!(
            update.to_payload().unwrap(),
            json!({
                "compute": {"instanceSize": "x4", "scaling": {"minReplica": 1, "maxReplica": 4}},
                "model": {"revision": "abc"}
            })
        );
        assert!(EndpointUpdate::default().to_payload().is_err());
        let bad = EndpointUpdate {
            min_replica: Some(5),
            max_replica: Some(1),
            ..EndpointUpdate::default()
        };
        assert!(bad.to_payload().is_err());
    }
}
