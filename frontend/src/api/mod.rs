//! Typed client for the hfb API.
//!
//! Every call goes to the same origin under `/api`, and every failure comes back as the
//! shared [`ErrorDetail`]: the server's own error body when it sent one, a detail built
//! from the HTTP status when it did not, `network` when no answer arrived at all and
//! `timeout` when the answer took longer than [`TIMEOUT_MS`].
//!
//! Calls for the signed-in user go through the `*_authed` variants: they attach the bearer
//! access token that [`Credentials`] supplies, and on a 401 they renew it once and retry
//! the call once before the session counts as ended.

pub mod account;
pub mod auth;
pub mod catalog;
pub mod deployments;
pub mod system;
pub mod teams;
pub mod ws;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use gloo_net::http::{Method, RequestBuilder, Response};
use gloo_timers::callback::Timeout;
use hfb_shared::{ErrorBody, ErrorCode, ErrorDetail};
use serde::{Serialize, de::DeserializeOwned};
use web_sys::AbortController;

/// Where the API lives, relative to the page's origin.
pub const API_BASE: &str = "/api";

/// How long one request may take before it is aborted.
pub const TIMEOUT_MS: u32 = 15_000;

pub type ApiResult<T> = Result<T, ErrorDetail>;

/// `GET /api{path}` and decode the JSON answer.
pub async fn get_json<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    let response = send(Method::GET, path, None::<&()>).await?;
    read_json(response).await
}

/// `POST /api{path}` with a JSON body and decode the JSON answer.
pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> ApiResult<T> {
    let response = send(Method::POST, path, Some(body)).await?;
    read_json(response).await
}

/// `PUT /api{path}` with a JSON body and decode the JSON answer.
#[allow(dead_code)]
pub async fn put_json<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> ApiResult<T> {
    let response = send(Method::PUT, path, Some(body)).await?;
    read_json(response).await
}

/// `DELETE /api{path}`; any 2xx answer is success and its body is ignored.
#[allow(dead_code)]
pub async fn delete(path: &str) -> ApiResult<()> {
    send(Method::DELETE, path, None::<&()>).await.map(|_| ())
}

/// The full same-origin URL of an API path such as `/v1/version`.
pub fn url(path: &str) -> String {
    format!("{API_BASE}{path}")
}

fn detail(code: ErrorCode, message: impl Into<String>, request_id: Option<String>) -> ErrorDetail {
    ErrorDetail {
        code,
        message: message.into(),
        details: None,
        request_id,
    }
}

/// Sends one request and turns everything that is not a 2xx answer into an `ErrorDetail`.
async fn send<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<Response> {
    send_with_headers(method, path, body, &[]).await
}

/// [`send`] with extra request headers (`authorization`, `x-csrf-token`).
async fn send_with_headers<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
    headers: &[(&str, &str)],
) -> ApiResult<Response> {
    send_cancellable(method, path, body, headers, None).await
}

/// [`send_with_headers`] that the caller can also abort through `cancel` (a search the
/// user has already typed past); the timeout aborts the same controller.
async fn send_cancellable<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
    headers: &[(&str, &str)],
    cancel: Option<&AbortController>,
) -> ApiResult<Response> {
    let response = send_raw(method, path, body, headers, cancel).await?;
    if response.ok() {
        Ok(response)
    } else {
        Err(error_from_response(response).await)
    }
}

/// Sends one request and returns whatever HTTP answer came, error statuses included (for
/// callers that read an error answer's headers too); only a missing answer is an error.
async fn send_raw<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
    headers: &[(&str, &str)],
    cancel: Option<&AbortController>,
) -> ApiResult<Response> {
    // Aborting through a controller also frees the browser's connection, unlike racing a timer.
    let controller = match cancel {
        Some(c) => Some(c.clone()),
        None => AbortController::new().ok(),
    };
    let signal = controller.as_ref().map(|c| c.signal());
    let timed_out = Rc::new(Cell::new(false));
    let mut builder = RequestBuilder::new(&url(path))
        .method(method)
        .header("accept", "application/json")
        .abort_signal(signal.as_ref());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = match body {
        Some(body) => builder.json(body),
        None => builder.build(),
    }
    .map_err(|e| {
        detail(
            ErrorCode::BadRequest,
            format!("Could not build the request: {e}"),
            None,
        )
    })?;

    let timer = controller.clone().map(|c| {
        let timed_out = timed_out.clone();
        Timeout::new(TIMEOUT_MS, move || {
            timed_out.set(true);
            c.abort();
        })
    });
    let result = request.send().await;
    drop(timer);

    match result {
        Ok(response) => Ok(response),
        Err(e) => {
            let cancelled = signal.as_ref().is_some_and(|s| s.aborted());
            Err(if timed_out.get() {
                detail(
                    ErrorCode::Timeout,
                    format!("The server did not answer within {} s.", TIMEOUT_MS / 1000),
                    None,
                )
            } else if cancelled {
                detail(ErrorCode::Network, "The request was cancelled.", None)
            } else {
                detail(
                    ErrorCode::Network,
                    format!("Could not reach the server: {e}"),
                    None,
                )
            })
        }
    }
}

