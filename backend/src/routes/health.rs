//! Liveness and readiness probes.

use actix_web::{HttpResponse, get, web};
use hfb_shared::health::{Liveness, Readiness, ReadinessStatus};

use crate::services::readiness;
use crate::state::AppState;

/// Liveness: the process is up and serving HTTP. Never touches a dependency.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Liveness)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Liveness> {
    web::Json(Liveness {
        status: "alive".to_owned(),
    })
}

/// Readiness for load balancers and orchestrators: 503 while a dependency is down.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Every dependency is up", body = Readiness),
        (status = 503, description = "A dependency is down; the body says which", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let report = readiness::check(state.store.as_ref(), state.cache.as_ref()).await;
    match report.status {
        ReadinessStatus::Ready => HttpResponse::Ok().json(report),
        ReadinessStatus::Degraded => HttpResponse::ServiceUnavailable()
            .insert_header(("retry-after", "5"))
            .json(report),
    }
}

/// The same report as `/readyz`, always with status 200, for dashboards and the web app.
#[utoipa::path(tag = "health", responses((status = 200, description = "Dependency report", body = Readiness)))]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> web::Json<Readiness> {
    web::Json(readiness::check(state.store.as_ref(), state.cache.as_ref()).await)
}
