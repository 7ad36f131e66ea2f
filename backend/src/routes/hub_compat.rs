//! Hub-compatible catalog routes, so `huggingface_hub.HfApi(endpoint=<hfb>)` can list,
//! search and inspect this catalog unchanged: Hub parameters, Hub JSON field names, and
//! pagination through `Link: <...>; rel="next"`.

use actix_web::http::header::LINK;
use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hfb_shared::{ErrorBody, ErrorCode};
use hfb_store::{CatalogQuery, CatalogSort};

use crate::auth::extract::MaybePrincipal;
use crate::error::ApiError;
use crate::routes::catalog::check_catalog_access;
use crate::services::catalog;
use crate::state::AppState;

fn hub_error(status: u16, message: &str) -> HttpResponse {
    // The Hub answers errors as {"error": "..."} and names the kind in X-Error-Code,
    // which huggingface_hub turns into RepositoryNotFoundError and friends.
    let mut res = HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    );
    if status == 404 {
        res.insert_header(("x-error-code", "RepoNotFound"));
    }
    res.insert_header(("x-error-message", message.to_owned()));
    res.json(serde_json::json!({ "error": message }))
}

struct HubListing {
    query: CatalogQuery,
    full: bool,
}

fn parse(query_string: &str, default_page: u32) -> Result<HubListing, String> {
    let mut q = CatalogQuery {
        limit: default_page,
        ..CatalogQuery::default()
    };
    let mut full = false;
    for (key, value) in form_urlencoded::parse(query_string.as_bytes()) {
        let value = value.trim();
        let some = || (!value.is_empty()).then(|| value.to_owned());
        match key.as_ref() {
            "search" => q.text = some(),
            "author" => q.author = some(),
            "pipeline_tag" => q.task = some(),
            "filter" => {
                if let Some(license) = value.strip_prefix("license:") {
                    q.license = Some(license.to_owned());
                } else if !value.is_empty() {
                    q.tags.push(value.to_owned());
                }
            }
            "sort" => {
                q.sort = match value {
                    "downloads" => CatalogSort::Downloads,
                    "likes" => CatalogSort::Likes,
                    "lastModified" | "last_modified" => CatalogSort::Updated,
                    "createdAt" | "created_at" => CatalogSort::Created,
                    "trendingScore" | "trending_score" => CatalogSort::Trending,
                    other => return Err(format!("unknown sort `{other}`")),
                }
            }
            "direction" => q.descending = value != "1",
            "limit" => {
                let n: u32 = value
                    .parse()
                    .map_err(|_| format!("limit `{value}` is not a number"))?;
                q.limit = n.clamp(1, CatalogQuery::MAX_LIMIT);
            }
            "cursor" => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(value)
                    .map_err(|_| "invalid cursor".to_owned())?;
                q.offset = String::from_utf8_lossy(&bytes)
                    .parse()
                    .map_err(|_| "invalid cursor".to_owned())?;
            }
            "full" | "cardData" | "config" => full |= matches!(value, "true" | "True" | "1"),
            // Accepted for compatibility; every listed field is returned.
            "expand"
            | "expand[]"
            | "fetch_config"
            | "emissions_thresholds"
            | "gated"
            | "inference" => {}
            _ => {}
        }
    }
    Ok(HubListing { query: q, full })
}

/// List models like the Hub's `GET /api/models` (`search`, `author`, `filter`,
/// `pipeline_tag`, `sort`, `direction`, `limit`, `full`, `cardData`); the next page is in
/// the `Link` header.
#[utoipa::path(
    tag = "hub compatible",
    responses((status = 200, description = "A JSON array of Hub model entries"), (status = 400, description = "{\"error\": ...}"))
)]
#[get("/api/models")]
pub async fn list_models(
    req: HttpRequest,
    who: MaybePrincipal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_catalog_access(&state, &who)?;
    let listing = match parse(req.query_string(), state.settings.hub_page_size) {
        Ok(listing) => listing,
        Err(message) => return Ok(hub_error(400, &message)),
    };
    let page = state.store.search_catalog(&listing.query).await?;
    let next_offset = u64::from(listing.query.offset) + page.items.len() as u64;
    let body: Vec<hfb_hub::HubModel> = page
        .items
        .iter()
        .map(|m| catalog::to_hub(m, listing.full))
        .collect();
    let mut res = HttpResponse::Ok();
    if !page.items.is_empty() && next_offset < page.total {
        let info = req.connection_info();
        let mut pairs: Vec<(String, String)> =
            form_urlencoded::parse(req.query_string().as_bytes())
                .filter(|(k, _)| k != "cursor")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        pairs.push((
            "cursor".into(),
            URL_SAFE_NO_PAD.encode(next_offset.to_string()),
        ));
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let next = format!("{}://{}{}?{query}", info.scheme(), info.host(), req.path());
        res.insert_header((LINK, format!("<{next}>; rel=\"next\"")));
    }
    res.insert_header(("x-total-count", page.total.to_string()));
    Ok(res.json(body))
}

async fn info(state: &AppState, who: &MaybePrincipal, id: &str) -> Result<HttpResponse, ApiError> {
    check_catalog_access(state, who)?;
    match catalog::model(state, id).await {
        Ok(model) => Ok(HttpResponse::Ok().json(catalog::to_hub(&model, true))),
        Err(e) if e.code == ErrorCode::NotFound => Ok(hub_error(404, "Repository not found")),
        Err(e) if e.code == ErrorCode::InvalidPath => Ok(hub_error(400, &e.message)),
        Err(e) => Err(e),
    }
}

/// Model info like the Hub's `GET /api/models/{owner}/{name}` (with files and card data).
#[utoipa::path(tag = "hub compatible", responses((status = 200, description = "A Hub model entry"), (status = 404, body = ErrorBody)))]
#[get("/api/models/{owner}/{name}")]
pub async fn model_info(
    who: MaybePrincipal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (owner, name) = path.into_inner();
    info(&state, &who, &format!("{owner}/{name}")).await
}

/// Model info at a revision (this catalog keeps one revision per model: the latest).
#[utoipa::path(tag = "hub compatible", responses((status = 200, description = "A Hub model entry"), (status = 404, body = ErrorBody)))]
#[get("/api/models/{owner}/{name}/revision/{revision}")]
pub async fn model_info_revision(
    who: MaybePrincipal,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (owner, name, _revision) = path.into_inner();
    info(&state, &who, &format!("{owner}/{name}")).await
}

/// Model info for a legacy id without an owner (e.g. `gpt2`).
#[utoipa::path(tag = "hub compatible", responses((status = 200, description = "A Hub model entry"), (status = 404, body = ErrorBody)))]
#[get("/api/models/{name}")]
pub async fn model_info_legacy(
    who: MaybePrincipal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    info(&state, &who, &path.into_inner()).await
}
