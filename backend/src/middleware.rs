//! The request-context middleware: one place that gives every request an id, a tracing
//! span and a log line, and gives every error response the API's JSON shape.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use hfb_shared::{ErrorBody, ErrorCode};
use tracing::Instrument;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Accepts a caller's id when it is short and plain (so proxies can correlate), else makes one.
fn request_id_for(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id)
}

/// A UUIDv7 (time-ordered) from the process's user-space generator: no system call per
/// request, as `Uuid::now_v7` would make on this platform.
fn new_request_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    uuid::Builder::from_unix_timestamp_millis(millis, &rand::random())
        .into_uuid()
        .simple()
        .to_string()
}

/// Every request: an id, a tracing span and a log line; errors in the API's JSON shape;
/// the security headers on every response. (One middleware rather than several: each
/// layer costs an allocation and an indirection on every call.)
///
/// The span carries only the request id, which every event logged while the request runs
/// repeats; the access line, logged once the response is ready, carries the method and
/// path as its own fields. (A span's fields are re-read for each event in its scope, so
/// the access line is logged outside it: that was most of the cost of logging a call.)
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = req
        .app_data::<actix_web::web::Data<SecurityHeaders>>()
        .cloned();
    let request_id = request_id_for(&req);
    let method = req.method().clone();
    let path = req.path().to_owned();
    let span = tracing::info_span!("request", request_id = %request_id);
    let started = Instant::now();

    // Inner services turn handler errors into responses; an `Err` here is rare (a fault in
    // a middleware) and is rendered by actix from the same `ResponseError` impls.
    // (Cloning the request to build a response here would break actix's routing.)
    let res = next.call(req).instrument(span).await?.map_into_boxed_body();
    let status = res.status();
    let mut res = if status.is_client_error() || status.is_server_error() {
        error_envelope(res, &request_id)
    } else {
        res
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(header::HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    add_security_headers(res.headers_mut(), policy.as_ref().map(|p| p.get_ref()));

    // Whole microseconds, so the logged figure is short (`1.921` rather than `1.92100000001`).
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let status = status.as_u16();
    let method = method.as_str();
    let path = path.as_str();
    if status >= 500 {
        tracing::error!(
            request_id = request_id.as_str(),
            method,
            path,
            status,
            latency_ms,
            "request failed"
        );
    } else if path == "/healthz" || path == "/readyz" {
        tracing::debug!(
            request_id = request_id.as_str(),
            method,
            path,
            status,
            latency_ms,
            "probe"
        );
    } else if tracing::enabled!(tracing::Level::INFO) {
        let line = crate::telemetry::AccessLine {
            request_id: &request_id,
            method,
            path,
            status,
            latency_ms,
        };
        // JSON lines skip tracing's formatter (the same line, a fifth of the cost).
        if !crate::telemetry::write_access_line(&line) {
            tracing::info!(
                request_id = request_id.as_str(),
                method,
                path,
                status,
                latency_ms,
                "request"
            );
        }
    }
    Ok(res)
}

/// Gives an error response the API's JSON shape with the request id.
///
/// An [`ApiError`] is re-rendered with the id; another JSON body (for example the
/// readiness report on a 503) or an HTML page is left as it is; anything else, such as
/// actix's own plain-text 404/405 answers, is replaced by a JSON error from the status.
fn error_envelope(res: ServiceResponse<BoxBody>, request_id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let api_error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .cloned();
    let body = match api_error {
        Some(api) => api.to_body(Some(request_id.to_owned())),
        // Already JSON (e.g. the readiness report), or a page meant for a browser.
        None if has_content_type(&res, "application/json")
            || has_content_type(&res, "text/html") =>
        {
            return res;
        }
        None => {
            let message = generic_message(&res, status);
            let mut body = ErrorBody::new(ErrorCode::from_status(status.as_u16()), message);
            body.error.request_id = Some(request_id.to_owned());
            body
        }
    };
    let bytes = match serde_json::to_vec(&body) {
        Ok(bytes) => bytes,
        Err(_) => return res,
    };
    let (req, response) = res.into_parts();
    let mut response = response.set_body(BoxBody::new(bytes));
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_ENCODING);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    ServiceResponse::new(req, response)
}

fn has_content_type(res: &ServiceResponse<BoxBody>, prefix: &str) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

fn generic_message(res: &ServiceResponse<BoxBody>, status: StatusCode) -> String {
    let req = res.request();
    match status {
        StatusCode::NOT_FOUND => format!("nothing at {} {}", req.method(), req.path()),
        StatusCode::METHOD_NOT_ALLOWED => {
            format!("{} is not allowed on {}", req.method(), req.path())
        }
        s if s.is_client_error() => match res.response().error() {
            Some(err) => err.to_string(),
            None => s.canonical_reason().unwrap_or("bad request").to_lowercase(),
        },
        // Server faults: the cause goes to the log, never to the caller.
        _ => {
            if let Some(err) = res.response().error() {
                tracing::error!(error = %err, "unhandled server error");
            }
            "internal error; the request id identifies it in the server log".to_owned()
        }
    }
}

/// Headers every response carries. The CSP allows the WASM app (its inline bootstrap
/// script by hash, `wasm-unsafe-eval` to compile the module) and nothing else.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    csp: HeaderValue,
    hsts: bool,
}

impl SecurityHeaders {
    pub fn new(inline_script_hashes: &[String], https: bool) -> Self {
        let hashes: String = inline_script_hashes
            .iter()
            .map(|h| format!(" 'sha256-{h}'"))
            .collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
             base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        );
        Self {
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            hsts: https,
        }
    }
}

fn add_security_headers(headers: &mut header::HeaderMap, policy: Option<&SecurityHeaders>) {
    if let Some(policy) = policy {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp.clone());
        if policy.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
}
