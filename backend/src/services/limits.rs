//! Rate limits: per client IP on the sign-in routes, per user or API key elsewhere,
//! and a slow-down for accounts with repeated failed logins. The limiter is shared by
//! all instances through Redis when configured.

use std::time::Duration;

use hfb_cache::{Quota, RateDecision};
use hfb_shared::ErrorCode;

use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;

pub fn auth_quota(settings: &Settings) -> Quota {
    Quota::new(settings.rate_limit_auth_per_min, Duration::from_secs(60))
}

pub fn api_quota(settings: &Settings) -> Quota {
    Quota::new(settings.rate_limit_per_min, Duration::from_secs(60))
}

/// Failed logins allowed per account before it slows down to one try per 3 minutes.
pub fn failed_login_quota() -> Quota {
    Quota::new(5, Duration::from_secs(15 * 60))
}

/// Counts one call for `subject`; a 429 with `Retry-After` and `RateLimit-*` when over.
/// A limiter outage lets the call through (availability over strictness) and is logged.
pub async fn check(state: &AppState, subject: &str, quota: Quota) -> Result<(), ApiError> {
    match state.limiter.check(subject, quota).await {
        Ok(decision) if decision.allowed => Ok(()),
        Ok(decision) => Err(too_many(&decision, "too many requests; slow down")),
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; allowing the call");
            Ok(())
        }
    }
}

pub fn too_many(decision: &RateDecision, message: &str) -> ApiError {
    let retry = decision.retry_after.as_secs_f64().ceil().max(1.0) as u64;
    ApiError::new(
        ErrorCode::RateLimited,
        format!("{message}; retry in {retry} s"),
    )
    .with_retry_after(retry)
    .with_rate_limit(
        decision.limit,
        decision.remaining,
        decision.reset_after.as_secs_f64().ceil() as u64,
    )
}
