//! The one error shape of the API: `{"error":{"code","message","details"?,"request_id"}}`.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. They are part of the API contract:
/// add new ones freely, never rename or repurpose an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed in a way no more specific code covers.
    BadRequest,
    /// The body is not valid JSON, or not the JSON shape the route expects.
    InvalidJson,
    /// A query-string parameter is missing, malformed or out of range.
    InvalidQuery,
    /// A path segment does not parse (for example a malformed id).
    InvalidPath,
    /// The body is larger than the route accepts.
    PayloadTooLarge,
    /// The body's `Content-Type` is not one the route accepts.
    UnsupportedMediaType,
    /// Fields parsed but failed validation; `details` lists them.
    ValidationFailed,
    /// No credentials, or credentials that are expired or invalid.
    Unauthorized,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// Nothing exists at this route or with this id.
    NotFound,
    /// The route exists but not for this HTTP method.
    MethodNotAllowed,
    /// The change conflicts with the current state (for example a duplicate).
    Conflict,
    /// Too many requests; retry after the `Retry-After` header.
    RateLimited,
    /// A dependency (store, cache, upstream) is unavailable; retry later.
    ServiceUnavailable,
    /// An upstream answered with an error or with something unusable.
    UpstreamError,
    /// An upstream or the server took too long.
    Timeout,
    /// An unexpected server fault. Details are in the server log under the request id.
    Internal,
    /// Client side only: the request never got an HTTP answer.
    Network,
    /// A code this client does not know yet (newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status the server answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidJson | Self::InvalidQuery | Self::InvalidPath => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ValidationFailed => 422,
            Self::RateLimited => 429,
            Self::Internal | Self::Unknown => 500,
            Self::UpstreamError => 502,
            Self::ServiceUnavailable | Self::Network => 503,
            Self::Timeout => 504,
        }
    }

    /// The code a bare HTTP status maps to when nothing more specific is known.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::ValidationFailed,
            429 => Self::RateLimited,
            502 => Self::UpstreamError,
            503 => Self::ServiceUnavailable,
            504 | 408 => Self::Timeout,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }

    /// The snake_case name, as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidJson => "invalid_json",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidPath => "invalid_path",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::ValidationFailed => "validation_failed",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::ServiceUnavailable => "service_unavailable",
            Self::UpstreamError => "upstream_error",
            Self::Timeout => "timeout",
            Self::Internal => "internal",
            Self::Network => "network",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for people (`message`) and for programs (`code`, `details`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// Structured extras, for example the list of invalid fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub details: Option<serde_json::Value>,
    /// The id of the request in the server's logs (also in the `x-request-id` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                details: None,
                request_id: None,
            },
        }
    }
}

impl std::fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_snake_case_and_round_trip() {
        let body = ErrorBody::new(ErrorCode::PayloadTooLarge, "too big");
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(json["error"]["code"], "payload_too_large");
        assert!(json["error"].get("details").is_none());
        let back: ErrorBody = serde_json::from_value(json).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn as_str_matches_serde_name_for_every_code() {
        use ErrorCode::*;
        for code in [
            BadRequest,
            InvalidJson,
            InvalidQuery,
            InvalidPath,
            PayloadTooLarge,
            UnsupportedMediaType,
            ValidationFailed,
            Unauthorized,
            Forbidden,
            NotFound,
            MethodNotAllowed,
            Conflict,
            RateLimited,
            ServiceUnavailable,
            UpstreamError,
            Timeout,
            Internal,
            Network,
            Unknown,
        ] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }

    #[test]
    fn unknown_codes_from_newer_servers_still_parse() {
        let code: ErrorCode = serde_json::from_str("\"quota_exceeded\"").unwrap();
        assert_eq!(code, ErrorCode::Unknown);
    }

    #[test]
    fn status_mapping_is_consistent() {
        for status in [
            400u16, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 502, 503, 504,
        ] {
            let code = ErrorCode::from_status(status);
            assert_eq!(code.http_status(), status, "{code}");
        }
    }
}
