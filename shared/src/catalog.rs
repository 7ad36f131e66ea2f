//! The model catalog: search, facets, model detail, imports.

use serde::{Deserialize, Serialize};

/// One model in search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSummary {
    /// `owner/name`.
    pub id: String,
    pub author: Option<String>,
    /// The task (`pipeline_tag`), e.g. `feature-extraction`.
    pub task: Option<String>,
    pub library: Option<String>,
    pub languages: Vec<String>,
    pub license: Option<String>,
    pub tags: Vec<String>,
    /// Downloads over the last 30 days.
    pub downloads: i64,
    pub likes: i64,
    pub trending_score: f64,
    /// RFC 3339.
    pub created_at: Option<String>,
    /// RFC 3339 (the Hub's `lastModified`).
    pub updated_at: Option<String>,
    /// `false`, `auto` or `manual`.
    pub gated: String,
    /// `synced`, `imported` or `local`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetValue {
    pub value: String,
    pub count: u64,
}

/// Counts per value over every model the query matches (for the filter panel).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchFacets {
    pub tasks: Vec<FacetValue>,
    pub libraries: Vec<FacetValue>,
    pub licenses: Vec<FacetValue>,
    pub languages: Vec<FacetValue>,
}

/// `GET /api/v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSearchResponse {
    pub items: Vec<ModelSummary>,
    /// Models matching the query, over all pages.
    pub total: u64,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub pages: u32,
    pub facets: SearchFacets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelFileInfo {
    pub path: String,
    pub size: Option<i64>,
}

/// `GET /api/v1/models/{owner}/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelDetail {
    pub model: ModelSummary,
    pub sha: Option<String>,
    pub files: Vec<ModelFileInfo>,
    /// The model card rendered to sanitized HTML (no scripts, handlers or `javascript:` links).
    pub card_html: Option<String>,
    /// The card's YAML front matter as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub card_metadata: Option<serde_json::Value>,
    /// Where the model lives on the Hub.
    pub hub_url: Option<String>,
}

/// One entry the import refused, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRejection {
    /// Position in the submitted array (0-based).
    pub index: usize,
    pub id: Option<String>,
    pub reason: String,
}

/// `POST /api/v1/admin/catalog/import` and `hfb catalog import`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub received: usize,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: Vec<ImportRejection>,
}
