//! Inference routes in other platforms' shapes, so their official clients work unchanged:
//! the Hugging Face Inference API (`POST /models/{owner}/{name}`,
//! `POST /pipeline/{task}/{owner}/{name}`) and the OpenAI API (`POST /v1/chat/completions`
//! with streaming, `POST /v1/embeddings`, `GET /v1/models`, errors as
//! `{"error": {"message", "type", "param", "code"}}`).
//! Each routes to the caller team's running deployment of the named model.

use actix_web::{HttpResponse, get, post, web};
use futures_util::StreamExt;
use hfb_shared::ErrorCode;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::chat::{self, ChatAnswer};
use crate::services::inference;
use crate::state::AppState;

/// The answer of a call in the Hugging Face task format, with its `X-Hfb-*` headers. A
/// remote deployment's answer goes out as the bytes it arrived in (already checked).
pub(crate) fn hf_answer(out: inference::InferOutcome) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    for header in out.headers() {
        res.insert_header(header);
    }
    match out.answer {
        inference::Answer::Json(value) => res.json(value),
        inference::Answer::Raw { bytes, .. } | inference::Answer::Vectors { bytes, .. } => res
            .content_type(actix_web::mime::APPLICATION_JSON)
            .body(bytes),
    }
}

/// Hugging Face Inference API shape: runs the team's deployment of `{owner}/{name}`.
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = Object, responses(
    (status = 200, body = Object), (status = 404, description = "No running deployment of the model")))]
#[post("/models/{owner}/{name}")]
pub async fn hf_model(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (owner, name) = path.into_inner();
    let d = inference::deployment_for_model(&state, &who, &format!("{owner}/{name}")).await?;
    let out = inference::run(&state, &d, inference::CallBody::parse(body)?, None).await?;
    Ok(hf_answer(out))
}

/// Hugging Face Inference API shape with an explicit task.
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = Object, responses(
    (status = 200, body = Object), (status = 404, description = "No running deployment of the model")))]
#[post("/pipeline/{task}/{owner}/{name}")]
pub async fn hf_pipeline(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (task, owner, name) = path.into_inner();
    let d = inference::deployment_for_model(&state, &who, &format!("{owner}/{name}")).await?;
    let out = inference::run(&state, &d, inference::CallBody::parse(body)?, Some(&task)).await?;
    Ok(hf_answer(out))
}

/// An [`ApiError`] in the OpenAI error shape, with the same status.
fn openai_error(e: &ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let kind = match e.code {
        ErrorCode::Unauthorized => "authentication_error",
        ErrorCode::Forbidden => "permission_error",
        ErrorCode::NotFound => "not_found_error",
        ErrorCode::RateLimited => "rate_limit_error",
        ErrorCode::ValidationFailed | ErrorCode::InvalidJson | ErrorCode::BadRequest => {
            "invalid_request_error"
        }
        _ => "api_error",
    };
    let param = e
        .details
        .as_ref()
        .and_then(|d| d["fields"][0]["field"].as_str().map(str::to_owned));
    let mut res = HttpResponse::build(e.status_code());
    if let Some(seconds) = e.retry_after {
        res.insert_header(("retry-after", seconds.to_string()));
    }
    if let Some(trace) = &e.upstream {
        for header in trace.headers() {
            res.insert_header(header);
        }
    }
    res.json(serde_json::json!({
        "error": { "message": e.message, "type": kind, "param": param, "code": e.code }
    }))
}

/// A JSON answer, or the error in the OpenAI shape.
fn openai_answer(result: Result<serde_json::Value, ApiError>) -> HttpResponse {
    match result {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => openai_error(&e),
    }
}

/// OpenAI `POST /v1/embeddings`.
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = Object, responses((status = 200, body = Object)))]
#[post("/v1/embeddings")]
pub async fn openai_embeddings(
    who: Result<Principal, ApiError>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let who = who?;
        let body = inference::parse_json(&body)?;
        inference::openai_embeddings(&state, &who, &body).await
    }
    .await;
    match result {
        Ok((json, headers)) => {
            let mut res = HttpResponse::Ok();
            for header in headers {
                res.insert_header(header);
            }
            res.content_type(actix_web::mime::APPLICATION_JSON)
                .body(json)
        }
        Err(e) => openai_error(&e),
    }
}

/// OpenAI `POST /v1/chat/completions` on a text-generation deployment; with
/// `"stream": true` the answer is server-sent `chat.completion.chunk` events ending with
/// `data: [DONE]`, relayed as the deployment produces them.
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = Object, responses(
    (status = 200, body = Object, description = "A chat.completion object, or with stream=true a text/event-stream of chat.completion.chunk events"),
    (status = 400, description = "The deployment does not serve chat (not text-generation, or not a remote target)"),
    (status = 404, description = "No running deployment of the model"),
    (status = 422, description = "Invalid request; `param` names the first invalid field"),
    (status = 502, description = "The deployment failed or answered something unusable")))]
#[post("/v1/chat/completions")]
pub async fn openai_chat_completions(
    who: Result<Principal, ApiError>,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let result = async {
        let who = who?;
        let body = inference::parse_json(&body)?;
        chat::chat_completions(&state, &who, body).await
    }
    .await;
    match result {
        Ok(ChatAnswer::Complete { body, trace }) => {
            let mut res = HttpResponse::Ok();
            for header in trace.headers() {
                res.insert_header(header);
            }
            res.json(body)
        }
        Ok(ChatAnswer::Stream { events, trace }) => {
            let mut res = HttpResponse::Ok();
            res.content_type("text/event-stream")
                .insert_header(("cache-control", "no-cache"))
                .insert_header(("x-accel-buffering", "no"))
                // Keeps the compression middleware off: it would hold events back.
                .insert_header(("content-encoding", "identity"));
            for header in trace.headers() {
                res.insert_header(header);
            }
            res.streaming(
                events.map(|chunk| Ok::<_, std::convert::Infallible>(web::Bytes::from(chunk))),
            )
        }
        Err(e) => openai_error(&e),
    }
}

/// OpenAI `GET /v1/models`: the team's running deployments.
#[utoipa::path(tag = "inference", security(("bearer" = [])), responses((status = 200, body = Object)))]
#[get("/v1/models")]
pub async fn openai_models(
    who: Result<Principal, ApiError>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = async {
        let who = who?;
        inference::openai_models(&state, &who).await
    }
    .await;
    openai_answer(result)
}
