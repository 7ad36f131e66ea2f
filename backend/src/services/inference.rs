//! Inference on a deployment in the Hugging Face task format (`{"inputs", "parameters"}`).
//!
//! Local deployments run in-process on the runtime: a model scaled to zero (or not loaded
//! in this process yet, e.g. after a restart) is loaded by the call. Validation happens
//! before any model work: a 422 lists every field error.

use std::io::Write;
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;
use hfb_runtime::{EmbedOptions, RuntimeError, Truncation};
use hfb_shared::ErrorCode;
use hfb_shared::deployments::TargetKind;
use hfb_store::{Deployment, DesiredState};
use reqwest::header::{self, HeaderMap};
use serde_json::Value;

use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::error::ApiError;
use crate::error::UpstreamTrace;
use crate::services::deployments::set_status;
use crate::services::tasks;
use crate::services::upstream::{self, UpstreamRequest};
use crate::services::validation::Validator;
use crate::services::vectors::{self, Scanned};
use crate::state::AppState;

pub use crate::services::tasks::{MAX_INPUT_CHARS, MAX_INPUTS};

/// A request body as JSON (400 `invalid_json` when it is not), for the inference routes
/// that read their body as bytes.
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// A call's body: parsed for the checks, with the bytes the caller sent when there are
/// any. A remote deployment receives those bytes unchanged, so the hot path does not
/// serialize the body a second time.
pub struct CallBody {
    pub json: Value,
    raw: Option<Bytes>,
}

impl CallBody {
    /// Parses a body as the caller sent it (400 `invalid_json` when it is not JSON).
    pub fn parse(raw: Bytes) -> Result<Self, ApiError> {
        let json = parse_json(&raw)?;
        Ok(Self {
            json,
            raw: Some(raw),
        })
    }

    /// A body hfb built itself (batch items, the OpenAI routes).
    pub fn new(json: Value) -> Self {
        Self { json, raw: None }
    }
}

/// A call's answer.
pub enum Answer {
    /// Made by hfb (the local runtime).
    Json(Value),
    /// A remote deployment's answer exactly as it arrived (checked to be `value`), sent on
    /// as is.
    Raw { bytes: Bytes, value: Value },
    /// A remote feature-extraction answer, checked on its bytes without converting a
    /// number (see [`vectors`]); sent on as is.
    Vectors { bytes: Bytes, scanned: Scanned },
}

impl Answer {
    /// The answer as a JSON value (a vectors answer is parsed here, once).
    pub fn into_value(self) -> Result<Value, ApiError> {
        match self {
            Answer::Json(value) | Answer::Raw { value, .. } => Ok(value),
            Answer::Vectors { bytes, .. } => {
                serde_json::from_slice(&bytes).map_err(ApiError::internal)
            }
        }
    }
}

/// What a call answered, with what the response headers report.
pub struct InferOutcome {
    pub answer: Answer,
    pub truncated: usize,
    pub tokens: usize,
    /// The model had to be loaded for this call (cold start).
    pub cold_start: bool,
    /// Remote targets: attempts made and the upstream's status.
    pub upstream: Option<UpstreamTrace>,
}

impl InferOutcome {
    /// `X-Hfb-*` headers describing the call.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = match &self.upstream {
            Some(trace) => trace.headers(),
            None => vec![
                (
                    HeaderName::from_static("x-hfb-tokens"),
                    HeaderValue::from(self.tokens),
                ),
                (
                    HeaderName::from_static("x-hfb-truncated"),
                    HeaderValue::from(self.truncated),
                ),
            ],
        };
        h.push((
            HeaderName::from_static("x-hfb-cold-start"),
            HeaderValue::from_static(if self.cold_start { "true" } else { "false" }),
        ));
        h
    }
}

pub(crate) fn truncation(body: &Value) -> Truncation {
    match body["parameters"].get("truncate") {
        Some(Value::Bool(false)) => Truncation::Refuse,
        _ => Truncation::Truncate,
    }
}

