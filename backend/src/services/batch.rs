//! `POST /api/v1/deployments/{id}/batch`: many inputs, answered item by item, so one bad
//! item does not fail the others.
//!
//! Each item is checked on its own (its errors name it: `inputs[3]: must be a non-empty
//! string`); `parameters` are shared, so a bad parameter fails the whole call with a 422.
//! On the local runtime the valid items run as real model batches: every text of every
//! item goes through one `embed` call, which the runtime cuts into batches of its
//! `max_batch_size` (similarity scores are then cosines of those embeddings, as the
//! runtime computes them). With `parameters.truncate = false`, an item over the model's
//! length fails alone and the rest run again without it. Remote deployments get one
//! upstream call per item, a few at a time, each with the usual retries and breaker.

use futures_util::StreamExt;
use hfb_runtime::{EmbedOptions, RuntimeError, cosine};
use hfb_shared::deployments::TargetKind;
use hfb_shared::inference::{BatchItem, BatchRequest, BatchResponse};
use hfb_shared::{ErrorCode, ErrorDetail};
use serde_json::{Value, json};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::inference::{
    self, callable, local_cannot_serve, model_for, runtime_error, task_of, truncation,
};
use crate::services::tasks::{self, MAX_INPUTS};
use crate::services::validation::Validator;
use crate::state::AppState;

/// Upstream calls in flight at once for one batch.
const REMOTE_CONCURRENCY: usize = 4;

fn detail(e: &ApiError) -> ErrorDetail {
    e.to_body(None).error
}

/// The error of one invalid item, its fields renamed `inputs[i]...`.
fn item_error(index: usize, e: &ApiError) -> ErrorDetail {
    let rename = |field: &str| match field.strip_prefix("inputs") {
        Some(rest) => format!("inputs[{index}]{rest}"),
        None => field.to_owned(),
    };
    let mut d = detail(e);
    if let Some(fields) = d
        .details
        .as_mut()
        .and_then(|v| v.get_mut("fields"))
        .and_then(Value::as_array_mut)
    {
        for f in fields.iter_mut() {
            if let Some(name) = f["field"].as_str().map(rename) {
                f["field"] = Value::String(name);
            }
        }
        let first = fields.first().map(|f| {
            format!(
                "{}: {}",
                f["field"].as_str().unwrap_or(""),
                f["message"].as_str().unwrap_or("")
            )
        });
        if let Some(first) = first {
            d.message = first;
        }
    }
    d
}

/// Runs a batch on the caller's deployment `id`.
pub async fn run(
    state: &AppState,
    who: &Principal,
    id: &str,
    request: BatchRequest,
) -> Result<BatchResponse, ApiError> {
    let d = callable(state, who, id).await?;
    let max = state.settings.batch_max_items;
    if request.inputs.is_empty() {
        let mut v = Validator::default();
        v.error("inputs", "must not be empty");
        v.finish()?;
    }
    if request.inputs.len() > max {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "{} items in one batch; at most {max} (HFB_BATCH_MAX_ITEMS)",
                request.inputs.len()
            ),
        )
        .with_details(json!({ "max_items": max })));
    }
    let parameters = request.parameters.unwrap_or(Value::Null);
    let bodies: Vec<Value> = request
        .inputs
        .into_iter()
        .map(|inputs| json!({ "inputs": inputs, "parameters": parameters }))
        .collect();
    let task = task_of(&d, &bodies[0], None);

    // Check every item; a parameter problem is everyone's problem.
    let mut results: Vec<Option<Result<Value, ErrorDetail>>> = vec![None; bodies.len()];
    let mut parameter_errors = Validator::default();
    for (i, body) in bodies.iter().enumerate() {
        let mut v = Validator::default();
        // One item may itself be a list for text tasks; a batch item is one input.
        if body["inputs"].is_array() && task != "sentence-similarity" {
            v.error(
                "inputs",
                "must be one input, not a list (each batch item is one input)",
            );
        } else {
            tasks::check_request(&mut v, &task, body, MAX_INPUTS);
        }
        if let Err(e) = v.finish() {
            let fields = e
                .details
                .as_ref()
                .and_then(|d| d["fields"].as_array().cloned())
                .unwrap_or_default();
            let (shared, own): (Vec<Value>, Vec<Value>) = fields.into_iter().partition(|f| {
                f["field"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("parameters"))
            });
            if i == 0 {
                for f in &shared {
                    parameter_errors.error(
                        f["field"].as_str().unwrap_or("parameters"),
                        f["message"].as_str().unwrap_or("is invalid"),
                    );
                }
            }
            if !own.is_empty() {
                let e = e.clone().with_details(json!({ "fields": own }));
                results[i] = Some(Err(item_error(i, &e)));
            }
        }
    }
    parameter_errors.finish()?;

    let pending: Vec<usize> = (0..bodies.len())
        .filter(|i| results[*i].is_none())
        .collect();
    if TargetKind::parse(&d.target) == Some(TargetKind::Local) {
        run_local(state, &d, &task, &bodies, &pending, &mut results).await?;
    } else {
        let answers: Vec<(usize, Result<Value, ApiError>)> = futures_util::stream::iter(pending)
            .map(|i| {
                let body = bodies[i].clone();
                let d = &d;
                async move {
                    (
                        i,
                        inference::run(state, d, inference::CallBody::new(body), None)
                            .await
                            .and_then(|o| o.answer.into_value()),
                    )
                }
            })
            .buffered(REMOTE_CONCURRENCY)
            .collect()
            .await;
        for (i, answer) in answers {
            results[i] = Some(answer.map_err(|e| detail(&e)));
        }
    }

    let results: Vec<BatchItem> = results
        .into_iter()
        .enumerate()
        .map(|(index, r)| match r {
            Some(Ok(output)) => BatchItem {
                index,
                output: Some(output),
                error: None,
            },
            Some(Err(error)) => BatchItem {
                index,
                output: None,
                error: Some(error),
            },
            None => BatchItem {
                index,
                output: None,
                error: Some(detail(&ApiError::internal(
                    "batch item left without an answer",
                ))),
            },
        })
        .collect();
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    Ok(BatchResponse {
        succeeded: results.len() - failed,
        failed,
        results,
    })
}

