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

/// Counters for Prometheus (text format 0.0.4): calls to remote deployments by outcome,
/// attempts, retries and circuit-breaker state, per deployment and per instance. With
/// `HFB_METRICS_TOKEN` set, scrapers must send it as a bearer token.
#[utoipa::path(tag = "meta", responses(
    (status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
    (status = 401, body = hfb_shared::ErrorBody)))]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    if let Some(token) = &state.settings.metrics_token {
        let sent = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), token.expose().as_bytes()).into();
        if !same {
            return Err(crate::error::ApiError::new(
                hfb_shared::ErrorCode::Unauthorized,
                "send HFB_METRICS_TOKEN as a bearer token",
            ));
        }
    }
    let mut out = String::new();
    state.upstreams.render_metrics(&mut out);
    Ok(actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}
