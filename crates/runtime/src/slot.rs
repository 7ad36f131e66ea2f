//! [`ModelSlot`]: a model that is loaded on first use and unloaded when idle, for the
//! "local" deployment target (load on deploy, scale to zero, load again on the next call).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::error::Result;
use crate::model::{LoadOptions, LocalModel};

/// One model folder with its load options, loaded at most once at a time.
///
/// - [`ModelSlot::get`] returns the loaded model, loading it first if needed; concurrent
///   callers during a load wait for that one load (single flight) instead of loading
///   their own copy. A failed load is returned to the callers that waited for it; the
///   next `get` tries again.
/// - [`ModelSlot::unload`] / [`ModelSlot::unload_if_idle`] drop the slot's reference:
///   calls already holding the model finish normally, and the weights are freed once the
///   last of them is done.
#[derive(Debug)]
pub struct ModelSlot {
    path: PathBuf,
    options: LoadOptions,
    current: Mutex<Option<Arc<LocalModel>>>,
    /// Held while loading or unloading, so those never interleave.
    transition: tokio::sync::Mutex<()>,
}

impl ModelSlot {
    /// A slot for the folder at `path`; nothing is loaded until [`ModelSlot::get`] or
    /// [`ModelSlot::load`].
    pub fn new(path: impl Into<PathBuf>, options: LoadOptions) -> Self {
        Self {
            path: path.into(),
            options,
            current: Mutex::new(None),
            transition: tokio::sync::Mutex::new(()),
        }
    }

    /// The model folder this slot loads.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The loaded model, if any, without loading it.
    pub fn loaded(&self) -> Option<Arc<LocalModel>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The loaded model, loading it first (off the async threads) if needed.
    pub async fn get(&self) -> Result<Arc<LocalModel>> {
        if let Some(model) = self.loaded() {
            return Ok(model);
        }
        let _transition = self.transition.lock().await;
        if let Some(model) = self.loaded() {
            return Ok(model);
        }
        let model = LocalModel::load_async(self.path.clone(), self.options.clone()).await?;
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(model.clone());
        Ok(model)
    }

    /// Loads now (on deploy) so the first call does not wait; same as `get`.
    pub async fn load(&self) -> Result<Arc<LocalModel>> {
        self.get().await
    }

    /// Drops the slot's model. Returns whether one was loaded.
    pub async fn unload(&self) -> bool {
        let _transition = self.transition.lock().await;
        self.take().is_some()
    }

    /// Unloads when no call is running and the last one ended at least `idle` ago.
    /// Returns whether it unloaded.
    pub async fn unload_if_idle(&self, idle: Duration) -> bool {
        let _transition = self.transition.lock().await;
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let is_idle = current
            .as_ref()
            .and_then(|model| model.idle_for())
            .is_some_and(|for_| for_ >= idle);
        if is_idle {
            current.take();
        }
        is_idle
    }

    fn take(&self) -> Option<Arc<LocalModel>> {
        self.current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
