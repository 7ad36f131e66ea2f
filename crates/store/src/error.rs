use thiserror::Error;

/// Errors of every repository method. Messages never contain connection strings or secrets.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum StoreError {
    /// The addressed record does not exist (for updates; lookups return `Ok(None)`).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated, e.g. a duplicate e-mail.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database is unreachable, busy or timed out: retry later (HTTP 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, corrupt data, or an unexpected database answer.
    #[error("store error: {0}")]
    Internal(String),
}
