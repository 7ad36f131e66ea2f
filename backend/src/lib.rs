//! The hfb API server as a library: `main.rs` and the integration tests both start it
//! through [`startup::Application`].

pub mod auth;
pub mod config;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod services;
pub mod spa;
pub mod startup;
pub mod state;
pub mod targets;
pub mod telemetry;
pub mod workers;
pub mod ws;