/// Supplies bearer tokens to the `*_authed` calls; the session state implements it and
/// registers itself with [`set_credentials`].
pub trait Credentials {
    /// A token to use now, renewed first when the one held is about to expire;
    /// `unauthorized` when nobody is signed in.
    fn token(&self) -> LocalBoxFuture<'static, ApiResult<String>>;
    /// `rejected` got a 401: a renewed token. Every caller that saw the same token
    /// rejected shares one renewal, and a token renewed meanwhile is returned as is.
    fn renew(&self, rejected: &str) -> LocalBoxFuture<'static, ApiResult<String>>;
    /// The renewed token was refused as well: the session is over.
    fn session_ended(&self, error: &ErrorDetail);
}

thread_local! {
    static CREDENTIALS: RefCell<Option<Rc<dyn Credentials>>> = const { RefCell::new(None) };
}

/// Registers where the `*_authed` calls get their tokens from.
pub fn set_credentials(credentials: Rc<dyn Credentials>) {
    CREDENTIALS.with(|c| *c.borrow_mut() = Some(credentials));
}

fn credentials() -> ApiResult<Rc<dyn Credentials>> {
    CREDENTIALS
        .with(|c| c.borrow().clone())
        .ok_or_else(|| detail(ErrorCode::Unauthorized, "Sign in first.", None))
}

/// `details.reason` of the errors that mean "nobody is signed in (any more)": the session
/// reports that once, so pages need not show them again.
const SIGNED_OUT: &str = "signed_out";

/// Whether a call failed because the session is over (see [`SIGNED_OUT`]).
pub fn is_signed_out(error: &ErrorDetail) -> bool {
    error
        .details
        .as_ref()
        .and_then(|d| d.get("reason"))
        .and_then(|r| r.as_str())
        == Some(SIGNED_OUT)
}

fn signed_out(mut error: ErrorDetail) -> ErrorDetail {
    if matches!(error.code, ErrorCode::Unauthorized | ErrorCode::Forbidden) {
        error.code = ErrorCode::Unauthorized;
        error.details = Some(serde_json::json!({ "reason": SIGNED_OUT }));
    }
    error
}

/// Sends with `Authorization: Bearer`; a 401 renews the token once and retries once.
async fn send_authed<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
) -> ApiResult<Response> {
    send_authed_cancellable(method, path, body, None).await
}

async fn send_authed_cancellable<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
    cancel: Option<&AbortController>,
) -> ApiResult<Response> {
    let credentials = credentials()?;
    let token = credentials.token().await.map_err(signed_out)?;
    let first = send_bearer(method.clone(), path, body, &token, cancel).await;
    match first {
        Err(e) if e.code == ErrorCode::Unauthorized => {
            let renewed = credentials.renew(&token).await.map_err(signed_out)?;
            let second = send_bearer(method, path, body, &renewed, cancel).await;
            match second {
                Err(e) if e.code == ErrorCode::Unauthorized => {
                    credentials.session_ended(&e);
                    Err(signed_out(e))
                }
                other => other,
            }
        }
        other => other,
    }
}

async fn send_bearer<B: Serialize + ?Sized>(
    method: Method,
    path: &str,
    body: Option<&B>,
    token: &str,
    cancel: Option<&AbortController>,
) -> ApiResult<Response> {
    let bearer = format!("Bearer {token}");
    send_cancellable(method, path, body, &[("authorization", &bearer)], cancel).await
}

/// `GET /api{path}` and decode the JSON answer: as the signed-in user when `authed`,
/// anonymously otherwise. Aborting `cancel` ends the call early with a `network` error.
pub async fn get_json_cancellable<T: DeserializeOwned>(
    path: &str,
    authed: bool,
    cancel: Option<&AbortController>,
) -> ApiResult<T> {
    let response = if authed {
        send_authed_cancellable(Method::GET, path, None::<&()>, cancel).await?
    } else {
        send_cancellable(Method::GET, path, None::<&()>, &[], cancel).await?
    };
    read_json(response).await
}

/// `GET /api{path}` as the signed-in user and decode the JSON answer.
pub async fn get_json_authed<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    let response = send_authed(Method::GET, path, None::<&()>).await?;
    read_json(response).await
}

/// `POST /api{path}` as the signed-in user; `body` may be `None` for actions.
pub async fn post_json_authed<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: Option<&B>,
) -> ApiResult<T> {
    let response = send_authed(Method::POST, path, body).await?;
    read_json(response).await
}

/// `PATCH /api{path}` as the signed-in user and decode the JSON answer.
pub async fn patch_json_authed<B: Serialize + ?Sized, T: DeserializeOwned>(
    path: &str,
    body: &B,
) -> ApiResult<T> {
    let response = send_authed(Method::PATCH, path, Some(body)).await?;
    read_json(response).await
}

