//! Deployments of the caller's team.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use hfb_shared::ErrorBody;
use hfb_shared::deployments::{
    CreateDeploymentRequest, DeploymentDetail, DeploymentInfo, RollbackRequest, TargetInfo,
    UpdateDeploymentRequest,
};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::deployments::{self, Transition};
use crate::state::AppState;

/// The deployment targets and whether each is configured on this server.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses((status = 200, body = Vec<TargetInfo>)))]
#[get("/deployments/targets")]
pub async fn targets(_who: Principal, state: web::Data<AppState>) -> web::Json<Vec<TargetInfo>> {
    web::Json(deployments::targets(&state))
}

/// The team's deployments, newest first.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses((status = 200, body = Vec<DeploymentInfo>)))]
#[get("/deployments")]
pub async fn list(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<DeploymentInfo>>, ApiError> {
    Ok(web::Json(deployments::list(&state, &who).await?))
}

/// Deploy a model. Only `model_id` is required; the rest defaults per task and target.
/// With an `Idempotency-Key` header a repeated request returns the first deployment
/// (200 and `Idempotent-Replayed: true`) instead of creating another.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), request_body = CreateDeploymentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries of this create safe")),
    responses((status = 201, body = DeploymentInfo), (status = 200, body = DeploymentInfo),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/deployments")]
pub async fn create(
    who: Principal,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateDeploymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = req
        .headers()
        .get("idempotency-key")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII"))
        })
        .transpose()?;
    let key = deployments::parse_idempotency_key(key)?;
    let outcome = deployments::create(&state, &who, body.into_inner(), key).await?;
    let location = format!("/api/v1/deployments/{}", outcome.deployment.id);
    Ok(if outcome.created {
        HttpResponse::Created()
            .insert_header(("Location", location))
            .json(outcome.deployment)
    } else {
        HttpResponse::Ok()
            .insert_header(("Location", location))
            .insert_header(("Idempotent-Replayed", "true"))
            .json(outcome.deployment)
    })
}

/// A deployment with its versions (newest first) and events.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses(
    (status = 200, body = DeploymentDetail), (status = 404, body = ErrorBody)))]
#[get("/deployments/{id}")]
pub async fn detail(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<DeploymentDetail>, ApiError> {
    Ok(web::Json(
        deployments::detail(&state, &who, &path.into_inner()).await?,
    ))
}

/// Change the revision, scaling, instance or env: makes a new version.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), request_body = UpdateDeploymentRequest, responses(
    (status = 200, body = DeploymentInfo), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[patch("/deployments/{id}")]
pub async fn update(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UpdateDeploymentRequest>,
) -> Result<web::Json<DeploymentInfo>, ApiError> {
    Ok(web::Json(
        deployments::update(&state, &who, &path.into_inner(), body.into_inner()).await?,
    ))
}

/// Make an earlier version's spec current again (as a new version).
#[utoipa::path(tag = "deployments", security(("bearer" = [])), request_body = RollbackRequest, responses(
    (status = 200, body = DeploymentInfo), (status = 422, body = ErrorBody)))]
#[post("/deployments/{id}/rollback")]
pub async fn rollback(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RollbackRequest>,
) -> Result<web::Json<DeploymentInfo>, ApiError> {
    Ok(web::Json(
        deployments::rollback(&state, &who, &path.into_inner(), body.into_inner()).await?,
    ))
}

async fn transition(
    who: Principal,
    state: web::Data<AppState>,
    id: String,
    t: Transition,
) -> Result<HttpResponse, ApiError> {
    let info = deployments::transition(&state, &who, &id, t).await?;
    Ok(if t == Transition::Delete {
        HttpResponse::Accepted().json(info)
    } else {
        HttpResponse::Ok().json(info)
    })
}

/// Stop serving, keep the deployment.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses((status = 200, body = DeploymentInfo)))]
#[post("/deployments/{id}/pause")]
pub async fn pause(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(who, state, path.into_inner(), Transition::Pause).await
}

/// Serve again after a pause.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses((status = 200, body = DeploymentInfo)))]
#[post("/deployments/{id}/resume")]
pub async fn resume(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(who, state, path.into_inner(), Transition::Resume).await
}

/// Try a failed deployment again.
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses(
    (status = 200, body = DeploymentInfo), (status = 409, body = ErrorBody)))]
#[post("/deployments/{id}/retry")]
pub async fn retry(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(who, state, path.into_inner(), Transition::Retry).await
}

/// Tear down at the target, then remove (202: the reconciler finishes it).
#[utoipa::path(tag = "deployments", security(("bearer" = [])), responses((status = 202, body = DeploymentInfo)))]
#[delete("/deployments/{id}")]
pub async fn delete_deployment(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    transition(who, state, path.into_inner(), Transition::Delete).await
}

/// Run the deployment's model in the Hugging Face task format: `{"inputs": ..., "parameters": {...}}`.
/// feature-extraction takes a string (answers one vector) or a list of strings (one vector
/// each); sentence-similarity takes `{"source_sentence", "sentences"}` (answers scores).
/// Headers: `X-Hfb-Tokens`, `X-Hfb-Truncated` (inputs cut at the model's maximum),
/// `X-Hfb-Cold-Start` (the model was loaded for this call).
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = Object, responses(
    (status = 200, body = Object), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
    (status = 503, body = ErrorBody)))]
#[post("/deployments/{id}/infer")]
pub async fn infer(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: actix_web::HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // The bytes are kept (not `web::Json`): a remote deployment receives them unchanged.
    crate::error::require_json(&req)?;
    let body = crate::services::inference::CallBody::parse(body)?;
    let out = crate::services::inference::infer(&state, &who, &path.into_inner(), body).await?;
    Ok(super::compat_inference::hf_answer(out))
}

/// Run many inputs at once. Each item of `inputs` is one input as `/infer` takes it;
/// `parameters` apply to all. Answers every item in order, with its `output` or its
/// `error`, so one bad item does not fail the others. At most `HFB_BATCH_MAX_ITEMS` items
/// (413) and `HFB_BATCH_MAX_BYTES` of body (413); a bad parameter is a 422 for the whole
/// batch. On the local runtime the items run as real model batches.
#[utoipa::path(tag = "inference", security(("bearer" = [])), request_body = hfb_shared::inference::BatchRequest,
    responses((status = 200, body = hfb_shared::inference::BatchResponse), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/deployments/{id}/batch")]
pub async fn batch(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    mut payload: web::Payload,
) -> Result<web::Json<hfb_shared::inference::BatchResponse>, ApiError> {
    use futures_util::StreamExt;
    let limit = state.settings.batch_max_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(crate::error::payload_error)?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                hfb_shared::ErrorCode::PayloadTooLarge,
                format!("the batch body is larger than {limit} bytes (HFB_BATCH_MAX_BYTES)"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let request: hfb_shared::inference::BatchRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            hfb_shared::ErrorCode::InvalidJson,
            format!("the body is not a batch (`{{\"inputs\": [...], \"parameters\": {{...}}}}`): {e}"),
        )
    })?;
    Ok(web::Json(
        crate::services::batch::run(&state, &who, &path.into_inner(), request).await?,
    ))
}
