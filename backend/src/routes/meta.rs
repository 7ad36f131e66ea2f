//! Facts about the running server.

use actix_web::{get, web};
use hfb_shared::health::VersionInfo;

use crate::state::AppState;

/// Server version, build and instance.
#[utoipa::path(tag = "meta", responses((status = 200, description = "Version of this server", body = VersionInfo)))]
#[get("/version")]
pub async fn version(state: web::Data<AppState>) -> web::Json<VersionInfo> {
    web::Json(VersionInfo {
        name: "hfb".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api_version: "v1".to_owned(),
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_owned(),
        environment: state.settings.environment.as_str().to_owned(),
        instance_id: state.instance_id.to_string(),
        uptime_seconds: state.started_at.elapsed().as_secs(),
    })
}
