//! Reports the web app sends about errors it met, so operators see them in the server log.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/telemetry/client-errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientErrorReport {
    /// What the person saw (1 to 2000 characters).
    pub message: String,
    /// The API error code, when the error came from the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The request id of the failed API call, to join with server logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The page (path) where it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// Answer to an accepted report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    pub accepted: bool,
}

/// One invalid field in a `validation_failed` error's `details.fields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the field, e.g. `message` or `inputs[3]`.
    pub field: String,
    pub message: String,
}
