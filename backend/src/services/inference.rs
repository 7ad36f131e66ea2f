//! Inference on a deployment in the Hugging Face task format (`{"inputs", "parameters"}`).
//!
//! Local deployments run in-process on the runtime: a model scaled to zero (or not loaded
//! in this process yet, e.g. after a restart) is loaded by the call. Validation happens
//! before any model work: a 422 lists every field error.

use hfb_runtime::{EmbedOptions, RuntimeError, Truncation};
use hfb_shared::ErrorCode;
use hfb_shared::deployments::TargetKind;
use hfb_store::{Deployment, DesiredState};
use serde_json::Value;

use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::error::ApiError;
use crate::services::deployments::set_status;
use crate::services::validation::Validator;
use crate::state::AppState;

/// Most inputs in one call.
pub const MAX_INPUTS: usize = 256;
/// Longest input, in characters (the model truncates tokens beyond its maximum anyway).
pub const MAX_INPUT_CHARS: usize = 20_000;

/// What a call answered, with what the response headers report.
pub struct InferOutcome {
    pub body: Value,
    pub truncated: usize,
    pub tokens: usize,
    /// The model had to be loaded for this call (cold start).
    pub cold_start: bool,
}

fn string_list(v: &mut Validator, field: &str, value: &Value) -> Vec<String> {
    let Some(items) = value.as_array() else {
        v.error(field, "must be an array of strings");
        return Vec::new();
    };
    if items.is_empty() {
        v.error(field, "must not be empty");
    }
    if items.len() > MAX_INPUTS {
        v.error(
            field,
            format!("at most {MAX_INPUTS} items (got {})", items.len()),
        );
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| text(v, &format!("{field}[{i}]"), item))
        .collect()
}

fn text(v: &mut Validator, field: &str, value: &Value) -> Option<String> {
    match value.as_str() {
        Some(s) if s.trim().is_empty() => {
            v.error(field, "must be a non-empty string");
            None
        }
        Some(s) if s.chars().count() > MAX_INPUT_CHARS => {
            v.error(
                field,
                format!("must be at most {MAX_INPUT_CHARS} characters"),
            );
            None
        }
        Some(s) => Some(s.to_owned()),
        None => {
            v.error(field, "must be a non-empty string");
            None
        }
    }
}

fn truncation(v: &mut Validator, parameters: &Value) -> Truncation {
    match parameters.get("truncate") {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Truncation::Truncate,
        Some(Value::Bool(false)) => Truncation::Refuse,
        Some(_) => {
            v.error("parameters.truncate", "must be true or false");
            Truncation::Truncate
        }
    }
}

fn parameters_of(v: &mut Validator, body: &Value) -> Value {
    match body.get("parameters") {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => {
            v.error("parameters", "must be an object");
            Value::Object(serde_json::Map::new())
        }
    }
}

/// The deployment, if it is in the caller's team and can answer calls.
async fn callable(state: &AppState, who: &Principal, id: &str) -> Result<Deployment, ApiError> {
    who.require(Action::CallInference)?;
    let d = state
        .store
        .deployment_by_id(id)
        .await?
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

fn runtime_error(e: RuntimeError) -> ApiError {
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
    body: Value,
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
) -> Result<Deployment, ApiError> {
    who.require(Action::CallInference)?;
    let mut candidates: Vec<Deployment> = state
        .store
        .deployments_for_team(&who.team_id)
        .await?
        .into_iter()
        .filter(|d| {
            (d.model_id.eq_ignore_ascii_case(model_id) || d.name == model_id || d.id == model_id)
                && d.desired == DesiredState::Running
                && d.observed_version.is_some()
        })
        .collect();
    candidates.sort_by_key(|d| d.status != "running");
    candidates.into_iter().next().ok_or_else(|| {
        ApiError::not_found(format!(
            "no running deployment of {model_id} in your team; deploy it first (POST /api/v1/deployments)"
        ))
    })
}

/// Runs `body` on a deployment; `task` forces a task (the `/pipeline/{task}/...` route).
pub async fn run(
    state: &AppState,
    d: &Deployment,
    body: Value,
    task: Option<&str>,
) -> Result<InferOutcome, ApiError> {
    let d = d.clone();
    if TargetKind::parse(&d.target) != Some(TargetKind::Local) {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "calls through hfb to {} deployments are not available yet; call its endpoint URL directly",
                d.target
            ),
        ));
    }
    if !body.is_object() {
        let mut v = Validator::default();
        v.error("body", "must be a JSON object with `inputs`");
        v.finish()?;
    }
    let mut v = Validator::default();
    let parameters = parameters_of(&mut v, &body);
    let truncation = truncation(&mut v, &parameters);
    let inputs = body.get("inputs").unwrap_or(&Value::Null);
    // Sentence-transformers models answer both embedding tasks, told apart by the input
    // shape (as the Hugging Face Inference API does for them).
    let task = match task.unwrap_or(d.task.as_str()) {
        "feature-extraction" | "sentence-similarity" if task.is_none() && inputs.is_object() => {
            "sentence-similarity"
        }
        "feature-extraction" | "sentence-similarity" if task.is_none() => "feature-extraction",
        other => other,
    };
    if !crate::targets::EMBEDDING_TASKS.contains(&task) {
        return Err(ApiError::new(
            ErrorCode::ValidationFailed,
            format!(
                "the local runtime cannot serve {task}; it serves feature-extraction and sentence-similarity"
            ),
        ));
    }
    match task {
        "feature-extraction" => {
            let single = inputs.is_string();
            let texts = if single {
                text(&mut v, "inputs", inputs).into_iter().collect()
            } else {
                string_list(&mut v, "inputs", inputs)
            };
            let normalize = match parameters.get("normalize") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => {
                    v.error("parameters.normalize", "must be true or false");
                    None
                }
            };
            v.finish()?;
            let (model, cold_start) = model_for(state, &d).await?;
            let out = model
                .embed(
                    texts,
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
                body,
                truncated: out.truncated,
                tokens,
                cold_start,
            })
        }
        "sentence-similarity" => {
            if !inputs.is_object() {
                v.error(
                    "inputs",
                    "must be an object with source_sentence and sentences",
                );
            }
            let source = text(
                &mut v,
                "inputs.source_sentence",
                inputs.get("source_sentence").unwrap_or(&Value::Null),
            );
            let sentences = string_list(
                &mut v,
                "inputs.sentences",
                inputs.get("sentences").unwrap_or(&Value::Null),
            );
            v.finish()?;
            let (model, cold_start) = model_for(state, &d).await?;
            let out = model
                .similarity(source.unwrap_or_default(), sentences, truncation)
                .await
                .map_err(runtime_error)?;
            let body = serde_json::to_value(out.scores).map_err(ApiError::internal)?;
            Ok(InferOutcome {
                body,
                truncated: out.truncated,
                tokens: out.total_tokens,
                cold_start,
            })
        }
        other => Err(ApiError::new(
            ErrorCode::Conflict,
            format!("the local runtime cannot serve {other}"),
        )),
    }
}

/// The deployment's model, loading it when it was scaled to zero (the status follows).
async fn model_for(
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
) -> Result<Value, ApiError> {
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
        serde_json::json!({ "inputs": inputs }),
        Some("feature-extraction"),
    )
    .await?;
    let vectors = out.body.as_array().cloned().unwrap_or_default();
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, embedding)| {
            serde_json::json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    Ok(serde_json::json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": out.tokens, "total_tokens": out.tokens },
    }))
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
