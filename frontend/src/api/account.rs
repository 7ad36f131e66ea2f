//! The signed-in user: profile, password, account deletion, sessions and API keys.

use hfb_shared::auth::{
    ApiKeyInfo, ChangePasswordRequest, CreateApiKeyRequest, CreatedApiKey, DeleteAccountRequest,
    InvitationInfo, SessionInfo, TeamSummary, UpdateProfileRequest, UserProfile,
};
use serde::Deserialize;

use super::{
    ApiResult, delete_authed, delete_json_authed, encode, get_json_authed, patch_json_authed,
    post_json_authed,
};

/// Answer to a password change.
#[derive(Debug, Clone, Deserialize)]
pub struct PasswordChanged {
    /// Other sessions that were signed out.
    pub sessions_revoked: u64,
}

/// Answer to "sign out everywhere else".
#[derive(Debug, Clone, Deserialize)]
pub struct Revoked {
    pub revoked: u64,
}

/// `GET /api/v1/me`.
pub async fn me() -> ApiResult<UserProfile> {
    get_json_authed("/v1/me").await
}

/// `PATCH /api/v1/me` (a new e-mail needs `current_password`).
pub async fn update_profile(request: &UpdateProfileRequest) -> ApiResult<UserProfile> {
    patch_json_authed("/v1/me", request).await
}

/// `POST /api/v1/me/password`: other sessions are signed out.
pub async fn change_password(request: &ChangePasswordRequest) -> ApiResult<PasswordChanged> {
    post_json_authed("/v1/me/password", Some(request)).await
}

/// `DELETE /api/v1/me`.
pub async fn delete_account(request: &DeleteAccountRequest) -> ApiResult<()> {
    delete_authed("/v1/me", Some(request)).await
}

/// `GET /api/v1/me/sessions`.
pub async fn sessions() -> ApiResult<Vec<SessionInfo>> {
    get_json_authed("/v1/me/sessions").await
}

/// `DELETE /api/v1/me/sessions/{id}`.
pub async fn revoke_session(id: &str) -> ApiResult<()> {
    delete_authed(&format!("/v1/me/sessions/{}", encode(id)), None::<&()>).await
}

/// `DELETE /api/v1/me/sessions?keep_current=true`: signs out every other session.
pub async fn revoke_other_sessions() -> ApiResult<Revoked> {
    delete_json_authed("/v1/me/sessions?keep_current=true").await
}

/// `GET /api/v1/me/api-keys`.
pub async fn api_keys() -> ApiResult<Vec<ApiKeyInfo>> {
    get_json_authed("/v1/me/api-keys").await
}

/// `POST /api/v1/me/api-keys`: the answer is the only time the key is shown.
pub async fn create_api_key(request: &CreateApiKeyRequest) -> ApiResult<CreatedApiKey> {
    post_json_authed("/v1/me/api-keys", Some(request)).await
}

/// `DELETE /api/v1/me/api-keys/{id}`.
pub async fn revoke_api_key(id: &str) -> ApiResult<()> {
    delete_authed(&format!("/v1/me/api-keys/{}", encode(id)), None::<&()>).await
}

/// `GET /api/v1/me/invitations`: invitations waiting for my e-mail address.
pub async fn invitations() -> ApiResult<Vec<InvitationInfo>> {
    get_json_authed("/v1/me/invitations").await
}

/// `POST /api/v1/invitations/{id}/accept`.
pub async fn accept_invitation(id: &str) -> ApiResult<TeamSummary> {
    post_json_authed(
        &format!("/v1/invitations/{}/accept", encode(id)),
        None::<&()>,
    )
    .await
}