/// The strings of validated text inputs (one string or a list).
fn texts(inputs: &Value) -> Vec<String> {
    match inputs {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The deployment, if it is in the caller's team and can answer calls.
pub(crate) async fn callable(
    state: &AppState,
    who: &Principal,
    id: &str,
) -> Result<Arc<Deployment>, ApiError> {
    who.require(Action::CallInference)?;
    let d = match state.hot.deployments.get(id) {
        Some(d) => Some(d),
        None => {
            let d = state.store.deployment_by_id(id).await?.map(Arc::new);
            if let Some(d) = &d {
                state.hot.deployments.put(id.to_owned(), Arc::clone(d));
            }
            d
        }
    }
    .filter(|d| d.team_id == who.team_id)
    .ok_or_else(|| ApiError::not_found("no deployment with this id in your team"))?;
    if d.desired != DesiredState::Running || d.observed_version.is_none() {
        let why = match d.desired {
            DesiredState::Paused => "it is paused; resume it first".to_owned(),
            DesiredState::Deleted => "it is being deleted".to_owned(),
            DesiredState::Running => format!("it is not running yet (status {})", d.status),
        };
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("deployment {} cannot take calls: {why}", d.name),
        )
        .with_details(serde_json::json!({ "status": d.status })));
    }
    Ok(d)
}

pub(crate) fn runtime_error(e: RuntimeError) -> ApiError {
    match e {
        RuntimeError::InputTooLong { index, tokens, max_tokens } => ApiError::new(
            ErrorCode::ValidationFailed,
            format!("inputs[{index}] is {tokens} tokens long; the model takes at most {max_tokens} (send parameters.truncate=true to cut it)"),
        )
        .with_details(serde_json::json!({ "fields": [{ "field": format!("inputs[{index}]"), "message": format!("longer than {max_tokens} tokens") }] })),
        RuntimeError::TooManyInputs { count, max } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("{count} inputs in one call; at most {max}"),
        ),
        RuntimeError::Overloaded { .. } => {
            ApiError::unavailable("the model is busy; retry shortly").with_retry_after(1)
        }
        RuntimeError::Unloaded => {
            ApiError::unavailable("the model was unloaded during the call; retry").with_retry_after(1)
        }
        other => {
            tracing::error!(error = %other, "local inference failed");
            ApiError::new(ErrorCode::UpstreamError, format!("the model failed: {other}"))
        }
    }
}

/// `POST /api/v1/deployments/{id}/infer`.
pub async fn infer(
    state: &AppState,
    who: &Principal,
    id: &str,
    body: CallBody,
) -> Result<InferOutcome, ApiError> {
    let d = callable(state, who, id).await?;
    run(state, &d, body, None).await
}

/// The team's running deployment of `model_id` (the Hugging Face-compatible routes name a
/// model, not a deployment): a `running` one first, else one scaled to zero.
pub async fn deployment_for_model(
    state: &AppState,
    who: &Principal,
    model_id: &str,
) -> Result<Arc<Deployment>, ApiError> {
    who.require(Action::CallInference)?;
    let team = match state.hot.team_deployments.get(&who.team_id) {
        Some(team) => team,
        None => {
            let team: Arc<[Arc<Deployment>]> = state
                .store
                .deployments_for_team(&who.team_id)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect();
            state
                .hot
                .team_deployments
                .put(who.team_id.clone(), Arc::clone(&team));
            team
        }
    };
    team.iter()
        .filter(|d| {
            (d.model_id.eq_ignore_ascii_case(model_id) || d.name == model_id || d.id == model_id)
                && d.desired == DesiredState::Running
                && d.observed_version.is_some()
        })
        // The first `running` one, else the first (scaled to zero, say): on a tie
        // `min_by_key` keeps the first.
        .min_by_key(|d| d.status != "running")
        .map(Arc::clone)
        .ok_or_else(|| {
        ApiError::not_found(format!(
            "no running deployment of {model_id} in your team; deploy it first (POST /api/v1/deployments)"
        ))
    })
}

/// The task a call runs: `forced` by the route, else the deployment's. Sentence-transformers
/// models answer both embedding tasks, told apart by the input shape (as the Hugging Face
/// Inference API does for them).
pub fn task_of(d: &Deployment, body: &Value, forced: Option<&str>) -> String {
    let object_inputs = body.get("inputs").is_some_and(Value::is_object);
    match forced.unwrap_or(d.task.as_str()) {
        "feature-extraction" | "sentence-similarity" if forced.is_none() && object_inputs => {
            "sentence-similarity".to_owned()
        }
        "feature-extraction" | "sentence-similarity" if forced.is_none() => {
            "feature-extraction".to_owned()
        }
        other => other.to_owned(),
    }
}

