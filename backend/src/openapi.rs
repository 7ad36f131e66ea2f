//! The parts of the OpenAPI document that are not routes: info, tags, shared schemas.
//! Paths are collected from the route table by `utoipa_actix_web` (see `routes`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
        (name = "auth", description = "Sign-up, sign-in, token refresh, sign-out"),
        (name = "account", description = "The signed-in user's profile and sessions"),
        (name = "api keys", description = "Keys for scripts and services (`Authorization: Bearer hfb_...`)"),
        (name = "teams", description = "Teams, members, roles and invitations"),
        (name = "catalog", description = "Search and inspect the model catalog"),
        (name = "hub compatible", description = "The catalog in the Hugging Face Hub's API shape, for `huggingface_hub.HfApi(endpoint=...)`"),
    ),
    modifiers(&BearerAuth),
    components(schemas(hfb_shared::ErrorBody, hfb_shared::ErrorDetail, hfb_shared::ErrorCode,
        hfb_shared::ws::ServerMessage, hfb_shared::ws::ClientMessage))
)]
pub struct ApiDoc;

/// `bearer`: an access token from sign-in, or an API key (`hfb_...`).
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT access token or hfb_ API key")
                    .build(),
            ),
        );
    }
}
