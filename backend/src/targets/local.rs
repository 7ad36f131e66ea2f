//! The built-in target: models from the local model store (`<data dir>/models/<owner>/<name>`)
//! run in this process on the CPU (crates/runtime). Replicas are worker threads sharing one
//! copy of the weights. With `min_replicas = 0` a model idle for `scale_to_zero_after_secs`
//! is unloaded (status `scaled_to_zero`) and loaded again by the next call.
//!
//! Loaded models live in this process only: after a restart, or on another instance, the
//! first call loads the model again ([`LocalTarget::slot_for`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use hfb_runtime::{LoadOptions, ModelSlot};
use hfb_shared::deployments::{DeploymentSpec, TargetKind};
use hfb_store::Deployment;

use super::{DeploymentCtx, EMBEDDING_TASKS, Phase, Progress, Target, TargetError};

/// CPU cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Replicas (runtime workers) of a new local deployment: one per core, at most 8.
pub fn default_workers() -> u32 {
    u32::try_from(cores().clamp(1, 8)).unwrap_or(1)
}

/// How often idle models are looked at.
const JANITOR_INTERVAL: Duration = Duration::from_millis(500);

struct Loaded {
    slot: Arc<ModelSlot>,
    version: u32,
    min_replicas: u32,
    idle_after: Duration,
}

/// Called when a model was unloaded for idleness (deployment id), so the status can say so.
pub type ScaledToZero = Arc<dyn Fn(String) + Send + Sync>;

pub struct LocalTarget {
    models_dir: PathBuf,
    loaded: Mutex<HashMap<String, Loaded>>,
}

impl LocalTarget {
    pub fn new(models_dir: PathBuf) -> Arc<Self> {
        Arc::new(Self {
            models_dir,
            loaded: Mutex::new(HashMap::new()),
        })
    }

    /// Starts the task that unloads idle models; `on_scaled` is told which deployment it
    /// unloaded.
    pub fn spawn_janitor(self: &Arc<Self>, on_scaled: ScaledToZero) {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(JANITOR_INTERVAL).await;
                let Some(target) = weak.upgrade() else { break };
                let candidates: Vec<(String, Arc<ModelSlot>, Duration)> = target
                    .lock()
                    .iter()
                    .filter(|(_, l)| l.min_replicas == 0)
                    .map(|(id, l)| (id.clone(), l.slot.clone(), l.idle_after))
                    .collect();
                for (id, slot, idle_after) in candidates {
                    if slot.unload_if_idle(idle_after).await {
                        tracing::info!(deployment = %id, "local model unloaded after idle time");
                        on_scaled(id);
                    }
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Loaded>> {
        self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The folder of a model in the local model store.
    pub fn model_dir(&self, model_id: &str) -> PathBuf {
        model_id
            .split('/')
            .fold(self.models_dir.clone(), |dir, part| dir.join(part))
    }

    fn has_model(dir: &Path) -> bool {
        dir.join("config.json").is_file() && dir.join("tokenizer.json").is_file()
    }

    fn options(model_id: &str, spec: &DeploymentSpec) -> LoadOptions {
        let workers = usize::try_from(spec.scaling.max_replicas.max(1)).unwrap_or(1);
        LoadOptions {
            workers,
            // The cores shared out between the workers: with a worker per core each runs
            // its matrix kernels on one thread, with no cross-thread hand-offs per op.
            threads_per_worker: Some((cores() / workers).max(1)),
            model_id: Some(model_id.to_owned()),
            ..LoadOptions::default()
        }
    }

    fn install(
        &self,
        id: &str,
        model_id: &str,
        version: u32,
        spec: &DeploymentSpec,
    ) -> Arc<ModelSlot> {
        let mut loaded = self.lock();
        if let Some(l) = loaded.get(id)
            && l.version == version
        {
            return l.slot.clone();
        }
        let slot = Arc::new(ModelSlot::new(
            self.model_dir(model_id),
            Self::options(model_id, spec),
        ));
        loaded.insert(
            id.to_owned(),
            Loaded {
                slot: slot.clone(),
                version,
                min_replicas: spec.scaling.min_replicas,
                idle_after: Duration::from_secs(u64::from(spec.scaling.scale_to_zero_after_secs)),
            },
        );
        slot
    }

    /// The slot serving a running deployment, set up from its current spec when this
    /// process has none yet (after a restart, or on another instance). Loading happens on
    /// the slot's first `get`.
    pub fn slot_for(&self, d: &Deployment) -> Result<Arc<ModelSlot>, String> {
        let spec: DeploymentSpec = serde_json::from_value(d.spec.clone())
            .map_err(|e| format!("stored spec is invalid: {e}"))?;
        let version = d.observed_version.unwrap_or(d.current_version);
        Ok(self.install(&d.id, &d.model_id, version, &spec))
    }

    /// Whether the deployment's model is in memory now.
    pub fn is_loaded(&self, deployment_id: &str) -> bool {
        self.lock()
            .get(deployment_id)
            .is_some_and(|l| l.slot.loaded().is_some())
    }

    async fn unload(&self, id: &str) {
        let removed = self.lock().remove(id);
        if let Some(l) = removed {
            l.slot.unload().await;
        }
    }
}

#[async_trait]
impl Target for LocalTarget {
    fn kind(&self) -> TargetKind {
        TargetKind::Local
    }

    fn availability(&self) -> Result<(), String> {
        Ok(())
    }

    fn tasks(&self) -> Vec<String> {
        EMBEDDING_TASKS.iter().map(|t| (*t).to_owned()).collect()
    }

    async fn validate(&self, model_id: &str, _spec: &DeploymentSpec) -> Result<(), String> {
        if Self::has_model(&self.model_dir(model_id)) {
            Ok(())
        } else {
            Err(format!(
                "{model_id} is not in the local model store; add its folder with `hfb models add PATH`"
            ))
        }
    }

    async fn apply(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        let dir = self.model_dir(&ctx.model_id);
        if !Self::has_model(&dir) {
            return Err(TargetError::permanent(format!(
                "{} is not in the local model store; add it with `hfb models add PATH`",
                ctx.model_id
            )));
        }
        let slot = self.install(&ctx.id, &ctx.model_id, ctx.version, &ctx.spec);
        // Load on deploy, so the first call does not wait and a broken folder fails now.
        let model = slot.load().await.map_err(|e| {
            self.lock().remove(&ctx.id);
            TargetError::permanent(format!("the model could not be loaded: {e}"))
        })?;
        let info = model.info();
        let state = serde_json::json!({
            "model_dir": dir.display().to_string(),
            "manifest": ctx.manifest_key,
            "dimension": info.dimension,
            "max_seq_len": info.max_seq_len,
            "workers": ctx.spec.scaling.max_replicas,
        });
        Ok(
            Progress::new(Phase::Running, "running", state).message(format!(
                "loaded with {} worker(s); {}-dimensional embeddings",
                ctx.spec.scaling.max_replicas, info.dimension
            )),
        )
    }

    async fn pause(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        self.unload(&ctx.id).await;
        Ok(Progress::new(
            Phase::Paused,
            "paused",
            ctx.target_state.clone(),
        ))
    }

    async fn remove(&self, ctx: &DeploymentCtx) -> Result<Progress, TargetError> {
        self.unload(&ctx.id).await;
        Ok(Progress::new(
            Phase::Removed,
            "removed",
            serde_json::Value::Null,
        ))
    }
}
