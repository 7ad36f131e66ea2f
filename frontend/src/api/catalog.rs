//! The model catalog: search with facets, and one model's detail.
//!
//! The catalog is public unless the server says otherwise (`HFB_CATALOG_PUBLIC=false`),
//! so calls go out anonymously when nobody is signed in and with the bearer token when
//! someone is.

use hfb_shared::catalog::{ModelDetail, ModelSearchResponse};
use web_sys::AbortController;

use super::{ApiResult, encode, get_json_cancellable};

/// `GET /api{path}` where `path` is a search built by the catalog page
/// (`/v1/models?q=…&per_page=20`); `cancel` aborts it when a newer search replaces it.
pub async fn search(
    path: &str,
    authed: bool,
    cancel: Option<&AbortController>,
) -> ApiResult<ModelSearchResponse> {
    get_json_cancellable(path, authed, cancel).await
}

/// `GET /api/v1/models/{owner}/{name}`.
pub async fn detail(owner: &str, name: &str, authed: bool) -> ApiResult<ModelDetail> {
    get_json_cancellable(
        &format!("/v1/models/{}/{}", encode(owner), encode(name)),
        authed,
        None,
    )
    .await
}
