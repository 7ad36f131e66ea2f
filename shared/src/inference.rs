//! Batch inference: many inputs in one call, answered item by item.

use serde::{Deserialize, Serialize};

use crate::ErrorDetail;

/// `POST /api/v1/deployments/{id}/batch`: each item of `inputs` is what `inputs` would be
/// in one `/infer` call (a string, or an object for sentence-similarity and
/// question-answering); `parameters` apply to every item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchRequest {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub inputs: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub parameters: Option<serde_json::Value>,
}

/// One item's answer: `output` (what `/infer` would answer for it) or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem {
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub output: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

/// The answers in the order of the inputs, with counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchResponse {
    pub results: Vec<BatchItem>,
    pub succeeded: usize,
    pub failed: usize,
}
