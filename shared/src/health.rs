//! Version, liveness and readiness payloads.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    /// Product name, `hfb`.
    pub name: String,
    /// The server's semantic version.
    pub version: String,
    /// The API major version served under `/api/<api_version>/`.
    pub api_version: String,
    /// `debug` or `release`.
    pub build_profile: String,
    /// `development` or `production`.
    pub environment: String,
    /// Random id of this server process, to tell instances apart behind a load balancer.
    pub instance_id: String,
    /// Seconds since this process started.
    pub uptime_seconds: u64,
}

/// `GET /healthz`: the process is alive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Liveness {
    pub status: String,
}

/// Overall readiness: `ready` when every dependency is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReadinessStatus {
    Ready,
    /// Something is down; the server answers what it safely can.
    Degraded,
}

/// Up or down, for one dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Up,
    Down,
}

/// The result of probing one dependency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DependencyCheck {
    /// What the dependency is for: `store`, `cache`.
    pub name: String,
    /// What serves it: `sqlite`, `mongodb`, `redis`, `memory`.
    pub backend: String,
    pub status: CheckStatus,
    /// How long the probe took.
    pub latency_ms: f64,
    /// Why it is down (never contains credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /readyz` (503 when degraded) and `GET /api/v1/health` (always 200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub status: ReadinessStatus,
    pub checks: Vec<DependencyCheck>,
    /// RFC 3339 time of the probe.
    pub checked_at: String,
}

impl Readiness {
    pub fn from_checks(checks: Vec<DependencyCheck>, checked_at: String) -> Self {
        let status = if checks.iter().all(|c| c.status == CheckStatus::Up) {
            ReadinessStatus::Ready
        } else {
            ReadinessStatus::Degraded
        };
        Self {
            status,
            checks,
            checked_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: CheckStatus) -> DependencyCheck {
        DependencyCheck {
            name: "cache".into(),
            backend: "redis".into(),
            status,
            latency_ms: 0.4,
            message: None,
        }
    }

    #[test]
    fn one_down_dependency_degrades_readiness() {
        let ready = Readiness::from_checks(vec![check(CheckStatus::Up)], String::new());
        assert_eq!(ready.status, ReadinessStatus::Ready);
        let degraded = Readiness::from_checks(
            vec![check(CheckStatus::Up), check(CheckStatus::Down)],
            String::new(),
        );
        assert_eq!(degraded.status, ReadinessStatus::Degraded);
        assert_eq!(serde_json::to_value(degraded.status).unwrap(), "degraded");
    }
}
