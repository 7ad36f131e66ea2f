//! Business logic with no actix types: handlers parse, call a service, map the result.

pub mod accounts;
pub mod batch;
pub mod catalog;
pub mod chat;
pub mod deployments;
pub mod hot;
pub mod inference;
pub mod limits;
pub mod local_models;
pub mod readiness;
pub mod tasks;
pub mod teams;
pub mod upstream;
pub mod validation;
pub mod vectors;
