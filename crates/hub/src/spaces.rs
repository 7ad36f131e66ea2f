//! Client of Hugging Face Spaces (the Hub's app hosting) and the inference app it deploys.
//!
//! A Space is a repository of type `space`: [`SpacesClient::create`] makes it
//! (`POST /api/repos/create`), [`SpacesClient::commit`] writes its files through the commit
//! API (`POST /api/spaces/{id}/preupload/{rev}` then the NDJSON
//! `POST /api/spaces/{id}/commit/{rev}`, base64 content, regular uploads only), and the
//! runtime calls set its hardware and sleep time and report its stage
//! (`BUILDING → APP_STARTING → RUNNING`, or `BUILD_ERROR`/`RUNTIME_ERROR` with a message).
//!
//! [`generate_space`] writes the files of a small inference app for a model and task:
//! `README.md` (Space front matter), `app.py` (FastAPI route in the Hugging Face task JSON
//! shape, plus a Gradio page to try it) and a pinned `requirements.txt`.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::client::{Body, Call, ErrorMode, Fetched};
use crate::endpoints::secret_names;
use crate::{HubClient, HubError, validate_repo_id};

/// Largest file [`SpacesClient::commit`] sends inline; larger ones need Git LFS, which
/// this client does not do.
pub const MAX_COMMIT_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Bytes of each file sent as the preupload `sample`.
const PREUPLOAD_SAMPLE_BYTES: usize = 512;
/// The Hub's limit on `short_description`.
const MAX_SHORT_DESCRIPTION_CHARS: usize = 60;
const MAX_TITLE_CHARS: usize = 30;

/// Gradio version of generated Spaces (`sdk_version` in README.md; pinned again in
/// requirements.txt).
pub const GRADIO_VERSION: &str = "5.49.1";
/// Python of generated Spaces (`python_version` in README.md).
pub const SPACE_PYTHON_VERSION: &str = "3.11";
/// Pins of generated Spaces. They resolve together with gradio 5.49.1 on Python 3.11
/// (checked with `pip install --dry-run`).
const PIN_FASTAPI: &str = "fastapi==0.118.0";
const PIN_UVICORN: &str = "uvicorn==0.37.0";
const PIN_SENTENCE_TRANSFORMERS: &str = "sentence-transformers==5.1.2";
const PIN_TRANSFORMERS: &str = "transformers==4.57.1";
const PIN_TORCH: &str = "torch==2.8.0";

/// How a Space is built and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceSdk {
    Gradio,
    Streamlit,
    Docker,
    Static,
}

/// `POST /api/repos/create` for a Space. `Debug` shows the names of `secrets`, not their
/// values.
#[derive(Clone, PartialEq, Eq)]
pub struct SpaceSpec {
    /// `owner/name`.
    pub repo_id: String,
    pub sdk: SpaceSdk,
    pub private: bool,
    /// Hardware flavor, e.g. `cpu-basic` (free), `cpu-upgrade`, `t4-small`.
    pub hardware: Option<String>,
    /// Idle seconds before the Space sleeps (upgraded hardware only).
    pub sleep_time_seconds: Option<u64>,
    /// Secret environment variables of the app.
    pub secrets: BTreeMap<String, String>,
    /// Public environment variables of the app.
    pub variables: BTreeMap<String, String>,
}

impl fmt::Debug for SpaceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpaceSpec")
            .field("repo_id", &self.repo_id)
            .field("sdk", &self.sdk)
            .field("private", &self.private)
            .field("hardware", &self.hardware)
            .field("sleep_time_seconds", &self.sleep_time_seconds)
            .field("secrets", &secret_names(&self.secrets))
            .field("variables", &self.variables)
            .finish()
    }
}

impl SpaceSpec {
    /// A private Gradio Space on free `cpu-basic` hardware.
    pub fn gradio(repo_id: &str) -> Self {
        SpaceSpec {
            repo_id: repo_id.to_owned(),
            sdk: SpaceSdk::Gradio,
            private: true,
            hardware: Some("cpu-basic".to_owned()),
            sleep_time_seconds: None,
            secrets: BTreeMap::new(),
            variables: BTreeMap::new(),
        }
    }

    /// The create payload in the Hub's shape; checks the repo id first.
    pub fn to_payload(&self) -> Result<Value, HubError> {
        let (owner, name) = split_space_id(&self.repo_id)?;
        let mut payload = json!({
            "name": name,
            "organization": owner,
            "type": "space",
            "private": self.private,
            "sdk": self.sdk,
        });
        if let Some(hardware) = self.hardware.as_deref().filter(|h| !h.is_empty()) {
            payload["hardware"] = json!(hardware);
        }
        if let Some(seconds) = self.sleep_time_seconds {
            payload["sleepTimeSeconds"] = json!(seconds);
        }
        let pairs = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect::<Vec<_>>()
        };
        if !self.secrets.is_empty() {
            payload["secrets"] = json!(pairs(&self.secrets));
        }
        if !self.variables.is_empty() {
            payload["variables"] = json!(pairs(&self.variables));
        }
        Ok(payload)
    }
}

