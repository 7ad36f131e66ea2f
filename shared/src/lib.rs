//! Types that cross the wire between the hfb API server and its clients.
//!
//! Everything here is plain serde data: no server dependencies, so the crate also
//! builds for `wasm32-unknown-unknown`. With the `openapi` feature every type also
//! derives `utoipa::ToSchema`, which is how the server documents its routes.

pub mod auth;
pub mod catalog;
pub mod deployments;
pub mod error;
pub mod health;
pub mod inference;
pub mod telemetry;
pub mod ws;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
