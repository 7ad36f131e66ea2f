//! Sign-up, sign-in, token refresh and sign-out.

use actix_web::{HttpRequest, HttpResponse, post, web};
use hfb_shared::ErrorBody;
use hfb_shared::auth::{AuthResponse, LoginRequest, SignupRequest};
use serde::Deserialize;

use crate::auth::cookies;
use crate::error::ApiError;
use crate::services::accounts::{self, ClientInfo, IssuedSession};
use crate::services::limits;
use crate::state::AppState;

/// The caller's IP: the TCP peer, or the forwarded client when behind a trusted proxy.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> String {
    let info = req.connection_info();
    let ip = if state.settings.trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    ip.unwrap_or("unknown").to_owned()
}

pub fn client_info(req: &HttpRequest, state: &AppState) -> ClientInfo {
    ClientInfo {
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ip: Some(client_ip(req, state)),
    }
}

async fn limit_ip(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let subject = format!("auth-ip:{}", client_ip(req, state));
    limits::check(state, &subject, limits::auth_quota(&state.settings)).await
}

fn with_cookies(
    mut res: actix_web::HttpResponseBuilder,
    issued: IssuedSession,
    state: &AppState,
) -> HttpResponse {
    res.cookie(cookies::refresh_cookie(
        &issued.refresh_token,
        &state.settings,
    ))
    .cookie(cookies::csrf_cookie(
        &issued.response.csrf_token,
        &state.settings,
    ))
    .insert_header(("cache-control", "no-store"))
    .json(issued.response)
}

/// Create an account (and its personal team) and sign in.
#[utoipa::path(
    tag = "auth",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Signed up and signed in; refresh cookie set", body = AuthResponse),
        (status = 409, description = "The e-mail is taken", body = ErrorBody),
        (status = 422, description = "Invalid fields (e-mail, name, password strength)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    )
)]
#[post("/auth/signup")]
pub async fn signup(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SignupRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_ip(&req, &state).await?;
    let issued = accounts::signup(&state, body.into_inner(), client_info(&req, &state)).await?;
    Ok(with_cookies(HttpResponse::Created(), issued, &state))
}

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; refresh cookie set", body = AuthResponse),
        (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this account", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    limit_ip(&req, &state).await?;
    let issued = accounts::login(&state, body.into_inner(), client_info(&req, &state)).await?;
    Ok(with_cookies(HttpResponse::Ok(), issued, &state))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RefreshQuery {
    /// Act for this team in the new access token (default: the personal team).
    pub team_id: Option<String>,
}

/// Rotate the refresh cookie and get a new access token. Needs the `hfb_refresh` cookie,
/// the CSRF token in `X-CSRF-Token`, and a same-site Origin. A refresh token that was
/// already rotated revokes its whole session.
#[utoipa::path(
    tag = "auth",
    params(RefreshQuery),
    responses(
        (status = 200, description = "New access token; refresh cookie rotated", body = AuthResponse),
        (status = 401, description = "No session, expired, revoked, or reused refresh token", body = ErrorBody),
        (status = 403, description = "CSRF token or Origin check failed", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RefreshQuery>,
) -> Result<HttpResponse, ApiError> {
    limit_ip(&req, &state).await?;
    cookies::check_csrf(&req, &state.settings)?;
    let token = cookies::refresh_token(&req).ok_or_else(|| {
        ApiError::new(hfb_shared::ErrorCode::Unauthorized, "not signed in")
            .with_details(serde_json::json!({ "reason": "missing" }))
    })?;
    match accounts::refresh(&state, &token, query.team_id.as_deref()).await {
        Ok(issued) => Ok(with_cookies(HttpResponse::Ok(), issued, &state)),
        // A dead session should stop sending its cookie.
        Err(e) => Err(e.clearing_session_cookies()),
    }
}

/// Sign out: revokes the session of the refresh cookie (CSRF-checked) or of the bearer
/// access token, and clears the cookies.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "CSRF token or Origin check failed", body = ErrorBody),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let cookie = cookies::refresh_token(&req);
    if cookie.is_some() {
        cookies::check_csrf(&req, &state.settings)?;
    }
    let bearer_session = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|t| state.tokens.verify_access(t.trim()).ok())
        .map(|claims| claims.sid);
    accounts::logout(&state, cookie.as_deref(), bearer_session.as_deref()).await?;
    let mut res = HttpResponse::NoContent();
    for c in cookies::cleared(&state.settings) {
        res.cookie(c);
    }
    Ok(res.finish())
}
