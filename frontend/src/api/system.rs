//! Version and readiness of the server this app is served by.

use hfb_shared::health::{Readiness, VersionInfo};

use super::{ApiResult, get_json};

/// `GET /api/v1/version`.
pub async fn version() -> ApiResult<VersionInfo> {
    get_json("/v1/version").await
}

/// `GET /api/v1/health`: always 200; the body says whether every dependency is up.
pub async fn health() -> ApiResult<Readiness> {
    get_json("/v1/health").await
}
