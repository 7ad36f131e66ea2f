//! The signed-in user: profile, password, account deletion, sessions, API keys, invitations.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use hfb_shared::ErrorBody;
use hfb_shared::auth::{
    ApiKeyInfo, ChangePasswordRequest, CreateApiKeyRequest, CreatedApiKey, DeleteAccountRequest,
    InvitationInfo, SessionInfo, TeamSummary, UpdateProfileRequest, UserProfile,
};
use serde::Deserialize;

use crate::auth::{Principal, cookies};
use crate::error::ApiError;
use crate::services::{accounts, teams};
use crate::state::AppState;

/// The signed-in user's profile and teams.
#[utoipa::path(tag = "account", security(("bearer" = [])), responses(
    (status = 200, body = UserProfile), (status = 401, body = ErrorBody)))]
#[get("/me")]
pub async fn me(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<UserProfile>, ApiError> {
    let user = accounts::user(&state, &who.user_id).await?;
    Ok(web::Json(
        accounts::profile_of(&state, &user, &who.team_id).await?,
    ))
}

/// Change the display name or the e-mail (the e-mail needs `current_password`).
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = UpdateProfileRequest, responses(
    (status = 200, body = UserProfile), (status = 403, description = "Wrong current password", body = ErrorBody),
    (status = 409, description = "E-mail taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
#[patch("/me")]
pub async fn update_me(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Json<UpdateProfileRequest>,
) -> Result<web::Json<UserProfile>, ApiError> {
    who.require_session()?;
    let user = accounts::update_profile(&state, &who.user_id, body.into_inner()).await?;
    Ok(web::Json(
        accounts::profile_of(&state, &user, &who.team_id).await?,
    ))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PasswordChanged {
    /// Other sessions that were signed out.
    pub sessions_revoked: u64,
}

/// Change the password; every other session is signed out.
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 200, body = PasswordChanged), (status = 403, description = "Wrong current password", body = ErrorBody),
    (status = 422, description = "New password too weak", body = ErrorBody)))]
#[post("/me/password")]
pub async fn change_password(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Json<ChangePasswordRequest>,
) -> Result<web::Json<PasswordChanged>, ApiError> {
    let session = who.require_session()?;
    let revoked =
        accounts::change_password(&state, &who.user_id, session, body.into_inner()).await?;
    Ok(web::Json(PasswordChanged {
        sessions_revoked: revoked,
    }))
}

/// Delete the account (password required). Sessions, keys and the personal team go with it.
#[utoipa::path(tag = "account", security(("bearer" = [])), request_body = DeleteAccountRequest, responses(
    (status = 204, description = "Deleted"), (status = 403, description = "Wrong password", body = ErrorBody),
    (status = 409, description = "Sole owner of a shared team", body = ErrorBody)))]
#[delete("/me")]
pub async fn delete_me(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    who.require_session()?;
    accounts::delete_account(&state, &who.user_id, body.into_inner().password).await?;
    let mut res = HttpResponse::NoContent();
    for c in cookies::cleared(&state.settings) {
        res.cookie(c);
    }
    Ok(res.finish())
}

/// Active sessions (signed-in devices); `current` marks this one.
#[utoipa::path(tag = "account", security(("bearer" = [])), responses((status = 200, body = Vec<SessionInfo>)))]
#[get("/me/sessions")]
pub async fn sessions(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    who.require_session()?;
    Ok(web::Json(
        accounts::sessions(&state, &who.user_id, who.session_id.as_deref()).await?,
    ))
}

/// Sign out one session.
#[utoipa::path(tag = "account", security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
#[delete("/me/sessions/{session_id}")]
pub async fn revoke_session(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require_session()?;
    accounts::revoke_session(&state, &who.user_id, &path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RevokeAllQuery {
    /// Keep the session making this call (default true).
    pub keep_current: Option<bool>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

/// Sign out every session (except this one unless `keep_current=false`).
#[utoipa::path(tag = "account", security(("bearer" = [])), params(RevokeAllQuery), responses((status = 200, body = Revoked)))]
#[delete("/me/sessions")]
pub async fn revoke_all_sessions(
    who: Principal,
    state: web::Data<AppState>,
    query: web::Query<RevokeAllQuery>,
) -> Result<web::Json<Revoked>, ApiError> {
    let current = who.require_session()?;
    let keep = query.keep_current.unwrap_or(true).then_some(current);
    let revoked = accounts::revoke_all_sessions(&state, &who.user_id, keep).await?;
    Ok(web::Json(Revoked { revoked }))
}

/// The caller's API keys (secrets are never shown again).
#[utoipa::path(tag = "api keys", security(("bearer" = [])), responses((status = 200, body = Vec<ApiKeyInfo>)))]
#[get("/me/api-keys")]
pub async fn api_keys(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<ApiKeyInfo>>, ApiError> {
    Ok(web::Json(teams::keys(&state, &who).await?))
}

/// Create an API key. The answer is the only time the key is shown.
#[utoipa::path(tag = "api keys", security(("bearer" = [])), request_body = CreateApiKeyRequest, responses(
    (status = 201, body = CreatedApiKey), (status = 403, description = "Scopes beyond your role", body = ErrorBody),
    (status = 422, body = ErrorBody)))]
#[post("/me/api-keys")]
pub async fn create_api_key(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Json<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let created = teams::create_key(&state, &who, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(created))
}

/// Revoke an API key; it stops working at once.
#[utoipa::path(tag = "api keys", security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
#[delete("/me/api-keys/{key_id}")]
pub async fn revoke_api_key(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    teams::revoke_key(&state, &who, &path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Invitations waiting for the caller's e-mail address.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses((status = 200, body = Vec<InvitationInfo>)))]
#[get("/me/invitations")]
pub async fn invitations(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<InvitationInfo>>, ApiError> {
    Ok(web::Json(teams::my_invitations(&state, &who).await?))
}

/// Accept an invitation addressed to the caller's e-mail.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses(
    (status = 200, body = TeamSummary), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/invitations/{invitation_id}/accept")]
pub async fn accept_invitation(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<TeamSummary>, ApiError> {
    Ok(web::Json(
        teams::accept_invitation(&state, &who, &path.into_inner()).await?,
    ))
}
