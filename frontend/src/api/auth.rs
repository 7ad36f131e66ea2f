//! Sign-up, sign-in, token refresh and sign-out: the cookie-authenticated calls.
//!
//! Refresh and sign-out are authenticated by the httpOnly `hfb_refresh` cookie, which the
//! browser sends by itself on these same-origin calls; they must echo the readable
//! `hfb_csrf` cookie in `X-CSRF-Token` (the browser adds the Origin header).

use gloo_net::http::Method;
use hfb_shared::auth::{AuthResponse, LoginRequest, SignupRequest};
use wasm_bindgen::JsCast;

use super::{ApiResult, encode, post_json, read_json, send_with_headers};

/// The readable cookie holding the CSRF token of the browser session.
pub const CSRF_COOKIE: &str = "hfb_csrf";

/// `POST /api/v1/auth/signup`: creates the account and signs in.
pub async fn signup(request: &SignupRequest) -> ApiResult<AuthResponse> {
    post_json("/v1/auth/signup", request).await
}

/// `POST /api/v1/auth/login`.
pub async fn login(request: &LoginRequest) -> ApiResult<AuthResponse> {
    post_json("/v1/auth/login", request).await
}

/// `POST /api/v1/auth/refresh[?team_id=]`: rotates the refresh cookie and returns a new
/// access token, acting for `team_id` when given (and the user is a member).
pub async fn refresh(team_id: Option<&str>, csrf: &str) -> ApiResult<AuthResponse> {
    let path = match team_id {
        Some(team) => format!("/v1/auth/refresh?team_id={}", encode(team)),
        None => "/v1/auth/refresh".to_owned(),
    };
    let response =
        send_with_headers(Method::POST, &path, None::<&()>, &[("x-csrf-token", csrf)]).await?;
    read_json(response).await
}

/// `POST /api/v1/auth/logout`: ends the session of the cookie (and of the access token).
pub async fn logout(access_token: Option<&str>, csrf: Option<&str>) -> ApiResult<()> {
    let bearer = access_token.map(|t| format!("Bearer {t}"));
    let mut headers = Vec::new();
    if let Some(bearer) = &bearer {
        headers.push(("authorization", bearer.as_str()));
    }
    if let Some(csrf) = csrf {
        headers.push(("x-csrf-token", csrf));
    }
    send_with_headers(Method::POST, "/v1/auth/logout", None::<&()>, &headers)
        .await
        .map(|_| ())
}

/// The value of a cookie this page can read (`document.cookie`).
pub fn read_cookie(name: &str) -> Option<String> {
    let cookies = web_sys::window()?
        .document()?
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()?;
    cookie_value(&cookies, name)
}

/// Finds `name` in a `document.cookie` string (`a=1; b=2`).
fn cookie_value(cookies: &str, name: &str) -> Option<String> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::cookie_value;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let jar = "hfb.x=1; hfb_csrf=abc=def; other=; hfb_csrf2=no";
        assert_eq!(cookie_value(jar, "hfb_csrf").as_deref(), Some("abc=def"));
        assert_eq!(cookie_value(jar, "other"), None);
        assert_eq!(cookie_value(jar, "missing"), None);
        assert_eq!(cookie_value("", "hfb_csrf"), None);
    }
}