/// Runs `body` on a deployment; `task` forces a task (the `/pipeline/{task}/...` route).
/// The request is checked for the task before any model or upstream work.
pub async fn run(
    state: &AppState,
    d: &Deployment,
    body: CallBody,
    task: Option<&str>,
) -> Result<InferOutcome, ApiError> {
    let task = task_of(d, &body.json, task);
    let mut v = Validator::default();
    tasks::check_request(&mut v, &task, &body.json, MAX_INPUTS);
    v.finish()?;
    if TargetKind::parse(&d.target) == Some(TargetKind::Local) {
        // Boxed, so a remote call's future does not carry the size of model loading.
        Box::pin(run_local(state, d, &task, &body.json)).await
    } else {
        run_remote(state, d, &task, body).await
    }
}

async fn run_local(
    state: &AppState,
    d: &Deployment,
    task: &str,
    body: &Value,
) -> Result<InferOutcome, ApiError> {
    let inputs = &body["inputs"];
    let truncation = truncation(body);
    match task {
        "feature-extraction" => {
            let single = inputs.is_string();
            let normalize = body["parameters"].get("normalize").and_then(Value::as_bool);
            let (model, cold_start) = model_for(state, d).await?;
            let out = model
                .embed(
                    texts(inputs),
                    EmbedOptions {
                        normalize,
                        truncation,
                    },
                )
                .await
                .map_err(runtime_error)?;
            let tokens = out.total_tokens();
            let body = if single {
                serde_json::to_value(out.vectors.into_iter().next().unwrap_or_default())
            } else {
                serde_json::to_value(out.vectors)
            }
            .map_err(ApiError::internal)?;
            Ok(InferOutcome {
                answer: Answer::Json(body),
                truncated: out.truncated,
                tokens,
                cold_start,
                upstream: None,
            })
        }
        "sentence-similarity" => {
            let source = inputs["source_sentence"].as_str().unwrap_or_default();
            let (model, cold_start) = model_for(state, d).await?;
            let out = model
                .similarity(source.to_owned(), texts(&inputs["sentences"]), truncation)
                .await
                .map_err(runtime_error)?;
            let body = serde_json::to_value(out.scores).map_err(ApiError::internal)?;
            Ok(InferOutcome {
                answer: Answer::Json(body),
                truncated: out.truncated,
                tokens: out.total_tokens,
                cold_start,
                upstream: None,
            })
        }
        other => Err(local_cannot_serve(other)),
    }
}

/// The 422 for a task the built-in runtime does not run.
pub(crate) fn local_cannot_serve(task: &str) -> ApiError {
    ApiError::new(
        ErrorCode::ValidationFailed,
        format!(
            "the local runtime cannot serve {task}; it serves feature-extraction and sentence-similarity"
        ),
    )
}

/// Where a remote deployment takes calls, with the headers that authenticate hfb there.
pub(crate) async fn upstream_request(
    state: &AppState,
    d: &Deployment,
    path: &str,
    body: Bytes,
) -> Result<UpstreamRequest, ApiError> {
    let base = d.endpoint_url.as_deref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Conflict,
            format!("deployment {} has no endpoint URL yet", d.name),
        )
    })?;
    let joined;
    let url = if path.is_empty() {
        base
    } else {
        joined = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        &joined
    };
    let (url, uri) = state.upstreams.parse_url(url)?;
    let mut headers = HeaderMap::with_capacity(4);
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCEPT,
        header::HeaderValue::from_static("application/json"),
    );
    match TargetKind::parse(&d.target) {
        Some(TargetKind::HfEndpoint | TargetKind::HfSpace) => {
            let token = state.upstreams.hf_authorization().ok_or_else(|| {
                ApiError::unavailable(
                    "this server has no HUGGING_FACE_API_KEY to call the deployment with",
                )
            })?;
            headers.insert(header::AUTHORIZATION, token.clone());
        }
        // Boxed: the AWS SDK's futures are large, and awaiting them inline would make the
        // future of every inference call that large (it is moved, so copied, on each call).
        Some(TargetKind::AwsLambda) => {
            Box::pin(sign_for_lambda(state, &url, &mut headers, &body)).await?;
        }
        _ => {}
    }
    Ok(UpstreamRequest {
        deployment_id: d.id.clone(),
        url,
        uri,
        headers,
        body,
        stream: false,
    })
}

