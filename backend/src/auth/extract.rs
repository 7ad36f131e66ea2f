//! The [`Principal`] extractor: who is calling, for which team, with which scopes.
//!
//! `Authorization: Bearer <token>` carries either an access JWT (browser sessions) or an
//! API key (`hfb_...`). Either way the caller's *current* membership bounds what it may
//! do, so a demoted user or a key whose owner left the team loses access at once.
//! Every authenticated call also counts against the per-user/per-key rate limit.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, web};
use hfb_shared::ErrorCode;
use hfb_shared::auth::{Role, Scope};

use super::policy::{Action, role_allows, role_from_store, role_scopes};
use super::tokens::{TokenError, api_key_hash, looks_like_api_key};
use crate::error::ApiError;
use crate::services::limits;
use crate::state::AppState;

/// The authenticated caller of a request: a shared [`Caller`], so a call with a cached API
/// key copies a pointer rather than the whole record.
#[derive(Debug, Clone)]
pub struct Principal(Arc<Caller>);

impl std::ops::Deref for Principal {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.0
    }
}

#[derive(Debug)]
pub struct Caller {
    pub user_id: String,
    /// The team this call acts for (the token's team, or the API key's team).
    pub team_id: String,
    /// The caller's role in that team, read at request time.
    pub role: Role,
    /// What this call may do: the role's scopes, narrowed by the API key's scopes.
    pub scopes: BTreeSet<Scope>,
    /// Set for browser/API sessions (JWT).
    pub session_id: Option<String>,
    /// Set for API-key calls.
    pub api_key_id: Option<String>,
    /// The scopes the API key was created with (to bound it in other checks).
    pub key_scopes: Option<BTreeSet<Scope>>,
    /// What the rate limiter counts this call against: `key:{id}` or `user:{id}`.
    rate_subject: String,
}

impl Principal {
    fn new(caller: Caller) -> Self {
        Self(Arc::new(caller))
    }
}

impl Caller {
    /// Fails with 403 unless both the role and the scopes allow `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        require(self.role, &self.scopes, action)
    }

    /// The scopes this principal would have with `role` in some team.
    pub fn scopes_with(&self, role: Role) -> BTreeSet<Scope> {
        let mut scopes = role_scopes(role);
        if let Some(key) = &self.key_scopes {
            scopes.retain(|s| key.contains(s));
        }
        scopes
    }

    /// Account management (profile, password, keys) needs a person, not an API key.
    pub fn require_session(&self) -> Result<&str, ApiError> {
        self.session_id.as_deref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                "API keys cannot manage accounts or keys; sign in instead",
            )
        })
    }
}

pub fn require(role: Role, scopes: &BTreeSet<Scope>, action: Action) -> Result<(), ApiError> {
    if !role_allows(role, action) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "your role ({}) cannot do this; it needs {}",
                role.as_str(),
                action.min_role().as_str()
            ),
        ));
    }
    if !scopes.contains(&action.scope()) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "this credential lacks the `{}` scope",
                action.scope().as_str()
            ),
        ));
    }
    Ok(())
}

fn unauthorized(message: &str, reason: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message)
        .with_details(serde_json::json!({ "reason": reason }))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let header = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("app state missing"))?;
            let header = header.ok_or_else(|| {
                unauthorized(
                    "sign in, or send `Authorization: Bearer <access token or API key>`",
                    "missing",
                )
            })?;
            let token = header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    unauthorized(
                        "the Authorization header must be `Bearer <token>`",
                        "malformed",
                    )
                })?;
            let principal = if looks_like_api_key(token) {
                from_api_key(&state, token).await?
            } else {
                from_access_token(&state, token).await?
            };
            limits::check(
                &state,
                &principal.rate_subject,
                limits::api_quota(&state.settings),
            )
            .await?;
            Ok(principal)
        })
    }
}

/// `Some(principal)` with valid credentials, `None` without any; invalid credentials
/// are still refused (a typo in a token should not silently fall back to anonymous).
#[derive(Debug, Clone)]
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequest for MaybePrincipal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        if !req
            .headers()
            .contains_key(actix_web::http::header::AUTHORIZATION)
        {
            return Box::pin(async { Ok(MaybePrincipal(None)) });
        }
        let inner = Principal::from_request(req, payload);
        Box::pin(async move { inner.await.map(|p| MaybePrincipal(Some(p))) })
    }
}

async fn from_access_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let claims = state.tokens.verify_access(token).map_err(|e| match e {
        TokenError::Expired => unauthorized("the access token has expired; refresh it", "expired"),
        TokenError::Invalid => unauthorized("the access token is invalid", "invalid"),
    })?;
    let now = chrono::Utc::now();
    let session = state.store.session_by_id(&claims.sid).await?;
    if !session.is_some_and(|s| s.user_id == claims.sub && s.is_active(now)) {
        return Err(unauthorized(
            "this session has ended; sign in again",
            "revoked",
        ));
    }
    let membership = state
        .store
        .membership(&claims.team, &claims.sub)
        .await?
        .ok_or_else(|| unauthorized("you are no longer a member of this team", "no_membership"))?;
    let role = role_from_store(membership.role);
    Ok(Principal::new(Caller {
        rate_subject: format!("user:{}", claims.sub),
        user_id: claims.sub,
        team_id: claims.team,
        role,
        scopes: role_scopes(role),
        session_id: Some(claims.sid),
        api_key_id: None,
        key_scopes: None,
    }))
}

async fn from_api_key(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let hash = api_key_hash(token);
    if let Some(principal) = state.hot.api_keys.get(&hash) {
        return Ok(principal);
    }
    let principal = resolve_api_key(state, &hash).await?;
    state.hot.api_keys.put(hash, principal.clone());
    Ok(principal)
}

async fn resolve_api_key(state: &AppState, hash: &str) -> Result<Principal, ApiError> {
    let now = chrono::Utc::now();
    let key = state
        .store
        .api_key_by_hash(hash)
        .await?
        .ok_or_else(|| unauthorized("unknown API key", "invalid"))?;
    if !key.is_usable(now) {
        return Err(unauthorized(
            "this API key has been revoked or has expired",
            "revoked",
        ));
    }
    let membership = state
        .store
        .membership(&key.team_id, &key.user_id)
        .await?
        .ok_or_else(|| {
            unauthorized(
                "the key's owner is no longer a member of its team",
                "no_membership",
            )
        })?;
    let role = role_from_store(membership.role);
    let key_scopes: BTreeSet<Scope> = key.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    let mut scopes = role_scopes(role);
    scopes.retain(|s| key_scopes.contains(s));
    // Last-used time is informational: refresh it at most once a minute per key.
    if key
        .last_used_at
        .is_none_or(|t| now - t > chrono::Duration::seconds(60))
        && let Err(e) = state.store.touch_api_key(&key.id, now).await
    {
        tracing::warn!(error = %e, "could not record API key use");
    }
    Ok(Principal::new(Caller {
        rate_subject: format!("key:{}", key.id),
        user_id: key.user_id,
        team_id: key.team_id,
        role,
        scopes,
        session_id: None,
        api_key_id: Some(key.id),
        key_scopes: Some(key_scopes),
    }))
}

#[cfg(test)]
impl Principal {
    /// An owner of `team` with every scope (unit tests).
    pub(crate) fn for_tests(team: &str) -> Self {
        let role = Role::Owner;
        Self::new(Caller {
            user_id: "user".into(),
            team_id: team.into(),
            role,
            scopes: role_scopes(role),
            session_id: None,
            api_key_id: None,
            key_scopes: None,
            rate_subject: "user:user".into(),
        })
    }
}
