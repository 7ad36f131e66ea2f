//! The route table. Every API route is registered here through `utoipa_actix_web`, which
//! also adds it to the OpenAPI document, so the spec cannot miss a route.

pub mod auth;
pub mod catalog;
pub mod compat_inference;
pub mod deployments;
pub mod docs;
pub mod health;
pub mod hub_compat;
pub mod live;
pub mod me;
pub mod meta;
pub mod teams;
pub mod telemetry;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Routes are tried in the order given (actix matches them one by one), so the busiest
/// come first: probes, then inference.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(meta::metrics)
        .service(
            scope::scope("/api/v1")
                // Matched in this order: the inference hot path first.
                .service(deployments::infer)
                .service(deployments::batch)
                .service(meta::version)
                .service(health::health)
                .service(telemetry::client_errors)
                .service(catalog::search)
                .service(catalog::detail)
                .service(catalog::import)
                .service(auth::signup)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::logout)
                .service(me::me)
                .service(me::update_me)
                .service(me::delete_me)
                .service(me::change_password)
                .service(me::sessions)
                .service(me::revoke_all_sessions)
                .service(me::revoke_session)
                .service(me::api_keys)
                .service(me::create_api_key)
                .service(me::revoke_api_key)
                .service(me::invitations)
                .service(me::accept_invitation)
                .service(teams::list)
                .service(teams::create)
                .service(teams::detail)
                .service(teams::delete_team)
                .service(teams::change_role)
                .service(teams::remove_member)
                .service(teams::invite)
                .service(teams::invitations)
                .service(teams::revoke_invitation)
                .service(deployments::targets)
                .service(deployments::list)
                .service(deployments::create)
                .service(deployments::detail)
                .service(deployments::update)
                .service(deployments::rollback)
                .service(deployments::pause)
                .service(deployments::resume)
                .service(deployments::retry)
                .service(deployments::delete_deployment),
        )
        .service(live::websocket)
        .service(hub_compat::list_models)
        .service(hub_compat::model_info_revision)
        .service(hub_compat::model_info)
        .service(hub_compat::model_info_legacy)
        .service(compat_inference::hf_model)
        .service(compat_inference::hf_pipeline)
        .service(compat_inference::openai_chat_completions)
        .service(compat_inference::openai_embeddings)
        .service(compat_inference::openai_models);
}