/// Adds the SigV4 headers of an AWS Lambda function URL call to `headers`.
async fn sign_for_lambda(
    state: &AppState,
    url: &reqwest::Url,
    headers: &mut HeaderMap,
    body: &Bytes,
) -> Result<(), ApiError> {
    let signer = state
        .lambda_signer
        .get_or_init(|| async {
            hfb_cloud::FunctionUrlSigner::connect(&hfb_cloud::LambdaSettings {
                region: Some(state.settings.aws_region.clone()),
                endpoint: None,
            })
            .await
        })
        .await;
    let plain: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let signed = signer
        .sign_post(url.as_str(), &plain, body)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "signing the function URL call failed");
            ApiError::unavailable(format!("the call could not be signed for AWS: {e}"))
        })?;
    for (name, value) in signed {
        let name = header::HeaderName::from_bytes(name.as_bytes());
        let value = header::HeaderValue::from_str(&value);
        if let (Ok(name), Ok(value)) = (name, value) {
            headers.insert(name, value);
        }
    }
    Ok(())
}

async fn run_remote(
    state: &AppState,
    d: &Deployment,
    task: &str,
    body: CallBody,
) -> Result<InferOutcome, ApiError> {
    let bytes = match body.raw {
        Some(raw) => raw,
        None => serde_json::to_vec(&body.json)
            .map_err(ApiError::internal)?
            .into(),
    };
    let request = upstream_request(state, d, "", bytes).await?;
    let answer = state.upstreams.call_raw(&request).await?;
    // Embeddings: the shape read off the bytes when it is right; anything else (and every
    // other task) is parsed, which also says precisely what is wrong.
    if task == "feature-extraction"
        && let Some(scanned) = vectors::scan(&answer.raw)
        && tasks::embeddings_fit(&body.json, &scanned)
    {
        answer.permit.succeeded(answer.trace);
        return Ok(remote_outcome(
            Answer::Vectors {
                bytes: answer.raw,
                scanned,
            },
            answer.trace,
        ));
    }
    let upstream::JsonAnswer {
        value,
        raw,
        trace,
        permit,
    } = answer.json()?;
    if let Err(why) = tasks::check_response(task, &body.json, &value) {
        tracing::warn!(deployment = %d.id, task, why, "upstream answered the wrong shape");
        permit.failed(trace, "invalid_response", true);
        return Err(upstream::invalid_response(format!(
            "the deployment answered something that is not a {task} response: {why}"
        ))
        .with_upstream(trace));
    }
    permit.succeeded(trace);
    Ok(remote_outcome(Answer::Raw { bytes: raw, value }, trace))
}

fn remote_outcome(answer: Answer, trace: UpstreamTrace) -> InferOutcome {
    InferOutcome {
        answer,
        truncated: 0,
        tokens: 0,
        cold_start: false,
        upstream: Some(trace),
    }
}

/// The deployment's model, loading it when it was scaled to zero (the status follows).
pub(crate) async fn model_for(
    state: &AppState,
    d: &Deployment,
) -> Result<(std::sync::Arc<hfb_runtime::LocalModel>, bool), ApiError> {
    let slot = state.local.slot_for(d).map_err(ApiError::internal)?;
    let cold_start = slot.loaded().is_none();
    let model = slot.get().await.map_err(|e| {
        tracing::error!(deployment = %d.id, error = %e, "loading the model failed");
        ApiError::unavailable(format!("the model could not be loaded: {e}"))
    })?;
    if cold_start && d.status != "running" {
        set_status(state, &d.id, "running", "loaded again by a call").await;
    }
    Ok((model, cold_start))
}

/// `POST /v1/embeddings` (OpenAI): `model` names a deployment (name or id) or a model id
/// with a running deployment in the team; `input` is a string or a list of strings.
pub async fn openai_embeddings(
    state: &AppState,
    who: &Principal,
    body: &Value,
) -> Result<(Bytes, Vec<(HeaderName, HeaderValue)>), ApiError> {
    let mut v = Validator::default();
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if model.is_empty() {
        v.error("model", "must name a deployment or a deployed model");
    }
    let input = body.get("input").cloned().unwrap_or(Value::Null);
    if !(input.is_string() || input.is_array()) {
        v.error("input", "must be a string or an array of strings");
    }
    match body.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => {}
        Some(other) => v.error(
            "encoding_format",
            format!("`{other}` is not supported; use float"),
        ),
    }
    v.finish()?;
    let d = deployment_for_model(state, who, model).await?;
    let inputs = if input.is_string() {
        Value::Array(vec![input])
    } else {
        input
    };
    let out = run(
        state,
        &d,
        CallBody::new(serde_json::json!({ "inputs": inputs })),
        Some("feature-extraction"),
    )
    .await?;
    let headers = out.headers();
    Ok((openai_embeddings_answer(out, model)?, headers))
}

