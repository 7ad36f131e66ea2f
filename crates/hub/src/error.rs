//! The one error type of this crate. Messages never contain the access token.

use std::time::Duration;

/// What went wrong talking to the Hub.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// A repo id that the Hub would reject; no request was sent.
    #[error("invalid repo id: {0}")]
    InvalidRepoId(String),
    /// The repository, revision or file does not exist (404, or `X-Error-Code: RepoNotFound`).
    #[error("not found on the Hub")]
    NotFound,
    /// 401/403: the repository is gated or private, or the token is missing or invalid.
    #[error("unauthorized: the repository is gated or private, or the token is invalid")]
    Unauthorized,
    /// 429 after the retries ran out, or a `Retry-After` longer than `max_backoff`.
    #[error("rate limited by the Hub{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    /// Any other non-success status (5xx after the retries ran out, or a 4xx).
    #[error("Hub answered {status}: {message}")]
    Upstream { status: u16, message: String },
    /// The request (connect, send or body) took longer than `HubConfig::timeout`.
    #[error("request to the Hub timed out")]
    Timeout,
    /// Connection-level failure (DNS, refused, reset, TLS).
    #[error("network error: {0}")]
    Network(String),
    /// The Hub answered success with a body or header this client cannot read.
    #[error("malformed Hub response: {0}")]
    Malformed(String),
    /// `HubConfig` cannot be used (endpoint not a URL, header-unsafe token or user agent).
    #[error("invalid Hub client configuration: {0}")]
    InvalidConfig(String),
}

impl HubError {
    /// Whether the same request may succeed later: network errors, timeouts, 429 and 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            HubError::Network(_) | HubError::Timeout | HubError::RateLimited { .. } => true,
            HubError::Upstream { status, .. } => *status >= 500,
            HubError::InvalidRepoId(_)
            | HubError::NotFound
            | HubError::Unauthorized
            | HubError::Malformed(_)
            | HubError::InvalidConfig(_) => false,
        }
    }
}
