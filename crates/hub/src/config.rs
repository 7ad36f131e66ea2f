use std::fmt;
use std::time::Duration;

/// The public Hub; `HF_ENDPOINT` points the platform elsewhere (a mirror, wiremock in tests).
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// Settings of a [`crate::HubClient`]. `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// Base URL of the Hub, e.g. `https://huggingface.co` (a path prefix is kept).
    pub endpoint: String,
    /// Access token sent as `Authorization: Bearer`; empty or blank counts as none.
    pub token: Option<String>,
    /// Whole-request timeout (connect, headers and body) of one attempt.
    pub timeout: Duration,
    /// Retries after the first attempt on network errors, timeouts, 429 and 5xx.
    pub max_retries: u32,
    /// Longest wait between attempts; a longer `Retry-After` is returned as
    /// [`crate::HubError::RateLimited`] at once instead of being waited out.
    pub max_backoff: Duration,
    /// `User-Agent` header of every request.
    pub user_agent: String,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            token: None,
            timeout: Duration::from_secs(15),
            max_retries: 3,
            max_backoff: Duration::from_secs(30),
            user_agent: concat!("hfb-hub/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl fmt::Debug for HubConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubConfig")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_backoff", &self.max_backoff)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}