/// `PATCH /api{path}` as the signed-in user; any 2xx answer is success.
pub async fn patch_authed<B: Serialize + ?Sized>(path: &str, body: &B) -> ApiResult<()> {
    send_authed(Method::PATCH, path, Some(body))
        .await
        .map(|_| ())
}

/// `DELETE /api{path}` as the signed-in user, with an optional JSON body; any 2xx
/// answer is success and its body is ignored.
pub async fn delete_authed<B: Serialize + ?Sized>(path: &str, body: Option<&B>) -> ApiResult<()> {
    send_authed(Method::DELETE, path, body).await.map(|_| ())
}

/// `DELETE /api{path}` as the signed-in user and decode the JSON answer.
pub async fn delete_json_authed<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    let response = send_authed(Method::DELETE, path, None::<&()>).await?;
    read_json(response).await
}

/// Field errors of a `validation_failed` (or wrong-password) answer:
/// `details.fields = [{field, message}]`.
pub fn field_errors(error: &ErrorDetail) -> Vec<(String, String)> {
    error
        .details
        .as_ref()
        .and_then(|d| d.get("fields"))
        .and_then(|f| f.as_array())
        .map(|fields| {
            fields
                .iter()
                .filter_map(|f| {
                    Some((
                        f.get("field")?.as_str()?.to_owned(),
                        f.get("message")?.as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Percent-encodes one path segment or query value.
pub fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

async fn read_json<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    let request_id = response.headers().get("x-request-id");
    let text = response.text().await.map_err(|e| {
        detail(
            ErrorCode::Network,
            format!("The answer was cut off: {e}"),
            request_id.clone(),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        detail(
            ErrorCode::Internal,
            format!("The server's answer could not be read: {e}"),
            request_id,
        )
    })
}

async fn error_from_response(response: Response) -> ErrorDetail {
    let status = response.status();
    let status_text = response.status_text();
    let request_id = response.headers().get("x-request-id");
    let text = response.text().await.unwrap_or_default();
    parse_error_body(status, &status_text, &text, request_id)
}

/// The server's error body when the text is one, else a detail built from the status.
fn parse_error_body(
    status: u16,
    status_text: &str,
    text: &str,
    request_id: Option<String>,
) -> ErrorDetail {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(ErrorBody { mut error }) => {
            if error.request_id.is_none() {
                error.request_id = request_id;
            }
            error
        }
        Err(_) => {
            let text = text.trim();
            // A short plain-text body (a proxy's "Bad Gateway") says more than the status alone.
            let message = if !text.is_empty() && text.len() <= 200 && !text.starts_with('<') {
                format!("HTTP {status}: {text}")
            } else if status_text.is_empty() {
                format!("The server answered HTTP {status}.")
            } else {
                format!("The server answered HTTP {status} {status_text}.")
            };
            detail(ErrorCode::from_status(status), message, request_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_sessions_are_marked_once() {
        let body =
            r#"{"error":{"code":"unauthorized","message":"ended","details":{"reason":"revoked"}}}"#;
        let e = parse_error_body(401, "", body, None);
        assert!(!is_signed_out(&e));
        let e = signed_out(e);
        assert!(is_signed_out(&e));
        assert_eq!(e.message, "ended");
        let network = detail(ErrorCode::Network, "offline", None);
        assert!(!is_signed_out(&signed_out(network)));
    }

    #[test]
    fn field_errors_come_from_details_fields() {
        let body = r#"{"error":{"code":"validation_failed","message":"x","details":{"fields":[{"field":"email","message":"must be an e-mail address"},{"field":"password","message":"too short"}]}}}"#;
        let e = parse_error_body(422, "", body, None);
        assert_eq!(
            field_errors(&e),
            vec![
                ("email".to_owned(), "must be an e-mail address".to_owned()),
                ("password".to_owned(), "too short".to_owned()),
            ]
        );
        let body =
            r#"{"error":{"code":"unauthorized","message":"x","details":{"reason":"credentials"}}}"#;
        let e = parse_error_body(401, "", body, None);
        assert!(field_errors(&e).is_empty());
    }

    #[test]
    fn server_error_bodies_are_kept_as_sent() {
        let body = r#"{"error":{"code":"internal","message":"boom","request_id":"req-1"}}"#;
        let e = parse_error_body(500, "Internal Server Error", body, Some("other".into()));
        assert_eq!(e.code, ErrorCode::Internal);
        assert_eq!(e.message, "boom");
        assert_eq!(e.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn other_bodies_map_the_status_and_keep_the_header_request_id() {
        let e = parse_error_body(502, "Bad Gateway", "<html>nope</html>", Some("h".into()));
        assert_eq!(e.code, ErrorCode::UpstreamError);
        assert_eq!(e.message, "The server answered HTTP 502 Bad Gateway.");
        assert_eq!(e.request_id.as_deref(), Some("h"));
        let e = parse_error_body(429, "", "slow down", None);
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert_eq!(e.message, "HTTP 429: slow down");
    }
}
