//! The parts of the OpenAPI document that are not routes: info, tags, shared schemas.
//! Paths are collected from the route table by `utoipa_actix_web` (see `routes`).

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hfb API",
        description = "Find, deploy, call and watch machine-learning models. Every error is \
            `{\"error\":{\"code\",\"message\",\"details\"?,\"request_id\"}}` with a stable `code`.",
        license(name = "MIT")
    ),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "meta", description = "Facts about the running server"),
        (name = "live", description = "WebSocket channel for live updates"),
    ),
    components(schemas(hfb_shared::ErrorBody, hfb_shared::ErrorDetail, hfb_shared::ErrorCode,
        hfb_shared::ws::ServerMessage, hfb_shared::ws::ClientMessage))
)]
pub struct ApiDoc;
