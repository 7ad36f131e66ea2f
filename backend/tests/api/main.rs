//! One integration-test binary: each module drives the real server over HTTP/WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod docs;
mod errors;
mod health;
mod helpers;
mod redis;
mod spa;
mod ws;
