//! Hugging Face Hub client for hfb (the catalog's upstream).
//!
//! - [`HubClient`]: `list_models` (one page; the next comes from the `Link` header),
//!   `list_models_from`, `list_all`, `model_info`, `model_card`; retries with full-jitter
//!   backoff honouring `Retry-After`; the token is never shown in errors, logs or `Debug`.
//! - [`HubModel`]: a model entry with the Hub's JSON field names, so it can be served back
//!   Hub-compatible; helpers for license, languages and datasets.
//! - [`ListModelsQuery`]: the `GET /api/models` parameters, serialized as the Hub expects.
//! - [`HubError`]: the one error type; [`HubError::is_retryable`].
//!
//! The endpoint is configurable ([`HubConfig::endpoint`]) so tests use wiremock.

mod client;
mod config;
mod error;
mod headers;
mod model;
mod query;
mod repo_id;

pub use client::{HubClient, INITIAL_BACKOFF, MAX_BODY_BYTES, MAX_PAGE_SIZE, ModelPage};
pub use config::{DEFAULT_ENDPOINT, HubConfig};
pub use error::HubError;
pub use model::{Gated, HubModel, Sibling};
pub use query::{HubSort, ListModelsQuery, UnknownSort};
pub use repo_id::{MAX_REPO_PART_LEN, validate_repo_id};