/// One change of a commit.
#[derive(Clone, PartialEq, Eq)]
pub enum CommitOperation {
    /// Create or replace a file (at most [`MAX_COMMIT_FILE_BYTES`]).
    Add { path: String, content: Vec<u8> },
    /// Remove a file.
    Delete { path: String },
}

impl fmt::Debug for CommitOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitOperation::Add { path, content } => f
                .debug_struct("Add")
                .field("path", path)
                .field("bytes", &content.len())
                .finish(),
            CommitOperation::Delete { path } => {
                f.debug_struct("Delete").field("path", path).finish()
            }
        }
    }
}

impl CommitOperation {
    fn path(&self) -> &str {
        match self {
            CommitOperation::Add { path, .. } | CommitOperation::Delete { path } => path,
        }
    }
}

/// The commit the Hub made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Commit sha.
    pub oid: String,
    pub url: Option<String>,
}

/// `stage` of a Space's runtime.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpaceStage {
    NoAppFile,
    ConfigError,
    Building,
    BuildError,
    AppStarting,
    Running,
    RunningBuilding,
    RunningAppStarting,
    RuntimeError,
    Paused,
    Stopped,
    Sleeping,
    Deleting,
    /// A stage this client does not know yet, as the Hub wrote it.
    Unknown(String),
}

impl SpaceStage {
    /// Reads the Hub's spelling (`BUILD_ERROR`, …).
    pub fn parse(stage: &str) -> Self {
        match stage {
            "NO_APP_FILE" => SpaceStage::NoAppFile,
            "CONFIG_ERROR" => SpaceStage::ConfigError,
            "BUILDING" => SpaceStage::Building,
            "BUILD_ERROR" => SpaceStage::BuildError,
            "APP_STARTING" => SpaceStage::AppStarting,
            "RUNNING" => SpaceStage::Running,
            "RUNNING_BUILDING" => SpaceStage::RunningBuilding,
            "RUNNING_APP_STARTING" => SpaceStage::RunningAppStarting,
            "RUNTIME_ERROR" => SpaceStage::RuntimeError,
            "PAUSED" => SpaceStage::Paused,
            "STOPPED" => SpaceStage::Stopped,
            "SLEEPING" => SpaceStage::Sleeping,
            "DELETING" => SpaceStage::Deleting,
            other => SpaceStage::Unknown(other.to_owned()),
        }
    }

    /// The Hub's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            SpaceStage::NoAppFile => "NO_APP_FILE",
            SpaceStage::ConfigError => "CONFIG_ERROR",
            SpaceStage::Building => "BUILDING",
            SpaceStage::BuildError => "BUILD_ERROR",
            SpaceStage::AppStarting => "APP_STARTING",
            SpaceStage::Running => "RUNNING",
            SpaceStage::RunningBuilding => "RUNNING_BUILDING",
            SpaceStage::RunningAppStarting => "RUNNING_APP_STARTING",
            SpaceStage::RuntimeError => "RUNTIME_ERROR",
            SpaceStage::Paused => "PAUSED",
            SpaceStage::Stopped => "STOPPED",
            SpaceStage::Sleeping => "SLEEPING",
            SpaceStage::Deleting => "DELETING",
            SpaceStage::Unknown(s) => s,
        }
    }

    /// The app cannot run until its files or settings change.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            SpaceStage::NoAppFile
                | SpaceStage::ConfigError
                | SpaceStage::BuildError
                | SpaceStage::RuntimeError
        )
    }

    /// Serving requests (possibly while a new version builds).
    pub fn is_running(&self) -> bool {
        matches!(
            self,
            SpaceStage::Running | SpaceStage::RunningBuilding | SpaceStage::RunningAppStarting
        )
    }

    /// Building or starting the first version: poll again.
    pub fn is_transitional(&self) -> bool {
        matches!(self, SpaceStage::Building | SpaceStage::AppStarting)
    }
}

impl fmt::Display for SpaceStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SpaceStage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpaceStage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(SpaceStage::parse(&s))
    }
}

/// `GET /api/spaces/{id}/runtime`. `raw` keeps the whole JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceRuntime {
    pub stage: SpaceStage,
    /// Hardware flavor in use (none while stopped).
    pub hardware: Option<String>,
    /// Hardware flavor asked for (differs from `hardware` while it changes).
    pub requested_hardware: Option<String>,
    /// Idle seconds before sleeping (`gcTimeout`); `None` or negative: never.
    pub sleep_time_seconds: Option<i64>,
    /// Why the build or the app failed.
    pub error_message: Option<String>,
    /// Host names serving the app, e.g. `owner-name.hf.space`.
    pub domains: Vec<String>,
    /// Commit the runtime runs.
    pub sha: Option<String>,
    pub raw: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRuntime {
    stage: SpaceStage,
    hardware: Option<WireHardware>,
    gc_timeout: Option<i64>,
    error_message: Option<String>,
    message: Option<String>,
    domains: Option<Vec<WireDomain>>,
    sha: Option<String>,
}

