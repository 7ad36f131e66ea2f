//! Typed client for the hfb API.
//!
//! Every call goes to the same origin under `/api`, and every failure comes back as the
//! shared [`ErrorDetail`]: the server's own error body when it sent one, a detail built
//! from the HTTP status when it did not, `network` when no answer arrived at all and
//! `timeout` when the answer took longer than [`TIMEOUT_MS`].

pub mod system;
pub mod ws;

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
#[allow(dead_code)] // The first forms (sign-in, deploy) arrive with later pages.
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
    // Aborting through a controller also frees the browser's connection, unlike racing a timer.
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    let builder = RequestBuilder::new(&url(path))
        .method(method)
        .header("accept", "application/json")
        .abort_signal(signal.as_ref());
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

    let timer = controller
        .clone()
        .map(|c| Timeout::new(TIMEOUT_MS, move || c.abort()));
    let result = request.send().await;
    drop(timer);

    let response = match result {
        Ok(response) => response,
        Err(e) => {
            let timed_out = signal.as_ref().is_some_and(|s| s.aborted());
            return Err(if timed_out {
                detail(
                    ErrorCode::Timeout,
                    format!("The server did not answer within {} s.", TIMEOUT_MS / 1000),
                    None,
                )
            } else {
                detail(
                    ErrorCode::Network,
                    format!("Could not reach the server: {e}"),
                    None,
                )
            });
        }
    };
    if response.ok() {
        Ok(response)
    } else {
        Err(error_from_response(response).await)
    }
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
