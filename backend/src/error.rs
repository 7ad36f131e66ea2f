//! Errors of the HTTP API.
//!
//! Which type to use where:
//! - Handlers and extractors return [`ApiError`]. It carries a stable [`ErrorCode`], a
//!   message safe to show to the caller, and optional structured `details`.
//! - Services return their own domain errors (or store/cache errors) and implement
//!   `From<...> for ApiError`, so handlers stay one `?` deep.
//! - Faults the caller cannot fix go through [`ApiError::internal`]: the cause is logged
//!   with the request id, the answer says only "internal error".
//!
//! Every error response, including actix's own (malformed JSON, unknown routes, wrong
//! methods, oversized bodies), leaves the server as
//! `{"error":{"code","message","details"?,"request_id"}}`: the request-context middleware
//! stamps the request id and wraps any non-JSON error body (see `middleware.rs`).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use hfb_shared::{ErrorBody, ErrorCode, ErrorDetail};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
    /// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) on a 429.
    pub rate_limit: Option<(u32, u32, u64)>,
    /// Also delete the browser's session cookies (a refresh that can never succeed).
    pub clear_session_cookies: bool,
    /// Calls made to an upstream (a deployment's endpoint) and the last status it
    /// answered: `X-Hfb-Attempts` and `X-Hfb-Upstream-Status` headers.
    pub upstream: Option<UpstreamTrace>,
}

/// What an inference call did upstream, reported in headers on answers and errors alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpstreamTrace {
    pub attempts: u32,
    pub status: Option<u16>,
}

impl UpstreamTrace {
    /// `X-Hfb-Attempts` and, when the upstream answered, `X-Hfb-Upstream-Status`.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = Vec::with_capacity(3);
        h.push((
            HeaderName::from_static("x-hfb-attempts"),
            HeaderValue::from(self.attempts),
        ));
        if let Some(status) = self.status {
            h.push((
                HeaderName::from_static("x-hfb-upstream-status"),
                HeaderValue::from(status),
            ));
        }
        h
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
            rate_limit: None,
            clear_session_cookies: false,
            upstream: None,
        }
    }

    pub fn with_upstream(mut self, trace: UpstreamTrace) -> Self {
        self.upstream = Some(trace);
        self
    }

    pub fn clearing_session_cookies(mut self) -> Self {
        self.clear_session_cookies = true;
        self
    }

    pub fn with_rate_limit(mut self, limit: u32, remaining: u32, reset_secs: u64) -> Self {
        self.rate_limit = Some((limit, remaining, reset_secs));
        self
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ServiceUnavailable, message).with_retry_after(5)
    }

    /// Logs `cause` and answers a generic 500: internals never reach the caller.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Internal,
            "internal error; the request id identifies it in the server log",
        )
    }

    pub fn to_body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message.clone(),
                details: self.details.clone(),
                request_id,
            },
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            res.insert_header(("retry-after", seconds.to_string()));
        }
        if let Some((limit, remaining, reset)) = self.rate_limit {
            res.insert_header(("ratelimit-limit", limit.to_string()));
            res.insert_header(("ratelimit-remaining", remaining.to_string()));
            res.insert_header(("ratelimit-reset", reset.to_string()));
        }
        if let Some(trace) = &self.upstream {
            for header in trace.headers() {
                res.insert_header(header);
            }
        }
        if self.clear_session_cookies {
            for cookie in crate::auth::cookies::removal() {
                res.cookie(cookie);
            }
        }
        // The middleware re-renders this body with the request id; this one is the
        // fallback when the error escapes outside of it.
        res.json(self.to_body(None))
    }
}

impl From<hfb_store::StoreError> for ApiError {
    fn from(err: hfb_store::StoreError) -> Self {
        use hfb_store::StoreError as E;
        match err {
            E::NotFound => Self::not_found("not found"),
            E::Conflict(what) => Self::new(ErrorCode::Conflict, what),
            E::Unavailable(why) => {
                tracing::warn!(error = %why, "store unavailable");
                Self::unavailable("the data store is unavailable; retry shortly")
            }
            E::Internal(why) => Self::internal(why),
        }
    }
}

/// Turns actix's JSON extractor errors into the API's shape.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { length, limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is {length} bytes; this route accepts at most {limit}"),
        ),
        J::Overflow { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than this route accepts ({limit} bytes)"),
        ),
        J::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        J::Deserialize(e) => {
            ApiError::new(ErrorCode::InvalidJson, format!("invalid JSON body: {e}"))
        }
        J::Payload(e) => ApiError::bad_request(format!("could not read the body: {e}")),
        other => ApiError::bad_request(format!("invalid body: {other}")),
    };
    api.into()
}

/// The 415 `web::Json` gives, for routes that read the body as bytes: the content type
/// must be JSON (`application/json` or a `+json` type).
pub fn require_json(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    use actix_web::HttpMessage;
    use actix_web::mime;
    match req.mime_type() {
        Ok(Some(m))
            if m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON)) =>
        {
            Ok(())
        }
        _ => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        )),
    }
}

pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("invalid query string: {err}"),
    )
    .into()
}

pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::new(ErrorCode::InvalidPath, format!("invalid path: {err}")).into()
}

pub fn payload_error(err: actix_web::error::PayloadError) -> ApiError {
    use actix_web::error::PayloadError as P;
    match err {
        P::Overflow => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the body is larger than this route accepts",
        ),
        other => ApiError::bad_request(format!("could not read the body: {other}")),
    }
}
