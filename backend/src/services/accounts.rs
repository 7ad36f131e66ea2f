//! Sign-up, sign-in, refresh-token rotation, sign-out, profile and sessions.

use chrono::{DateTime, Utc};
use hfb_shared::ErrorCode;
use hfb_shared::auth::{
    AuthResponse, ChangePasswordRequest, LoginRequest, SessionInfo, SignupRequest, TeamSummary,
    UpdateProfileRequest, UserProfile,
};
use hfb_store::{NewSession, NewTeam, NewUser, RotateOutcome, User, UserUpdate};

use crate::auth::password;
use crate::auth::policy::{role_from_store, role_scopes};
use crate::auth::tokens::{ACCESS_TTL, REFRESH_TTL, random_token};
use crate::error::ApiError;
use crate::services::limits;
use crate::services::validation::Validator;
use crate::state::AppState;

/// Where a sign-in comes from, shown in the sessions list.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

/// A signed-in session: the JSON answer plus the secrets that go into cookies.
pub struct IssuedSession {
    pub response: AuthResponse,
    pub refresh_token: String,
}

const MAX_EMAIL: usize = 254;
const MAX_NAME: usize = 80;

pub fn validate_email(v: &mut Validator, field: &str, email: &str) {
    let email = email.trim();
    let valid = email.len() <= MAX_EMAIL
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if !valid {
        v.error(field, "must be an e-mail address like name@example.com");
    }
}

/// The last 12 id characters: the random part of a UUID v7, for readable unique slugs.
pub fn id_tail(id: &str) -> String {
    let chars: Vec<char> = id.chars().filter(|c| *c != '-').collect();
    chars[chars.len().saturating_sub(12)..].iter().collect()
}

fn unauthorized(message: &str, reason: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
        .with_details(serde_json::json!({ "reason": reason }))
}

pub async fn signup(
    state: &AppState,
    req: SignupRequest,
    client: ClientInfo,
) -> Result<IssuedSession, ApiError> {
    let mut v = Validator::default();
    validate_email(&mut v, "email", &req.email);
    v.length("display_name", &req.display_name, 1, MAX_NAME);
    if let Some(why) = password::weakness(&req.password, &req.email, &req.display_name) {
        v.error("password", why);
    }
    v.finish()?;
    let password_hash = password::hash(req.password).await?;
    let user = state
        .store
        .create_user(NewUser {
            email: req.email.trim().to_owned(),
            display_name: req.display_name.trim().to_owned(),
            password_hash,
        })
        .await
        .map_err(|e| match e {
            hfb_store::StoreError::Conflict(_) => ApiError::new(
                ErrorCode::Conflict,
                "an account with this e-mail already exists; sign in instead",
            ),
            other => other.into(),
        })?;
    let team = state
        .store
        .create_team(NewTeam {
            name: format!("{}'s team", user.display_name),
            slug: format!("personal-{}", id_tail(&user.id)),
            personal: true,
            created_by: user.id.clone(),
        })
        .await?;
    tracing::info!(user_id = %user.id, "account created");
    issue_session(state, &user, &team.id, client).await
}

pub async fn login(
    state: &AppState,
    req: LoginRequest,
    client: ClientInfo,
) -> Result<IssuedSession, ApiError> {
    let email = hfb_store::normalize_email(&req.email);
    let lock_key = format!("login-lock:{email}");
    if let Ok(Some(until)) = state.cache.get(&lock_key).await {
        let retry =
            String::from_utf8_lossy(&until).parse::<i64>().unwrap_or(0) - Utc::now().timestamp();
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many failed sign-ins for this account; wait before trying again",
        )
        .with_retry_after(retry.max(1) as u64));
    }
    let user = state.store.user_by_email(&email).await?;
    let ok = password::verify(user.as_ref().map(|u| u.password_hash.clone()), req.password).await;
    let Some(user) = user.filter(|_| ok) else {
        record_failed_login(state, &email, &lock_key).await;
        return Err(unauthorized("wrong e-mail or password", "credentials"));
    };
    let team_id = default_team(state, &user.id).await?;
    issue_session(state, &user, &team_id, client).await
}

