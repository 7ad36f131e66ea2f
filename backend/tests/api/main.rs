//! One integration-test binary: each module drives the real server over HTTP/WebSocket.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod catalog;
mod chat;
mod deployments;
mod docs;
mod errors;
mod health;
mod helpers;
mod inference;
mod keys;
mod limits;
mod redis;
mod spa;
mod teams;
mod ws;