#[derive(Deserialize)]
struct WireHardware {
    current: Option<String>,
    requested: Option<String>,
}

#[derive(Deserialize)]
struct WireDomain {
    domain: String,
}

impl SpaceRuntime {
    fn from_json(raw: Value) -> Result<Self, HubError> {
        let wire: WireRuntime = serde_json::from_value(raw.clone())
            .map_err(|e| HubError::Malformed(format!("space runtime: {e}")))?;
        let (hardware, requested_hardware) = wire
            .hardware
            .map(|h| (h.current, h.requested))
            .unwrap_or_default();
        Ok(SpaceRuntime {
            stage: wire.stage,
            hardware,
            requested_hardware,
            sleep_time_seconds: wire.gc_timeout,
            error_message: wire
                .error_message
                .or(wire.message)
                .filter(|m| !m.trim().is_empty()),
            domains: wire
                .domains
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.domain)
                .collect(),
            sha: wire.sha,
            raw,
        })
    }
}

#[derive(Deserialize)]
struct WireCreated {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePreupload {
    files: Vec<WirePreuploadFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePreuploadFile {
    path: String,
    upload_mode: String,
    #[serde(default)]
    should_ignore: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCommit {
    commit_oid: String,
    commit_url: Option<String>,
}

/// Client of the Spaces API on the Hub. Cheap to clone; `Debug` never shows the token.
///
/// Errors are those of [`crate::EndpointsClient`]: [`HubError::MissingToken`],
/// [`HubError::TokenRejected`], [`HubError::NotFound`], [`HubError::Conflict`] (the
/// repository exists), [`HubError::Invalid`], [`HubError::RateLimited`],
/// [`HubError::Upstream`]. Create and commit are retried only when the Hub cannot have
/// acted on them (429, 503, connection refused); the other calls on every transient
/// failure.
#[derive(Debug, Clone)]
pub struct SpacesClient {
    hub: HubClient,
}

impl SpacesClient {
    /// Spaces of the Hub `hub` talks to (its endpoint and token).
    pub fn new(hub: HubClient) -> Self {
        SpacesClient { hub }
    }

    /// Whether a token is configured (every call of this API needs one).
    pub fn is_authenticated(&self) -> bool {
        self.hub.is_authenticated()
    }

    /// Creates the Space repository; answers its URL (`https://huggingface.co/spaces/…`).
    /// [`HubError::Conflict`] if it exists already.
    pub async fn create(&self, spec: &SpaceSpec) -> Result<String, HubError> {
        let payload = spec.to_payload()?;
        let url = self.hub.url(&["api", "repos", "create"]);
        let fetched = self
            .call(Method::POST, url, Some(Body::json(&payload)?), false)
            .await?;
        Ok(fetched.json::<WireCreated>("created repository")?.url)
    }

    /// Commits `operations` to `revision` (default `main`) in one commit: a preupload
    /// check (the Hub must accept every added file as a regular upload), then the NDJSON
    /// commit (a header line, then one line per file with base64 content).
    pub async fn commit(
        &self,
        repo_id: &str,
        revision: Option<&str>,
        summary: &str,
        description: &str,
        operations: &[CommitOperation],
    ) -> Result<CommitInfo, HubError> {
        split_space_id(repo_id)?;
        if summary.trim().is_empty() {
            return Err(HubError::InvalidArgument(
                "a commit needs a summary".to_owned(),
            ));
        }
        if operations.is_empty() {
            return Err(HubError::InvalidArgument(
                "a commit needs at least one operation".to_owned(),
            ));
        }
        for op in operations {
            validate_repo_path(op.path())?;
            if let CommitOperation::Add { path, content } = op
                && content.len() > MAX_COMMIT_FILE_BYTES
            {
                return Err(HubError::InvalidArgument(format!(
                    "{path} is {} bytes; files over {MAX_COMMIT_FILE_BYTES} bytes need Git LFS, which this client does not do",
                    content.len()
                )));
            }
        }
        let revision = revision.filter(|r| !r.is_empty()).unwrap_or("main");
        let (owner, name) = split_space_id(repo_id)?;

        let ignored = self.preupload(owner, name, revision, operations).await?;
        let mut ndjson = line(&json!({
            "key": "header",
            "value": { "summary": summary, "description": description },
        }))?;
        for op in operations {
            match op {
                CommitOperation::Add { path, .. } if ignored.iter().any(|p| p == path) => {}
                CommitOperation::Add { path, content } => ndjson.extend(line(&json!({
                    "key": "file",
                    "value": { "content": BASE64.encode(content), "path": path, "encoding": "base64" },
                }))?),
                CommitOperation::Delete { path } => ndjson.extend(line(&json!({
                    "key": "deletedFile",
                    "value": { "path": path },
                }))?),
            }
        }
        let url = self
            .hub
            .url(&["api", "spaces", owner, name, "commit", revision]);
        let fetched = self
            .call(Method::POST, url, Some(Body::ndjson(ndjson)), false)
            .await?;
        let commit: WireCommit = fetched.json("commit")?;
        Ok(CommitInfo {
            oid: commit.commit_oid,
            url: commit.commit_url,
        })
    }

    /// `POST /api/spaces/{id}/hardware`: asks for a hardware flavor (`cpu-basic`,
    /// `cpu-upgrade`, `t4-small`, …), optionally with a sleep time.
    pub async fn request_hardware(
        &self,
        repo_id: &str,
        flavor: &str,
        sleep_time_seconds: Option<u64>,
    ) -> Result<SpaceRuntime, HubError> {
        if flavor.trim().is_empty() {
            return Err(HubError::InvalidArgument(
                "hardware flavor is empty".to_owned(),
            ));
        }
        let mut payload = json!({ "flavor": flavor });
        if let Some(seconds) = sleep_time_seconds {
            payload["sleepTimeSeconds"] = json!(seconds);
        }
        self.runtime_call(repo_id, Method::POST, Some("hardware"), Some(payload))
            .await
    }

    /// `POST /api/spaces/{id}/sleeptime`: idle seconds before the Space sleeps (-1: never,
    /// upgraded hardware only).
    pub async fn set_sleep_time(
        &self,
        repo_id: &str,
        seconds: i64,
    ) -> Result<SpaceRuntime, HubError> {
        self.runtime_call(
            repo_id,
            Method::POST,
            Some("sleeptime"),
            Some(json!({ "seconds": seconds })),
        )
        .await
    }

    /// `GET /api/spaces/{id}/runtime`: stage, hardware and error message.
    pub async fn runtime(&self, repo_id: &str) -> Result<SpaceRuntime, HubError> {
        self.runtime_call(repo_id, Method::GET, Some("runtime"), None)
            .await
    }

    /// `POST /api/spaces/{id}/pause`: stops the app (and its billing) until restarted.
    pub async fn pause(&self, repo_id: &str) -> Result<SpaceRuntime, HubError> {
        self.runtime_call(repo_id, Method::POST, Some("pause"), None)
            .await
    }

    /// `POST /api/spaces/{id}/restart` (`?factory=true` rebuilds from scratch).
    pub async fn restart(&self, repo_id: &str, factory: bool) -> Result<SpaceRuntime, HubError> {
        let (owner, name) = split_space_id(repo_id)?;
        let mut url = self.hub.url(&["api", "spaces", owner, name, "restart"]);
        if factory {
            url.query_pairs_mut().append_pair("factory", "true");
        }
        let fetched = self.call(Method::POST, url, None, true).await?;
        SpaceRuntime::from_json(fetched.json("space runtime")?)
    }

    /// `DELETE /api/repos/delete`. `Ok(false)` if the Space did not exist.
    pub async fn delete(&self, repo_id: &str) -> Result<bool, HubError> {
        let (owner, name) = split_space_id(repo_id)?;
        let payload = json!({ "name": name, "organization": owner, "type": "space" });
        let url = self.hub.url(&["api", "repos", "delete"]);
        match self
            .call(Method::DELETE, url, Some(Body::json(&payload)?), true)
            .await
        {
            Ok(_) => Ok(true),
            Err(HubError::NotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Asks the Hub how it will take each added file; answers the paths it ignores
    /// (`.gitignore`). A file it wants through LFS is refused.
    async fn preupload(
        &self,
        owner: &str,
        name: &str,
        revision: &str,
        operations: &[CommitOperation],
    ) -> Result<Vec<String>, HubError> {
        let files: Vec<Value> = operations
            .iter()
            .filter_map(|op| match op {
                CommitOperation::Add { path, content } => Some(json!({
                    "path": path,
                    "sample": BASE64.encode(&content[..content.len().min(PREUPLOAD_SAMPLE_BYTES)]),
                    "size": content.len(),
                })),
                CommitOperation::Delete { .. } => None,
            })
            .collect();
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let url = self
            .hub
            .url(&["api", "spaces", owner, name, "preupload", revision]);
        let body = Body::json(&json!({ "files": files }))?;
        let fetched = self.call(Method::POST, url, Some(body), true).await?;
        let answer: WirePreupload = fetched.json("preupload")?;
        let mut ignored = Vec::new();
        for file in answer.files {
            if file.should_ignore {
                tracing::debug!(path = %file.path, "the Hub ignores this file; not committed");
                ignored.push(file.path);
            } else if file.upload_mode != "regular" {
                return Err(HubError::InvalidArgument(format!(
                    "the Hub wants {} uploaded through Git LFS ({}), which this client does not do; nothing was committed",
                    file.path, file.upload_mode
                )));
            }
        }
        Ok(ignored)
    }

    async fn runtime_call(
        &self,
        repo_id: &str,
        method: Method,
        action: Option<&str>,
        payload: Option<Value>,
    ) -> Result<SpaceRuntime, HubError> {
        let (owner, name) = split_space_id(repo_id)?;
        let mut segments = vec!["api", "spaces", owner, name];
        segments.extend(action);
        let url = self.hub.url(&segments);
        let body = payload.map(|p| Body::json(&p)).transpose()?;
        let fetched = self.call(method, url, body, true).await?;
        SpaceRuntime::from_json(fetched.json("space runtime")?)
    }

    async fn call(
        &self,
        method: Method,
        url: url::Url,
        body: Option<Body>,
        idempotent: bool,
    ) -> Result<Fetched, HubError> {
        self.hub
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

fn line(value: &Value) -> Result<Vec<u8>, HubError> {
    let mut bytes = serde_json::to_vec(value)
        .map_err(|e| HubError::InvalidArgument(format!("commit line: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `owner/name` → (`owner`, `name`); a Space always has an owner.
fn split_space_id(repo_id: &str) -> Result<(&str, &str), HubError> {
    validate_repo_id(repo_id)?;
    repo_id
        .split_once('/')
        .ok_or_else(|| HubError::InvalidRepoId(format!("{repo_id:?}: a Space id is `owner/name`")))
}

/// A relative file path inside a repository: no leading `/`, no empty, `.` or `..`
/// segment, no backslash or control character.
fn validate_repo_path(path: &str) -> Result<(), HubError> {
    let bad = path.is_empty()
        || path.len() > 1000
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        return Err(HubError::InvalidArgument(format!(
            "invalid file path in repository: {:?}",
            path.chars().take(100).collect::<String>()
        )));
    }
    Ok(())
}

/// The host a public Space's app is served on by convention (`owner-name.hf.space`,
/// lowercase, `_` and `.` as `-`). [`SpaceRuntime::domains`] is authoritative when set.
pub fn space_host(repo_id: &str) -> Result<String, HubError> {
    split_space_id(repo_id)?;
    let sub: String = repo_id
        .chars()
        .map(|c| match c {
            '/' | '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    Ok(format!("{sub}.hf.space"))
}

// --- the generated inference app -------------------------------------------------------

/// A task the generated Space app serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpaceTask {
    /// sentence-transformers embeddings: a vector per input string.
    FeatureExtraction,
    /// sentence-transformers cosine similarity of `source_sentence` to each of `sentences`.
    SentenceSimilarity,
    /// transformers `text-classification` pipeline: `[{label, score}]`.
    TextClassification,
    /// transformers `text-generation` pipeline: `[{generated_text}]`.
    TextGeneration,
}

impl SpaceTask {
    pub const ALL: [SpaceTask; 4] = [
        SpaceTask::FeatureExtraction,
        SpaceTask::SentenceSimilarity,
        SpaceTask::TextClassification,
        SpaceTask::TextGeneration,
    ];

    /// The Hub's pipeline tag.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceTask::FeatureExtraction => "feature-extraction",
            SpaceTask::SentenceSimilarity => "sentence-similarity",
            SpaceTask::TextClassification => "text-classification",
            SpaceTask::TextGeneration => "text-generation",
        }
    }

    /// From a pipeline tag; `None` for a task the generator does not serve.
    pub fn parse(tag: &str) -> Option<Self> {
        SpaceTask::ALL.into_iter().find(|t| t.as_str() == tag)
    }

    /// The app's inference route, e.g. `/pipeline/feature-extraction`.
    pub fn route(self) -> String {
        format!("/pipeline/{}", self.as_str())
    }

    fn uses_sentence_transformers(self) -> bool {
        matches!(
            self,
            SpaceTask::FeatureExtraction | SpaceTask::SentenceSimilarity
        )
    }
}

impl fmt::Display for SpaceTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceFile {
    pub path: String,
    pub content: String,
}

/// The files of a generated Space app and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedSpace {
    /// The SDK to create the Space with.
    pub sdk: SpaceSdk,
    /// `POST` route of the inference API (on the Space's host).
    pub route: String,
    /// `README.md`, `app.py`, `requirements.txt`.
    pub files: Vec<SpaceFile>,
}

impl GeneratedSpace {
    /// The content of `path`, if generated.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.content.as_str())
    }

    /// The files as commit operations for [`SpacesClient::commit`].
    pub fn operations(&self) -> Vec<CommitOperation> {
        self.files
            .iter()
            .map(|f| CommitOperation::Add {
                path: f.path.clone(),
                content: f.content.clone().into_bytes(),
            })
            .collect()
    }
}

/// Writes a Gradio Space that serves `model_id` (at `revision`, else the default branch)
/// for `task`: `POST {route}` takes the Hugging Face task payload
/// (`{"inputs": …, "parameters": {…}}`) and answers in the task's JSON shape, errors as
/// `400 {"error": …}`; `GET /health` answers once the model is loaded; `/` is a Gradio
/// page to try it.
pub fn generate_space(
    model_id: &str,
    revision: Option<&str>,
    task: SpaceTask,
) -> Result<GeneratedSpace, HubError> {
    validate_repo_id(model_id)?;
    let revision = revision.filter(|r| !r.is_empty());
    if let Some(rev) = revision {
        validate_revision(rev)?;
    }
    let route = task.route();
    let files = vec![
        SpaceFile {
            path: "README.md".to_owned(),
            content: readme(model_id, revision, task, &route),
        },
        SpaceFile {
            path: "app.py".to_owned(),
            content: app_py(model_id, revision, task, &route),
        },
        SpaceFile {
            path: "requirements.txt".to_owned(),
            content: requirements(task),
        },
    ];
    Ok(GeneratedSpace {
        sdk: SpaceSdk::Gradio,
        route,
        files,
    })
}

/// A branch, tag or commit sha: `[A-Za-z0-9._/-]`, no `..`, at most 255 bytes.
fn validate_revision(rev: &str) -> Result<(), HubError> {
    let ok = rev.len() <= 255
        && rev
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && !rev.contains("..")
        && !rev.starts_with('/');
    if ok {
        Ok(())
    } else {
        Err(HubError::InvalidArgument(format!(
            "invalid revision {:?}",
            rev.chars().take(64).collect::<String>()
        )))
    }
}

/// A double-quoted string valid in both YAML and Python (JSON string syntax).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The first `max` characters of `s`, ending in `…` when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn readme(model_id: &str, revision: Option<&str>, task: SpaceTask, route: &str) -> String {
    let model_name = model_id.rsplit('/').next().unwrap_or(model_id);
    let title = clip(model_name, MAX_TITLE_CHARS);
    let short = clip(
        &format!("{task} API for {model_name}"),
        MAX_SHORT_DESCRIPTION_CHARS,
    );
    let example = example_json(task);
    let pinned_revision = revision
        .map(|r| format!(" at revision `{r}`"))
        .unwrap_or_default();
    format!(
        r#"---
title: {title}
emoji: "🤗"
colorFrom: indigo
colorTo: blue
sdk: gradio
sdk_version: {sdk_version}
python_version: {python_version}
app_file: app.py
pinned: false
models:
  - {model}
short_description: {short}
tags:
  - hfb
  - {task_tag}
---

# {model_name}: {task}

Serves [{model_id}](https://huggingface.co/{model_id}){pinned_revision} for `{task}`.
Generated and deployed by hfb.

Call it over HTTP on this Space's URL (add an `Authorization: Bearer <token>` header if
the Space is private):

```sh
curl -X POST "https://<this-space-host>{route}" \
  -H "Content-Type: application/json" \
  -d '{example}'
```

The body is the Hugging Face task payload (`inputs`, optional `parameters`); the answer
has the task's JSON shape and errors answer `400 {{"error": "..."}}`. `GET /health`
answers once the model is loaded, and the page at `/` lets you try it.
"#,
        title = quoted(&title),
        sdk_version = quoted(GRADIO_VERSION),
        python_version = quoted(SPACE_PYTHON_VERSION),
        model = quoted(model_id),
        short = quoted(&short),
        task_tag = quoted(task.as_str()),
    )
}

fn requirements(task: SpaceTask) -> String {
    let mut lines = vec![
        "# Pinned for reproducible builds; gradio matches sdk_version in README.md.".to_owned(),
        format!("gradio=={GRADIO_VERSION}"),
        PIN_FASTAPI.to_owned(),
        PIN_UVICORN.to_owned(),
    ];
    if task.uses_sentence_transformers() {
        lines.push(PIN_SENTENCE_TRANSFORMERS.to_owned());
    }
    lines.push(PIN_TRANSFORMERS.to_owned());
    lines.push(PIN_TORCH.to_owned());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The example request body of the README and the demo page.
fn example_json(task: SpaceTask) -> &'static str {
    match task {
        SpaceTask::FeatureExtraction => {
            r#"{"inputs": ["This is an example sentence", "Each sentence is converted"]}"#
        }
        SpaceTask::SentenceSimilarity => {
            r#"{"inputs": {"source_sentence": "That is a happy person", "sentences": ["That is a happy dog", "That is a very happy person", "Today is a sunny day"]}}"#
        }
        SpaceTask::TextClassification => r#"{"inputs": "I like you. I love you"}"#,
        SpaceTask::TextGeneration => {
            r#"{"inputs": "Once upon a time,", "parameters": {"max_new_tokens": 32}}"#
        }
    }
}

fn app_py(model_id: &str, revision: Option<&str>, task: SpaceTask, route: &str) -> String {
    let (task_import, model_block) = match task {
        SpaceTask::FeatureExtraction => (
            "from sentence_transformers import SentenceTransformer",
            FEATURE_EXTRACTION_PY,
        ),
        SpaceTask::SentenceSimilarity => (
            "from sentence_transformers import SentenceTransformer",
            SENTENCE_SIMILARITY_PY,
        ),
        SpaceTask::TextClassification => {
            ("from transformers import pipeline", TEXT_CLASSIFICATION_PY)
        }
        SpaceTask::TextGeneration => (
            "from transformers import pipeline, set_seed",
            TEXT_GENERATION_PY,
        ),
    };
    APP_PY
        .replace("{{MODEL_ID}}", &quoted(model_id))
        .replace(
            "{{REVISION}}",
            &revision.map_or_else(|| "None".to_owned(), quoted),
        )
        .replace("{{TASK}}", &quoted(task.as_str()))
        .replace("{{ROUTE}}", &quoted(route))
        .replace("{{EXAMPLE}}", &quoted(example_json(task)))
        .replace("{{TASK_IMPORT}}", task_import)
        .replace("{{MODEL_BLOCK}}", model_block.trim())
}

const APP_PY: &str = r#""""Hugging Face task API for one model, generated by hfb.

POST ROUTE takes the task payload ({"inputs": ..., "parameters": {...}}) and answers in
the task's JSON shape (errors: 400 {"error": "..."}); GET /health answers once the model
is loaded; / serves a Gradio page to try it.
"""

import json
import os

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
{{TASK_IMPORT}}

MODEL_ID = {{MODEL_ID}}
REVISION = {{REVISION}}
TASK = {{TASK}}
ROUTE = {{ROUTE}}
EXAMPLE = {{EXAMPLE}}


def strings(value, name="inputs"):
    """A list of strings from a string or a non-empty list of strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    raise ValueError(f"{name} must be a string or a non-empty list of strings")


{{MODEL_BLOCK}}


def handle(payload):
    """Checks the envelope, then runs the task."""
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise ValueError('the body must be a JSON object with "inputs"')
    parameters = payload.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise ValueError('"parameters" must be an object')
    return predict(payload)


api = FastAPI(title=f"{MODEL_ID} ({TASK})")


@api.get("/health")
def health():
    return {"status": "ok", "model": MODEL_ID, "revision": REVISION, "task": TASK}


@api.post(ROUTE)
async def infer(request: Request):
    try:
        payload = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    try:
        result = await run_in_threadpool(handle, payload)
    except (TypeError, ValueError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse(result)


def try_it(body):
    try:
        return handle(json.loads(body))
    except (TypeError, ValueError) as error:
        return {"error": str(error)}


demo = gr.Interface(
    fn=try_it,
    inputs=gr.Code(
        value=json.dumps(json.loads(EXAMPLE), indent=2),
        language="json",
        label=f"POST {ROUTE}",
    ),
    outputs=gr.JSON(label="Response"),
    title=MODEL_ID,
    description=f"{TASK} with {MODEL_ID}. Call it over HTTP: POST {ROUTE} with this body.",
    flagging_mode="never",
)
app = gr.mount_gradio_app(api, demo, path="/")

if __name__ == "__main__":
    uvicorn.run(
        app,
        host=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
"#;

const FEATURE_EXTRACTION_PY: &str = r#"
model = SentenceTransformer(MODEL_ID, revision=REVISION)


def predict(payload):
    """One embedding per input string (a bare vector for a bare string), normalized
    unless "normalize" (top level or in parameters) is false."""
    inputs = payload["inputs"]
    parameters = payload.get("parameters") or {}
    normalize = payload.get("normalize", parameters.get("normalize", True))
    vectors = model.encode(strings(inputs), normalize_embeddings=bool(normalize))
    result = vectors.tolist()
    return result[0] if isinstance(inputs, str) else result

"#;

const SENTENCE_SIMILARITY_PY: &str = r#"
model = SentenceTransformer(MODEL_ID, revision=REVISION)


def predict(payload):
    """Cosine similarity of inputs.source_sentence to each of inputs.sentences."""
    inputs = payload["inputs"]
    if not isinstance(inputs, dict):
        raise ValueError('inputs must be {"source_sentence": ..., "sentences": [...]}')
    source = inputs.get("source_sentence")
    if not isinstance(source, str):
        raise ValueError("inputs.source_sentence must be a string")
    sentences = strings(inputs.get("sentences"), "inputs.sentences")
    vectors = model.encode([source] + sentences, normalize_embeddings=True)
    return (vectors[1:] @ vectors[0]).tolist()

"#;

const TEXT_CLASSIFICATION_PY: &str = r#"
classifier = pipeline("text-classification", model=MODEL_ID, revision=REVISION)


def predict(payload):
    """[{"label", "score"}] by descending score (a list of those for a list of inputs)."""
    inputs = payload["inputs"]
    parameters = payload.get("parameters") or {}
    options = {"top_k": parameters.get("top_k")}
    if options["top_k"] is not None and (not isinstance(options["top_k"], int) or options["top_k"] < 1):
        raise ValueError("parameters.top_k must be a positive integer")
    function = parameters.get("function_to_apply")
    if function is not None:
        if function not in ("sigmoid", "softmax", "none"):
            raise ValueError('parameters.function_to_apply must be "sigmoid", "softmax" or "none"')
        options["function_to_apply"] = function
    results = classifier(strings(inputs), truncation=True, **options)
    return results[0] if isinstance(inputs, str) else results

"#;

const TEXT_GENERATION_PY: &str = r#"
generator = pipeline("text-generation", model=MODEL_ID, revision=REVISION)
MAX_NEW_TOKENS = 512


def predict(payload):
    """[{"generated_text"}] for a prompt; samples when temperature, top_p or top_k is set."""
    inputs = payload["inputs"]
    if not isinstance(inputs, str):
        raise ValueError("inputs must be a string")
    parameters = payload.get("parameters") or {}
    options = {
        "max_new_tokens": min(int(parameters.get("max_new_tokens", 64)), MAX_NEW_TOKENS),
        "return_full_text": bool(parameters.get("return_full_text", False)),
        "do_sample": False,
    }
    temperature = parameters.get("temperature")
    if temperature is not None and float(temperature) > 0:
        options.update(do_sample=True, temperature=float(temperature))
    for key, cast in (("top_p", float), ("top_k", int)):
        if parameters.get(key) is not None:
            options.update(do_sample=True, **{key: cast(parameters[key])})
    if parameters.get("seed") is not None:
        set_seed(int(parameters["seed"]))
    outputs = generator(inputs, **options)
    return [{"generated_text": output["generated_text"]} for output in outputs]

"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_round_trip_in_hub_spelling() {
        for s in [
            "NO_APP_FILE",
            "CONFIG_ERROR",
            "BUILDING",
            "BUILD_ERROR",
            "APP_STARTING",
            "RUNNING",
            "RUNNING_BUILDING",
            "RUNNING_APP_STARTING",
            "RUNTIME_ERROR",
            "PAUSED",
            "STOPPED",
            "SLEEPING",
            "DELETING",
            "SOMETHING_NEW",
        ] {
            let stage = SpaceStage::parse(s);
            assert_eq!(stage.as_str(), s);
            assert_eq!(serde_json::to_value(&stage).unwrap(), json!(s));
        }
        assert_eq!(
            SpaceStage::parse("SOMETHING_NEW"),
            SpaceStage::Unknown("SOMETHING_NEW".into())
        );
        assert!(SpaceStage::BuildError.is_error());
        assert!(SpaceStage::RunningBuilding.is_running());
        assert!(SpaceStage::Building.is_transitional());
        assert!(!SpaceStage::Sleeping.is_running());
    }

    #[test]
    fn create_payload() {
        let mut spec = SpaceSpec::gradio("acme/minilm-api");
        spec.sleep_time_seconds = Some(3600);
        spec.secrets.insert("HF_TOKEN".into(), "hf_x".into());
        spec.variables.insert("MODE".into(), "prod".into());
        assert_eq!(
            spec.to_payload().unwrap(),
            json!({
                "name": "minilm-api",
                "organization": "acme",
                "type": "space",
                "private": true,
                "sdk": "gradio",
                "hardware": "cpu-basic",
                "sleepTimeSeconds": 3600,
                "secrets": [{"key": "HF_TOKEN", "value": "hf_x"}],
                "variables": [{"key": "MODE", "value": "prod"}]
            })
        );
        assert!(!format!("{spec:?}").contains("hf_x"));
        assert!(SpaceSpec::gradio("no-owner").to_payload().is_err());
        assert!(SpaceSpec::gradio("a/b/c").to_payload().is_err());
    }

    #[test]
    fn repo_paths() {
        for ok in ["README.md", "app.py", "src/main.py", ".gitattributes"] {
            assert_eq!(validate_repo_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "./a",
            "a//b",
            "a\\b",
            "a\nb",
        ] {
            assert!(validate_repo_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            space_host("Acme/MiniLM_api.v2").unwrap(),
            "acme-minilm-api-v2.hf.space"
        );
        assert!(space_host("nope").is_err());
    }

    #[test]
    fn commit_operations_debug_hides_content() {
        let op = CommitOperation::Add {
            path: "app.py".into(),
            content: b"secret".to_vec(),
        };
        let shown = format!("{op:?}");
        assert!(shown.contains("app.py") && shown.contains("6"));
        assert!(!shown.contains("secret"));
    }

    #[test]
    fn clip_and_quote() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(quoted("a\"b\\c"), r#""a\"b\\c""#);
    }

    #[test]
    fn tasks() {
        for task in SpaceTask::ALL {
            assert_eq!(SpaceTask::parse(task.as_str()), Some(task));
        }
        assert_eq!(SpaceTask::parse("fill-mask"), None);
        assert_eq!(
            SpaceTask::FeatureExtraction.route(),
            "/pipeline/feature-extraction"
        );
    }

    #[test]
    fn templates_leave_no_placeholder() {
        for task in SpaceTask::ALL {
            let space = generate_space("a/b", Some("main"), task).unwrap();
            for file in &space.files {
                assert!(!file.content.contains("{{"), "{} {task}", file.path);
            }
        }
    }

    #[test]
    fn bad_inputs_are_refused() {
        assert!(generate_space("../x", None, SpaceTask::FeatureExtraction).is_err());
        assert!(generate_space("a/b", Some("x\"y"), SpaceTask::FeatureExtraction).is_err());
        assert!(generate_space("a/b", Some("../x"), SpaceTask::FeatureExtraction).is_err());
    }
}