/// Failed logins slow the account down (GCRA: a few tries, then one every few minutes);
/// it never locks the owner out for longer than that.
async fn record_failed_login(state: &AppState, email: &str, lock_key: &str) {
    match state
        .limiter
        .check(&format!("login-fail:{email}"), limits::failed_login_quota())
        .await
    {
        Ok(decision) if !decision.allowed => {
            let until = Utc::now().timestamp() + decision.retry_after.as_secs() as i64 + 1;
            tracing::warn!(
                security_event = "login_throttled",
                "repeated failed sign-ins for one account"
            );
            let _ = state
                .cache
                .set(lock_key, until.to_string().as_bytes(), decision.retry_after)
                .await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable while recording a failed login")
        }
    }
}

async fn default_team(state: &AppState, user_id: &str) -> Result<String, ApiError> {
    state
        .store
        .teams_for_user(user_id)
        .await?
        .into_iter()
        .next()
        .map(|(team, _)| team.id)
        .ok_or_else(|| ApiError::internal("user without a team"))
}

async fn issue_session(
    state: &AppState,
    user: &User,
    team_id: &str,
    client: ClientInfo,
) -> Result<IssuedSession, ApiError> {
    let now = Utc::now();
    let refresh_token = random_token(32);
    let session = state
        .store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: client.user_agent.map(|ua| ua.chars().take(256).collect()),
                ip: client.ip,
                expires_at: now + chrono::Duration::seconds(REFRESH_TTL.as_secs() as i64),
            },
            &state.tokens.refresh_hash(&refresh_token),
        )
        .await?;
    let response = access_response(state, user, &session.id, team_id, now).await?;
    Ok(IssuedSession {
        response,
        refresh_token,
    })
}

async fn access_response(
    state: &AppState,
    user: &User,
    session_id: &str,
    team_id: &str,
    now: DateTime<Utc>,
) -> Result<AuthResponse, ApiError> {
    let membership = state
        .store
        .membership(team_id, &user.id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "you are not a member of that team"))?;
    let scopes = role_scopes(role_from_store(membership.role))
        .into_iter()
        .collect();
    let access_token = state
        .tokens
        .issue_access(&user.id, session_id, team_id, scopes, now)
        .map_err(ApiError::internal)?;
    Ok(AuthResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TTL.as_secs(),
        csrf_token: random_token(24),
        user: profile_of(state, user, team_id).await?,
    })
}

/// Rotates the refresh token. Presenting a token that was already rotated means it was
/// copied: the whole session is revoked.
pub async fn refresh(
    state: &AppState,
    token: &str,
    team_id: Option<&str>,
) -> Result<IssuedSession, ApiError> {
    let now = Utc::now();
    let old_hash = state.tokens.refresh_hash(token);
    let stored = state
        .store
        .refresh_token(&old_hash)
        .await?
        .ok_or_else(|| unauthorized("unknown refresh token; sign in again", "invalid"))?;
    let session = state
        .store
        .session_by_id(&stored.session_id)
        .await?
        .filter(|s| s.is_active(now))
        .ok_or_else(|| unauthorized("this session has ended; sign in again", "revoked"))?;
    if stored.used_at.is_some() {
        return Err(reuse_detected(state, &session.id, &session.user_id, now).await);
    }
    if !stored.is_usable(now) {
        return Err(unauthorized(
            "the refresh token has expired; sign in again",
            "expired",
        ));
    }
    let new_token = random_token(32);
    let new_expiry = now + chrono::Duration::seconds(REFRESH_TTL.as_secs() as i64);
    match state
        .store
        .rotate_refresh_token(
            &session.id,
            &old_hash,
            &state.tokens.refresh_hash(&new_token),
            now,
            new_expiry,
        )
        .await?
    {
        RotateOutcome::Rotated => {}
        RotateOutcome::AlreadyUsed => {
            return Err(reuse_detected(state, &session.id, &session.user_id, now).await);
        }
        RotateOutcome::SessionRevoked | RotateOutcome::NotFound => {
            return Err(unauthorized(
                "this session has ended; sign in again",
                "revoked",
            ));
        }
    }
    let user = state
        .store
        .user_by_id(&session.user_id)
        .await?
        .ok_or_else(|| unauthorized("this account no longer exists", "revoked"))?;
    let team_id = match team_id {
        Some(team) if state.store.membership(team, &user.id).await?.is_some() => team.to_owned(),
        _ => default_team(state, &user.id).await?,
    };
    Ok(IssuedSession {
        response: access_response(state, &user, &session.id, &team_id, now).await?,
        refresh_token: new_token,
    })
}

