//! The route table. Every API route is registered here through `utoipa_actix_web`, which
//! also adds it to the OpenAPI document, so the spec cannot miss a route.

pub mod docs;
pub mod health;
pub mod live;
pub mod meta;
pub mod telemetry;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(live::websocket)
        .service(
            scope::scope("/api/v1")
                .service(meta::version)
                .service(health::health)
                .service(telemetry::client_errors),
        );
}
