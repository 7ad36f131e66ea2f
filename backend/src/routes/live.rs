//! The `/api/ws` WebSocket upgrade.

use actix_web::{HttpRequest, HttpResponse, get, web};
use hfb_shared::ErrorCode;

use crate::error::ApiError;
use crate::state::AppState;
use crate::ws;

/// Live channel: JSON text frames (`hello`, then `heartbeat` every few seconds; answer
/// `{"type":"ping"}` with `pong`). See `hfb_shared::ws` for the message types.
#[utoipa::path(
    tag = "live",
    responses(
        (status = 101, description = "Switching protocols to WebSocket"),
        (status = 400, description = "Not a WebSocket upgrade request", body = hfb_shared::ErrorBody),
    )
)]
#[get("/api/ws")]
pub async fn websocket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (response, session, stream) = actix_ws::handle(&req, body).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("this route needs a WebSocket upgrade: {e}"),
        )
    })?;
    let outbox = state
        .hub
        .join()
        .await
        .ok_or_else(|| ApiError::unavailable("live updates are shutting down"))?;
    actix_web::rt::spawn(ws::session::run(
        session,
        stream,
        outbox,
        state.hub.clone(),
        state.instance_id.clone(),
        state.tokens.clone(),
    ));
    Ok(response)
}
