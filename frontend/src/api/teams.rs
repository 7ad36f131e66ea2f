//! Teams, members and invitations.

use hfb_shared::auth::{
    ChangeRoleRequest, CreateTeamRequest, InvitationInfo, InviteRequest, Role, TeamDetail,
    TeamSummary,
};

use super::{ApiResult, delete_authed, encode, get_json_authed, patch_authed, post_json_authed};

/// `GET /api/v1/teams`.
pub async fn list() -> ApiResult<Vec<TeamSummary>> {
    get_json_authed("/v1/teams").await
}

/// `POST /api/v1/teams`: the caller becomes the owner.
pub async fn create(name: &str) -> ApiResult<TeamSummary> {
    let request = CreateTeamRequest {
        name: name.to_owned(),
    };
    post_json_authed("/v1/teams", Some(&request)).await
}

/// `GET /api/v1/teams/{id}`.
pub async fn detail(team_id: &str) -> ApiResult<TeamDetail> {
    get_json_authed(&format!("/v1/teams/{}", encode(team_id))).await
}

/// `DELETE /api/v1/teams/{id}`.
pub async fn delete(team_id: &str) -> ApiResult<()> {
    delete_authed(&format!("/v1/teams/{}", encode(team_id)), None::<&()>).await
}

/// `PATCH /api/v1/teams/{id}/members/{user_id}`.
pub async fn change_role(team_id: &str, user_id: &str, role: Role) -> ApiResult<()> {
    patch_authed(
        &format!("/v1/teams/{}/members/{}", encode(team_id), encode(user_id)),
        &ChangeRoleRequest { role },
    )
    .await
}

/// `DELETE /api/v1/teams/{id}/members/{user_id}`: removes a member, or leaves (own id).
pub async fn remove_member(team_id: &str, user_id: &str) -> ApiResult<()> {
    delete_authed(
        &format!("/v1/teams/{}/members/{}", encode(team_id), encode(user_id)),
        None::<&()>,
    )
    .await
}

/// `POST /api/v1/teams/{id}/invitations`.
pub async fn invite(team_id: &str, request: &InviteRequest) -> ApiResult<InvitationInfo> {
    post_json_authed(
        &format!("/v1/teams/{}/invitations", encode(team_id)),
        Some(request),
    )
    .await
}

/// `GET /api/v1/teams/{id}/invitations` (all states, newest first).
pub async fn invitations(team_id: &str) -> ApiResult<Vec<InvitationInfo>> {
    get_json_authed(&format!("/v1/teams/{}/invitations", encode(team_id))).await
}

/// `DELETE /api/v1/teams/{id}/invitations/{invitation_id}`.
pub async fn revoke_invitation(team_id: &str, invitation_id: &str) -> ApiResult<()> {
    delete_authed(
        &format!(
            "/v1/teams/{}/invitations/{}",
            encode(team_id),
            encode(invitation_id)
        ),
        None::<&()>,
    )
    .await
}