async fn reuse_detected(
    state: &AppState,
    session_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
) -> ApiError {
    tracing::warn!(
        security_event = "refresh_token_reuse",
        session_id,
        user_id,
        "a rotated refresh token was presented again; revoking the session"
    );
    if let Err(e) = state
        .store
        .revoke_session(session_id, "refresh token reuse", now)
        .await
    {
        tracing::error!(error = %e, "could not revoke a session after refresh-token reuse");
    }
    unauthorized(
        "this refresh token was already used, so the session was revoked for safety; sign in again",
        "reused",
    )
}

/// Signs out the session of the refresh cookie, or of the access token.
pub async fn logout(
    state: &AppState,
    refresh_token: Option<&str>,
    session_id: Option<&str>,
) -> Result<(), ApiError> {
    let session_id = match (refresh_token, session_id) {
        (_, Some(id)) => Some(id.to_owned()),
        (Some(token), None) => state
            .store
            .refresh_token(&state.tokens.refresh_hash(token))
            .await?
            .map(|t| t.session_id),
        (None, None) => None,
    };
    if let Some(id) = session_id {
        state
            .store
            .revoke_session(&id, "signed out", Utc::now())
            .await?;
    }
    Ok(())
}

pub async fn profile_of(
    state: &AppState,
    user: &User,
    current_team_id: &str,
) -> Result<UserProfile, ApiError> {
    let teams = state
        .store
        .teams_for_user(&user.id)
        .await?
        .into_iter()
        .map(|(team, role)| TeamSummary {
            id: team.id,
            name: team.name,
            slug: team.slug,
            personal: team.personal,
            role: role_from_store(role),
        })
        .collect();
    Ok(UserProfile {
        id: user.id.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        created_at: user.created_at.to_rfc3339(),
        current_team_id: current_team_id.to_owned(),
        teams,
    })
}

pub async fn user(state: &AppState, user_id: &str) -> Result<User, ApiError> {
    state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| unauthorized("this account no longer exists", "revoked"))
}

async fn require_password(
    user: &User,
    password: Option<String>,
    field: &str,
) -> Result<(), ApiError> {
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        let mut v = Validator::default();
        v.error(field, "enter your current password to confirm");
        return v.finish();
    };
    if password::verify(Some(user.password_hash.clone()), password).await {
        Ok(())
    } else {
        Err(
            ApiError::new(ErrorCode::Forbidden, "the current password is wrong").with_details(
                serde_json::json!({ "fields": [{ "field": field, "message": "is wrong" }] }),
            ),
        )
    }
}

pub async fn update_profile(
    state: &AppState,
    user_id: &str,
    req: UpdateProfileRequest,
) -> Result<User, ApiError> {
    let user = user(state, user_id).await?;
    let mut v = Validator::default();
    if let Some(name) = &req.display_name {
        v.length("display_name", name, 1, MAX_NAME);
    }
    let new_email = req
        .email
        .as_deref()
        .map(hfb_store::normalize_email)
        .filter(|e| *e != user.email);
    if let Some(email) = &new_email {
        validate_email(&mut v, "email", email);
    }
    v.finish()?;
    if new_email.is_some() {
        require_password(&user, req.current_password, "current_password").await?;
    }
    let updated = state
        .store
        .update_user(
            user_id,
            UserUpdate {
                display_name: req.display_name.map(|n| n.trim().to_owned()),
                email: new_email,
                password_hash: None,
            },
        )
        .await
        .map_err(|e| match e {
            hfb_store::StoreError::Conflict(_) => ApiError::new(
                ErrorCode::Conflict,
                "another account already uses this e-mail",
            ),
            other => other.into(),
        })?;
    Ok(updated)
}