/// The OpenAI embeddings list of a feature-extraction answer to a list of inputs. A
/// remote answer's vectors are copied as they arrived, never converted.
fn openai_embeddings_answer(out: InferOutcome, model: &str) -> Result<Bytes, ApiError> {
    let mut json = Vec::with_capacity(256);
    json.extend_from_slice(br#"{"object":"list","data":["#);
    let mut item = |index: usize, embedding: &[u8]| {
        if index > 0 {
            json.push(b',');
        }
        let _ = write!(
            json,
            r#"{{"object":"embedding","index":{index},"embedding":"#
        );
        json.extend_from_slice(embedding);
        json.push(b'}');
    };
    match out.answer {
        Answer::Vectors { bytes, scanned } => {
            for (index, (_, range)) in scanned.items.into_iter().enumerate() {
                item(index, &bytes[range]);
            }
        }
        answer => {
            if let Value::Array(vectors) = answer.into_value()? {
                for (index, vector) in vectors.iter().enumerate() {
                    item(
                        index,
                        &serde_json::to_vec(vector).map_err(ApiError::internal)?,
                    );
                }
            }
        }
    }
    json.extend_from_slice(br#"],"model":"#);
    serde_json::to_writer(&mut json, model).map_err(ApiError::internal)?;
    let tokens = out.tokens;
    let _ = write!(
        json,
        r#","usage":{{"prompt_tokens":{tokens},"total_tokens":{tokens}}}}}"#
    );
    Ok(json.into())
}

/// `GET /v1/models` (OpenAI): the team's running deployments, by name and by model id.
pub async fn openai_models(state: &AppState, who: &Principal) -> Result<Value, ApiError> {
    who.require(Action::CallInference)?;
    let deployments = state.store.deployments_for_team(&who.team_id).await?;
    let mut data = Vec::new();
    for d in deployments
        .iter()
        .filter(|d| d.desired == DesiredState::Running && d.observed_version.is_some())
    {
        for id in [&d.name, &d.model_id] {
            if !data.iter().any(|m: &Value| m["id"] == id.as_str()) {
                data.push(serde_json::json!({
                    "id": id,
                    "object": "model",
                    "created": d.created_at.timestamp(),
                    "owned_by": d.team_id,
                }));
            }
        }
    }
    Ok(serde_json::json!({ "object": "list", "data": data }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every inference call's future is moved (copied) as actix boxes it: it must not
    /// carry the size of rarely used branches. Awaiting the Lambda signer inline once
    /// made it 12.5 KB here instead of 1.5 KB, and cost 13,000 instructions per call.
    #[tokio::test]
    async fn inference_futures_stay_small() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().display().to_string();
        let settings = crate::config::Settings::from_lookup(|k| match k {
            "HFB_BIND" => Some("127.0.0.1:0".to_owned()),
            "HFB_DATA_DIR" => Some(data_dir.clone()),
            _ => None,
        })
        .unwrap();
        let app = crate::startup::Application::build(settings).await.unwrap();
        let state = app.state();
        let who = Principal::for_tests("team");
        let d = Deployment {
            id: "d".into(),
            team_id: "team".into(),
            name: "n".into(),
            model_id: "m".into(),
            target: "hf-endpoint".into(),
            task: "text-classification".into(),
            spec: Value::Null,
            current_version: 1,
            desired: DesiredState::Running,
            generation: 1,
            observed_generation: 1,
            observed_version: Some(1),
            status: "running".into(),
            status_message: None,
            target_state: Value::Null,
            endpoint_url: Some("http://127.0.0.1:9/".into()),
            attempts: 0,
            next_attempt_at: None,
            lease_holder: None,
            lease_until: None,
            idempotency_key: None,
            request_hash: None,
            created_by: "u".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let body = || CallBody::new(serde_json::json!({ "inputs": "x" }));
        let sizes = [
            (
                "infer",
                std::mem::size_of_val(&infer(state, &who, "d", body())),
            ),
            ("run", std::mem::size_of_val(&run(state, &d, body(), None))),
            (
                "openai_embeddings",
                std::mem::size_of_val(&openai_embeddings(state, &who, &Value::Null)),
            ),
        ];
        for (name, size) in sizes {
            assert!(size < 4096, "the future of {name} is {size} bytes");
        }
    }
}
