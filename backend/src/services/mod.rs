//! Business logic with no actix types: handlers parse, call a service, map the result.

pub mod accounts;
pub mod catalog;
pub mod deployments;
pub mod inference;
pub mod limits;
pub mod local_models;
pub mod readiness;
pub mod teams;
pub mod validation;
