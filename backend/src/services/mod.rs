//! Business logic with no actix types: handlers parse, call a service, map the result.

pub mod readiness;
pub mod validation;
