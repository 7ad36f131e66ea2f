//! Teams, members and invitations.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use hfb_shared::ErrorBody;
use hfb_shared::auth::{
    ChangeRoleRequest, CreateTeamRequest, InvitationInfo, InviteRequest, TeamDetail, TeamSummary,
};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::services::teams;
use crate::state::AppState;

/// Teams the caller belongs to, with the caller's role.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses((status = 200, body = Vec<TeamSummary>)))]
#[get("/teams")]
pub async fn list(
    who: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Vec<TeamSummary>>, ApiError> {
    Ok(web::Json(teams::list(&state, &who).await?))
}

/// Create a team; the caller becomes its owner.
#[utoipa::path(tag = "teams", security(("bearer" = [])), request_body = CreateTeamRequest, responses(
    (status = 201, body = TeamSummary), (status = 422, body = ErrorBody)))]
#[post("/teams")]
pub async fn create(
    who: Principal,
    state: web::Data<AppState>,
    body: web::Json<CreateTeamRequest>,
) -> Result<HttpResponse, ApiError> {
    let team = teams::create(&state, &who, &body.name).await?;
    Ok(HttpResponse::Created().json(team))
}

/// A team and its members.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses(
    (status = 200, body = TeamDetail), (status = 404, body = ErrorBody)))]
#[get("/teams/{team_id}")]
pub async fn detail(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<TeamDetail>, ApiError> {
    Ok(web::Json(
        teams::detail(&state, &who, &path.into_inner()).await?,
    ))
}

/// Delete a team (owners only; not the personal team).
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/teams/{team_id}")]
pub async fn delete_team(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    teams::delete(&state, &who, &path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change a member's role (admins manage non-owners; owners anyone; a team keeps an owner).
#[utoipa::path(tag = "teams", security(("bearer" = [])), request_body = ChangeRoleRequest, responses(
    (status = 204, description = "Changed"), (status = 403, body = ErrorBody), (status = 409, description = "Would leave no owner", body = ErrorBody)))]
#[patch("/teams/{team_id}/members/{user_id}")]
pub async fn change_role(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Json<ChangeRoleRequest>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, user_id) = path.into_inner();
    teams::change_role(&state, &who, &team_id, &user_id, body.role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Remove a member, or leave the team (your own user id). Their keys for the team stop working.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses(
    (status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 409, description = "Would leave no owner", body = ErrorBody)))]
#[delete("/teams/{team_id}/members/{user_id}")]
pub async fn remove_member(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, user_id) = path.into_inner();
    teams::remove_member(&state, &who, &team_id, &user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Invite someone by e-mail; they accept after signing in with that address.
#[utoipa::path(tag = "teams", security(("bearer" = [])), request_body = InviteRequest, responses(
    (status = 201, body = InvitationInfo), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/teams/{team_id}/invitations")]
pub async fn invite(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<InviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let inv = teams::invite(&state, &who, &path.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(inv))
}

/// The team's invitations (all states, newest first).
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses((status = 200, body = Vec<InvitationInfo>)))]
#[get("/teams/{team_id}/invitations")]
pub async fn invitations(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<Vec<InvitationInfo>>, ApiError> {
    Ok(web::Json(
        teams::invitations(&state, &who, &path.into_inner()).await?,
    ))
}

/// Withdraw a pending invitation.
#[utoipa::path(tag = "teams", security(("bearer" = [])), responses(
    (status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
#[delete("/teams/{team_id}/invitations/{invitation_id}")]
pub async fn revoke_invitation(
    who: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (team_id, id) = path.into_inner();
    teams::revoke_invitation(&state, &who, &team_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