/// The texts one item sends to the model (similarity: the source first).
fn item_texts(task: &str, inputs: &Value) -> Vec<String> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if task == "sentence-similarity" {
        let mut texts = vec![s(&inputs["source_sentence"])];
        texts.extend(inputs["sentences"].as_array().into_iter().flatten().map(s));
        texts
    } else {
        vec![s(inputs)]
    }
}

async fn run_local(
    state: &AppState,
    d: &hfb_store::Deployment,
    task: &str,
    bodies: &[Value],
    pending: &[usize],
    results: &mut [Option<Result<Value, ErrorDetail>>],
) -> Result<(), ApiError> {
    if !crate::targets::EMBEDDING_TASKS.contains(&task) {
        return Err(local_cannot_serve(task));
    }
    let parameters = &bodies[0]["parameters"];
    let truncation = truncation(&bodies[0]);
    let normalize = if task == "sentence-similarity" {
        Some(true)
    } else {
        parameters.get("normalize").and_then(Value::as_bool)
    };
    let mut todo: Vec<usize> = pending.to_vec();
    let (model, _) = model_for(state, d).await?;
    while !todo.is_empty() {
        // Every text of every remaining item, with the item each belongs to.
        let mut owners = Vec::new();
        let mut texts = Vec::new();
        for &i in &todo {
            for t in item_texts(task, &bodies[i]["inputs"]) {
                owners.push(i);
                texts.push(t);
            }
        }
        match model
            .embed(
                texts,
                EmbedOptions {
                    normalize,
                    truncation,
                },
            )
            .await
        {
            Ok(out) => {
                let mut vectors = out.vectors.into_iter();
                for &i in &todo {
                    let n = item_texts(task, &bodies[i]["inputs"]).len();
                    let mine: Vec<Vec<f32>> = vectors.by_ref().take(n).collect();
                    let output = if task == "sentence-similarity" {
                        let source = mine.first().cloned().unwrap_or_default();
                        json!(
                            mine.iter()
                                .skip(1)
                                .map(|v| cosine(&source, v))
                                .collect::<Vec<f32>>()
                        )
                    } else {
                        json!(mine.into_iter().next().unwrap_or_default())
                    };
                    results[i] = Some(Ok(output));
                }
                return Ok(());
            }
            Err(RuntimeError::InputTooLong {
                index,
                tokens,
                max_tokens,
            }) => {
                let Some(&item) = owners.get(index) else {
                    return Err(ApiError::internal("input index out of range"));
                };
                let e = runtime_error(RuntimeError::InputTooLong {
                    index: 0,
                    tokens,
                    max_tokens,
                });
                let mut error = detail(&e);
                error.message = format!(
                    "inputs[{item}] is {tokens} tokens long; the model takes at most {max_tokens} (send parameters.truncate=true to cut it)"
                );
                error.details = Some(
                    json!({ "fields": [{ "field": format!("inputs[{item}]"), "message": format!("longer than {max_tokens} tokens") }] }),
                );
                results[item] = Some(Err(error));
                todo.retain(|&i| i != item);
            }
            Err(e) => return Err(runtime_error(e)),
        }
    }
    Ok(())
}