/// Changes the password and signs out every other session.
pub async fn change_password(
    state: &AppState,
    user_id: &str,
    current_session: &str,
    req: ChangePasswordRequest,
) -> Result<u64, ApiError> {
    let user = user(state, user_id).await?;
    require_password(&user, Some(req.current_password), "current_password").await?;
    if let Some(why) = password::weakness(&req.new_password, &user.email, &user.display_name) {
        let mut v = Validator::default();
        v.error("new_password", why);
        v.finish()?;
    }
    let password_hash = password::hash(req.new_password).await?;
    state
        .store
        .update_user(
            user_id,
            UserUpdate {
                password_hash: Some(password_hash),
                ..UserUpdate::default()
            },
        )
        .await?;
    let revoked = state
        .store
        .revoke_sessions_for_user(
            user_id,
            Some(current_session),
            "password changed",
            Utc::now(),
        )
        .await?;
    tracing::info!(
        user_id,
        revoked,
        security_event = "password_changed",
        "password changed"
    );
    Ok(revoked)
}

/// Deletes the account after checking the password. Refused while the user is the only
/// owner of a shared team that has other members (ownership must be handed over first).
pub async fn delete_account(
    state: &AppState,
    user_id: &str,
    password: String,
) -> Result<(), ApiError> {
    let user = user(state, user_id).await?;
    require_password(&user, Some(password), "password").await?;
    for (team, role) in state.store.teams_for_user(user_id).await? {
        if team.personal || role != hfb_store::TeamRole::Owner {
            continue;
        }
        let members = state.store.list_members(&team.id).await?;
        let other_owner = members
            .iter()
            .any(|m| m.user_id != user_id && m.role == hfb_store::TeamRole::Owner);
        if members.len() > 1 && !other_owner {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "you are the only owner of team \"{}\": make another member owner first",
                    team.name
                ),
            ));
        }
        if members.len() == 1 {
            state.store.delete_team(&team.id).await?;
        }
    }
    state.store.delete_user(user_id).await?;
    tracing::info!(
        user_id,
        security_event = "account_deleted",
        "account deleted"
    );
    state.hot.credentials_changed();
    Ok(())
}

pub async fn sessions(
    state: &AppState,
    user_id: &str,
    current: Option<&str>,
) -> Result<Vec<SessionInfo>, ApiError> {
    let now = Utc::now();
    Ok(state
        .store
        .list_sessions_for_user(user_id)
        .await?
        .into_iter()
        .filter(|s| s.is_active(now))
        .map(|s| SessionInfo {
            current: current == Some(s.id.as_str()),
            revoked: s.revoked_at.is_some(),
            id: s.id,
            user_agent: s.user_agent,
            ip: s.ip,
            created_at: s.created_at.to_rfc3339(),
            last_used_at: s.last_used_at.to_rfc3339(),
            expires_at: s.expires_at.to_rfc3339(),
        })
        .collect())
}

pub async fn revoke_session(
    state: &AppState,
    user_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    let owned = state
        .store
        .session_by_id(session_id)
        .await?
        .is_some_and(|s| s.user_id == user_id && s.revoked_at.is_none());
    if !owned {
        return Err(ApiError::not_found("no active session with this id"));
    }
    state
        .store
        .revoke_session(session_id, "revoked by user", Utc::now())
        .await?;
    Ok(())
}

pub async fn revoke_all_sessions(
    state: &AppState,
    user_id: &str,
    keep: Option<&str>,
) -> Result<u64, ApiError> {
    Ok(state
        .store
        .revoke_sessions_for_user(user_id, keep, "revoked by user", Utc::now())
        .await?)
}
