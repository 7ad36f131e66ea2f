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
    /// 401/403 from a management API (Inference Endpoints, Spaces) while no token is
    /// configured: these APIs always need one.
    #[error(
        "a Hugging Face access token is required for this operation: configure a token with write access"
    )]
    MissingToken,
    /// 401/403 from a management API although a token was sent: it is invalid, expired,
    /// read-only, or has no access to the namespace.
    #[error(
        "Hugging Face refused the access token ({status}: {message}): a valid token with write access to this namespace is needed"
    )]
    TokenRejected { status: u16, message: String },
    /// 409 from a management API: the endpoint or repository name is taken, or the
    /// resource is in a state that does not allow the operation.
    #[error("conflict on Hugging Face: {message}")]
    Conflict { message: String },
    /// 400/422 from a management API: the request was refused, with the Hub's reason.
    #[error("Hugging Face rejected the request ({status}): {message}")]
    Invalid { status: u16, message: String },
    /// The caller's input cannot make a valid request; nothing was sent.
    #[error("invalid request: {0}")]
    InvalidArgument(String),
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
            | HubError::InvalidConfig(_)
            | HubError::MissingToken
            | HubError::TokenRejected { .. }
            | HubError::Conflict { .. }
            | HubError::Invalid { .. }
            | HubError::InvalidArgument(_) => false,
        }
    }

    /// Whether Hugging Face itself is unreachable or failing (network errors, timeouts,
    /// 5xx): the operation may succeed later without any change on our side.
    pub fn is_upstream_down(&self) -> bool {
        match self {
            HubError::Network(_) | HubError::Timeout => true,
            HubError::Upstream { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
