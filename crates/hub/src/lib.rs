//! Hugging Face clients for hfb: the Hub's model API (the catalog's upstream) and the two
//! Hugging Face deployment targets, Inference Endpoints and Spaces.
//!
//! - [`HubClient`]: `list_models` (one page; the next comes from the `Link` header),
//!   `list_models_from`, `list_all`, `model_info`, `model_card`; retries with full-jitter
//!   backoff honouring `Retry-After`; the token is never shown in errors, logs or `Debug`.
//! - [`HubModel`]: a model entry with the Hub's JSON field names, so it can be served back
//!   Hub-compatible; helpers for license, languages and datasets.
//! - [`ListModelsQuery`]: the `GET /api/models` parameters, serialized as the Hub expects.
//! - [`EndpointsClient`] (Inference Endpoints API v2): `create` from an [`EndpointSpec`]
//!   ([`EndpointSpec::cpu`] gives one-click defaults), `get`, `status` (one `GET`:
//!   [`EndpointState`], message, URL), `list`, `update` ([`EndpointUpdate`]: revision,
//!   scaling, instance), `pause`, `resume`, `scale_to_zero`, `delete` (`Ok(false)` when
//!   already gone).
//! - [`SpacesClient`]: `create` ([`SpaceSpec`]), `commit` ([`CommitOperation`]s through
//!   the NDJSON commit API), `request_hardware`, `set_sleep_time`, `runtime`
//!   ([`SpaceRuntime`]: [`SpaceStage`], hardware, error message), `pause`, `restart`,
//!   `delete`. [`generate_space`] writes the inference app of a model and [`SpaceTask`]
//!   ([`GeneratedSpace`]: README.md with Space front matter, app.py, requirements.txt).
//! - [`HubError`]: the one error type; [`HubError::is_retryable`],
//!   [`HubError::is_upstream_down`]. The deployment clients add [`HubError::MissingToken`],
//!   [`HubError::TokenRejected`], [`HubError::Conflict`], [`HubError::Invalid`] and
//!   [`HubError::InvalidArgument`].
//!
//! Every base URL is configurable ([`HubConfig::endpoint`], the `api_base` of
//! [`EndpointsClient::new`]) so tests use wiremock.

mod client;
mod config;
mod endpoints;
mod error;
mod headers;
mod model;
mod query;
mod repo_id;
mod spaces;

pub use client::{HubClient, INITIAL_BACKOFF, MAX_BODY_BYTES, MAX_PAGE_SIZE, ModelPage};
pub use config::{DEFAULT_ENDPOINT, HubConfig};
pub use endpoints::{
    DEFAULT_ENDPOINTS_API, DEFAULT_SCALE_TO_ZERO_MINUTES, Endpoint, EndpointImage, EndpointSpec,
    EndpointState, EndpointStatus, EndpointType, EndpointUpdate, EndpointsClient,
    MAX_ENDPOINT_NAME_LEN, ScalingMeasure, validate_endpoint_name,
};
pub use error::HubError;
pub use model::{Gated, HubModel, Sibling};
pub use query::{HubSort, ListModelsQuery, UnknownSort};
pub use repo_id::{MAX_REPO_PART_LEN, validate_repo_id};
pub use spaces::{
    CommitInfo, CommitOperation, GRADIO_VERSION, GeneratedSpace, MAX_COMMIT_FILE_BYTES,
    SPACE_PYTHON_VERSION, SpaceFile, SpaceRuntime, SpaceSdk, SpaceSpec, SpaceStage, SpaceTask,
    SpacesClient, generate_space, space_host,
};
