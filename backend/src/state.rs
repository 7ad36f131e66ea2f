//! What every handler can reach: settings, the store, the cache and the WebSocket hub.

use std::sync::Arc;
use std::time::Instant;

use hfb_cache::{Cache, RateLimiter};
use hfb_store::Store;

use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::ws::WsHub;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub cache: Arc<dyn Cache>,
    pub hub: WsHub,
    pub tokens: Arc<TokenKeys>,
    pub limiter: Arc<dyn RateLimiter>,
    /// The Hugging Face Hub as a live catalog source; `None` when disabled.
    pub live_hub: Option<Arc<crate::services::catalog::LiveHub>>,
    /// Deployment targets by kind.
    pub targets: crate::targets::Targets,
    /// The local runtime target, for inference calls to local deployments.
    pub local: Arc<crate::targets::local::LocalTarget>,
    /// Wakes the deployment reconciler after a change.
    pub reconciler: crate::workers::reconciler::ReconcilerHandle,
    /// Artifacts and deployment manifests (local folder or S3).
    pub blobs: Arc<dyn hfb_blob::BlobStore>,
    /// Calls to remote deployments: timeouts, retries, circuit breakers, counters.
    pub upstreams: Arc<crate::services::upstream::Upstreams>,
    /// Short-lived copies of API-key principals and deployments for the inference path.
    pub hot: Arc<crate::services::hot::HotCaches>,
    /// Signs calls to IAM-authenticated Lambda function URLs (made on first use).
    pub lambda_signer: Arc<tokio::sync::OnceCell<hfb_cloud::FunctionUrlSigner>>,
    /// Random id of this process, to tell instances apart.
    pub instance_id: Arc<str>,
    pub started_at: Instant,
}
