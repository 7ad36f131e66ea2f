//! Background tasks that run beside the HTTP server.

pub mod catalog_sync;
pub mod reconciler;
