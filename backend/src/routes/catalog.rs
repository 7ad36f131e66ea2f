//! The model catalog: search with facets, model detail, and imports.

use actix_web::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use hfb_shared::catalog::{ImportReport, ModelDetail, ModelSearchResponse};
use hfb_shared::{ErrorBody, ErrorCode};

use crate::auth::extract::MaybePrincipal;
use crate::auth::{Action, Principal};
use crate::error::ApiError;
use crate::services::catalog;
use crate::state::AppState;

/// Anonymous browsing unless `HFB_CATALOG_PUBLIC=false`; then any principal with `read`.
pub fn check_catalog_access(state: &AppState, who: &MaybePrincipal) -> Result<(), ApiError> {
    match &who.0 {
        Some(p) => p.require(Action::ViewTeam),
        None if state.settings.catalog_public => Ok(()),
        None => Err(ApiError::new(
            ErrorCode::Unauthorized,
            "sign in to browse the catalog",
        )),
    }
}

/// Search the catalog: free text (token and prefix matches over id, author and tags),
/// filters, sort and pages, with facet counts for the filter panel. Cached; answers
/// `304` to a matching `If-None-Match`.
#[utoipa::path(
    tag = "catalog",
    params(
        ("q" = Option<String>, Query, description = "Free text, up to 200 characters"),
        ("task" = Option<String>, Query, description = "Task (pipeline tag), e.g. feature-extraction"),
        ("library" = Option<String>, Query, description = "Library, e.g. transformers"),
        ("language" = Option<String>, Query, description = "Language code, e.g. en"),
        ("license" = Option<String>, Query, description = "License, e.g. apache-2.0"),
        ("author" = Option<String>, Query, description = "Owner (user or organization)"),
        ("tag" = Option<Vec<String>>, Query, description = "Tag; repeat for several (all must match)"),
        ("gated" = Option<bool>, Query, description = "true: only gated models; false: only open ones"),
        ("sort" = Option<String>, Query, description = "downloads (default), likes, trending, updated, created"),
        ("direction" = Option<String>, Query, description = "desc (default) or asc"),
        ("page" = Option<u32>, Query, description = "1-based page, default 1"),
        ("per_page" = Option<u32>, Query, description = "1 to 100, default 20"),
    ),
    responses(
        (status = 200, body = ModelSearchResponse),
        (status = 304, description = "Not modified"),
        (status = 400, description = "Unknown or invalid parameter", body = ErrorBody),
    )
)]
#[get("/models")]
pub async fn search(
    req: HttpRequest,
    who: MaybePrincipal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_catalog_access(&state, &who)?;
    let params = catalog::parse_search(req.query_string())?;
    let revision = state.store.catalog_revision().await?;
    let etag = catalog::etag(revision, &params);
    if req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, etag))
            .finish());
    }
    // A Hub fill-in may move the answer to a newer revision: its ETag follows.
    let (response, revision) = catalog::search(&state, &params, revision).await?;
    let etag = catalog::etag(revision, &params);
    Ok(HttpResponse::Ok()
        .insert_header((ETAG, etag))
        .insert_header((CACHE_CONTROL, "no-cache"))
        .json(response))
}

/// A model with its files and its card rendered to sanitized HTML.
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, body = ModelDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[get("/models/{owner}/{name}")]
pub async fn detail(
    who: MaybePrincipal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<web::Json<ModelDetail>, ApiError> {
    check_catalog_access(&state, &who)?;
    let (owner, name) = path.into_inner();
    Ok(web::Json(
        catalog::detail(&state, &format!("{owner}/{name}")).await?,
    ))
}

/// Import models in the Hub's `/api/models?full=true` JSON format (a JSON array), for
/// air-gapped installs. Platform operators only (`HFB_ADMIN_EMAILS`).
#[utoipa::path(
    tag = "catalog",
    security(("bearer" = [])),
    request_body(content = Vec<Object>, description = "Hub model entries", content_type = "application/json"),
    responses(
        (status = 200, body = ImportReport),
        (status = 400, description = "Not a JSON array", body = ErrorBody),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
    )
)]
#[post("/admin/catalog/import")]
pub async fn import(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<web::Json<ImportReport>, ApiError> {
    who.require_session()?;
    let user = crate::services::accounts::user(&state, &who.user_id).await?;
    if !state.settings.admin_emails.contains(&user.email) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only platform operators (HFB_ADMIN_EMAILS) can import into the catalog",
        ));
    }
    let report = catalog::import(state.store.as_ref(), &body).await?;
    tracing::info!(
        received = report.received,
        inserted = report.inserted,
        updated = report.updated,
        rejected = report.rejected.len(),
        "catalog import"
    );
    Ok(web::Json(report))
}
