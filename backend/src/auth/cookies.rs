//! Browser session cookies and the CSRF check for cookie-authenticated calls.
//!
//! The refresh token lives only in `hfb_refresh` (httpOnly, SameSite=Strict, scoped to
//! `/api/v1/auth`, Secure over https). Refresh and logout are authenticated by that
//! cookie alone, so they also need the double-submit CSRF token (`hfb_csrf` cookie,
//! readable by the app, echoed in `X-CSRF-Token`) and an Origin that is ours.

use actix_web::HttpRequest;
use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};
use hfb_shared::ErrorCode;
use subtle::ConstantTimeEq;

use super::tokens::REFRESH_TTL;
use crate::config::Settings;
use crate::error::ApiError;

pub const REFRESH_COOKIE: &str = "hfb_refresh";
pub const CSRF_COOKIE: &str = "hfb_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/auth";

fn secure(settings: &Settings) -> bool {
    settings.public_app_url.starts_with("https://")
}

pub fn refresh_cookie(token: &str, settings: &Settings) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, token.to_owned())
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(settings))
        .max_age(CookieDuration::seconds(REFRESH_TTL.as_secs() as i64))
        .finish()
}

pub fn csrf_cookie(token: &str, settings: &Settings) -> Cookie<'static> {
    Cookie::build(CSRF_COOKIE, token.to_owned())
        .path("/")
        .http_only(false)
        .same_site(SameSite::Strict)
        .secure(secure(settings))
        .max_age(CookieDuration::seconds(REFRESH_TTL.as_secs() as i64))
        .finish()
}

/// Cookies that delete both session cookies.
pub fn cleared(settings: &Settings) -> [Cookie<'static>; 2] {
    let mut refresh = refresh_cookie("", settings);
    refresh.make_removal();
    let mut csrf = csrf_cookie("", settings);
    csrf.make_removal();
    [refresh, csrf]
}

/// Removal cookies that need no settings (for error answers).
pub fn removal() -> [Cookie<'static>; 2] {
    let mut refresh = Cookie::build(REFRESH_COOKIE, "")
        .path(REFRESH_COOKIE_PATH)
        .finish();
    refresh.make_removal();
    let mut csrf = Cookie::build(CSRF_COOKIE, "").path("/").finish();
    csrf.make_removal();
    [refresh, csrf]
}

pub fn refresh_token(req: &HttpRequest) -> Option<String> {
    req.cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(ErrorCode::Forbidden, message)
        .with_details(serde_json::json!({ "reason": "csrf" }))
}

/// Double-submit token and Origin check for cookie-authenticated calls.
pub fn check_csrf(req: &HttpRequest, settings: &Settings) -> Result<(), ApiError> {
    let cookie = req
        .cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let header = req
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if cookie.is_empty()
        || header.is_empty()
        || !bool::from(cookie.as_bytes().ct_eq(header.as_bytes()))
    {
        return Err(forbidden(
            "missing or wrong CSRF token: send the hfb_csrf cookie value in X-CSRF-Token",
        ));
    }
    let origin = req
        .headers()
        .get("origin")
        .or_else(|| req.headers().get("referer"))
        .and_then(|v| v.to_str().ok())
        .map(origin_of);
    match origin {
        Some(origin) if allowed_origin(req, settings, &origin) => Ok(()),
        Some(_) => Err(forbidden("this request comes from another site")),
        None => Err(forbidden(
            "cookie-authenticated calls must carry an Origin header",
        )),
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split('/').next().unwrap_or("");
    format!("{scheme}://{host}").to_lowercase()
}

fn allowed_origin(req: &HttpRequest, settings: &Settings, origin: &str) -> bool {
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host()).to_lowercase();
    origin == own
        || origin == origin_of(&settings.public_app_url)
        || settings.cors_origins.iter().any(|o| origin_of(o) == origin)
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins_drop_paths_and_case() {
        assert_eq!(
            origin_of("https://App.example.com:8443/x/y?z"),
            "https://app.example.com:8443"
        );
        assert_eq!(origin_of("http://localhost:3000"), "http://localhost:3000");
    }
}
