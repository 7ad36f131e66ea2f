//! [`LocalModel`]: a loaded model behind a bounded worker pool, with an async API.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{oneshot, watch};

use crate::engine::{Engine, Truncation};
use crate::error::{Result, RuntimeError};
use crate::folder::ModelFolder;
use crate::head::Task;
use crate::worker::{Job, Shared, run_worker};

/// How to run a model. `Default` suits one model on a small machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Worker threads (the deployment's "replicas"). They share one copy of the weights;
    /// each runs one batch at a time. Default 1.
    pub workers: usize,
    /// Threads each worker uses inside one batch (matrix products, softmax, layer norm).
    /// `None`: candle's process-wide pool, sized by `RAYON_NUM_THREADS` or else the
    /// number of physical cores, shared by all workers and models. `Some(n)`: a private
    /// pool of `n` threads per worker.
    pub threads_per_worker: Option<usize>,
    /// Most inputs in one model batch; larger requests are split, smaller concurrent ones
    /// are merged up to it. Default 32.
    pub max_batch_size: usize,
    /// Requests that may wait for a worker before new ones fail with
    /// [`RuntimeError::Overloaded`]. Default 64.
    pub queue_capacity: usize,
    /// Most inputs one request may carry ([`RuntimeError::TooManyInputs`]). Default 2048.
    pub max_inputs_per_request: usize,
    /// The id reported by [`ModelInfo::model_id`]; default: the folder's last two path
    /// components (`owner/name`, the model store's layout).
    pub model_id: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            workers: 1,
            threads_per_worker: None,
            max_batch_size: 32,
            queue_capacity: 64,
            max_inputs_per_request: 2048,
            model_id: None,
        }
    }
}

/// Per-request options of [`LocalModel::embed`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbedOptions {
    /// L2-normalize the vectors. `None`: as the model's `modules.json` says (a
    /// `Normalize` module); `Some(false)` returns the raw pooled vectors.
    pub normalize: Option<bool>,
    /// What to do with inputs longer than the model's maximum sequence length.
    pub truncation: Truncation,
}

/// The answer of [`LocalModel::embed`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Embeddings {
    /// One vector per input, in input order, each [`ModelInfo::dimension`] long.
    pub vectors: Vec<Vec<f32>>,
    /// Whether the vectors were L2-normalized.
    pub normalized: bool,
    /// Tokens per input as the model saw them (special tokens included, after truncation).
    pub tokens: Vec<usize>,
    /// How many inputs were cut at the maximum sequence length.
    pub truncated: usize,
}

impl Embeddings {
    /// Sum of [`Embeddings::tokens`]: the request's usage.
    pub fn total_tokens(&self) -> usize {
        self.tokens.iter().sum()
    }
}

/// The answer of [`LocalModel::similarity`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Similarity {
    /// Cosine similarity of the source sentence to each sentence, in order.
    pub scores: Vec<f32>,
    /// Tokens of all inputs, the source included.
    pub total_tokens: usize,
    /// How many inputs (the source included) were cut at the maximum sequence length.
    pub truncated: usize,
}

/// What a loaded model is and how it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    pub model_id: String,
    pub path: PathBuf,
    /// `config.json`'s `model_type`, e.g. `bert`.
    pub architecture: String,
    pub tasks: Vec<Task>,
    /// Length of each embedding vector.
    pub dimension: usize,
    /// Tokens per input, special tokens included, before truncation applies.
    pub max_seq_len: usize,
    /// Pooling modes, e.g. `mean`.
    pub pooling: String,
    /// Whether embeddings are normalized by default.
    pub normalize: bool,
    /// Number of weights (floats) in the model.
    pub parameters: usize,
    pub workers: usize,
    pub max_batch_size: usize,
    pub queue_capacity: usize,
    pub max_inputs_per_request: usize,
    /// Wall time `load` took.
    pub load_ms: u64,
}

/// A model loaded on the CPU, served by a bounded pool of worker threads.
///
/// All methods take `&self` and are safe to call from many tasks at once; share it as an
/// `Arc`. The async methods never block the calling thread: work is queued for the
/// workers and awaited, so they suit tokio and actix handlers.
///
/// Unloading: dropping the last `Arc` (or calling [`LocalModel::shutdown`]) stops the
/// workers; requests already running finish, queued ones fail with
/// [`RuntimeError::Unloaded`], and the weights are freed when the workers exit.
pub struct LocalModel {
    info: ModelInfo,
    shared: Arc<Shared>,
    live_workers: watch::Receiver<usize>,
    in_flight: AtomicUsize,
    last_active: Mutex<Instant>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("model_id", &self.info.model_id)
            .field("workers", &self.info.workers)
            .finish_non_exhaustive()
    }
}

impl LocalModel {
    /// Loads a model folder and starts its workers. Blocks while reading the weights
    /// (about 0.1–0.5 s for all-MiniLM-L6-v2): from async code use
    /// [`LocalModel::load_async`].
    pub fn load(path: impl AsRef<Path>, options: LoadOptions) -> Result<Arc<Self>> {
        let started = Instant::now();
        validate(&options)?;
        let path = path.as_ref();
        let folder = ModelFolder::read(path)?;
        let engine = Arc::new(Engine::load(&folder)?);

        let shared = Arc::new(Shared::new(options.queue_capacity, options.max_batch_size));
        let (live_tx, live_rx) = watch::channel(options.workers);
        let live_tx = Arc::new(live_tx);
        for index in 0..options.workers {
            let threads = match options.threads_per_worker {
                Some(n) => Some(
                    rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .thread_name(move |t| format!("hfb-runtime-{index}-{t}"))
                        .build()
                        .map_err(|e| {
                            RuntimeError::WorkerDied(format!("cannot start threads: {e}"))
                        })?,
                ),
                None => None,
            };
            let (engine, shared_w, live) = (engine.clone(), shared.clone(), live_tx.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("hfb-runtime-{index}"))
                .spawn(move || run_worker(engine, shared_w, live, threads));
            if let Err(e) = spawned {
                // Workers already started exit once the queue closes.
                shared.unload();
                return Err(RuntimeError::WorkerDied(format!(
                    "cannot start a worker: {e}"
                )));
            }
        }

        let info = ModelInfo {
            model_id: options
                .model_id
                .clone()
                .unwrap_or_else(|| default_model_id(path)),
            path: path.to_path_buf(),
            architecture: folder.model_type.clone(),
            tasks: engine.head.tasks(),
            dimension: engine.dimension,
            max_seq_len: engine.max_seq_len,
            pooling: match &engine.head {
                crate::head::Head::Pooling(p) => p.name(),
            },
            normalize: engine.normalize,
            parameters: engine.parameters,
            workers: options.workers,
            max_batch_size: options.max_batch_size,
            queue_capacity: options.queue_capacity,
            max_inputs_per_request: options.max_inputs_per_request,
            load_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        tracing::info!(model = %info.model_id, workers = info.workers, load_ms = info.load_ms, "model loaded");
        Ok(Arc::new(Self {
            info,
            shared,
            live_workers: live_rx,
            in_flight: AtomicUsize::new(0),
            last_active: Mutex::new(Instant::now()),
        }))
    }

    /// [`LocalModel::load`] on a new thread, awaited without blocking the caller's.
    pub async fn load_async(path: impl Into<PathBuf>, options: LoadOptions) -> Result<Arc<Self>> {
        let path = path.into();
        let (tx, rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("hfb-runtime-load".into())
            .spawn(move || {
                let _ = tx.send(Self::load(path, options));
            })
            .map_err(|e| RuntimeError::WorkerDied(format!("cannot start the loader: {e}")))?;
        rx.await
            .map_err(|_| RuntimeError::WorkerDied("the loader thread panicked".into()))?
    }

    /// What the model is and how it runs.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Embeds each input (feature-extraction): tokenized with truncation per `options`,
    /// run in batches, pooled, normalized per `options`.
    pub async fn embed(&self, inputs: Vec<String>, options: EmbedOptions) -> Result<Embeddings> {
        let normalize = options.normalize.unwrap_or(self.info.normalize);
        if inputs.len() > self.info.max_inputs_per_request {
            return Err(RuntimeError::TooManyInputs {
                count: inputs.len(),
                max: self.info.max_inputs_per_request,
            });
        }
        if inputs.is_empty() {
            return Ok(Embeddings {
                vectors: Vec::new(),
                normalized: normalize,
                tokens: Vec::new(),
                truncated: 0,
            });
        }
        let _active = ActiveGuard::new(self);
        // With several workers, a request of several inputs is dealt round-robin into one
        // part per worker (input i goes to part i % parts) so the workers run it in
        // parallel, each single-threaded: no spinning thread pool, no shared lock.
        let count = inputs.len();
        let parts = self.info.workers.min(count);
        let mut part_inputs: Vec<Vec<String>> = (0..parts)
            .map(|p| Vec::with_capacity(count.div_ceil(parts) + usize::from(p == 0)))
            .collect();
        for (i, input) in inputs.into_iter().enumerate() {
            part_inputs[i % parts].push(input);
        }
        let mut jobs = Vec::with_capacity(parts);
        let mut answers = Vec::with_capacity(parts);
        for inputs in part_inputs {
            let (reply, answer) = oneshot::channel();
            jobs.push(Job {
                inputs,
                truncation: options.truncation,
                normalize,
                solo: parts > 1,
                reply,
            });
            answers.push(answer);
        }
        self.shared.submit(jobs)?;

        let mut outputs = Vec::with_capacity(parts);
        let mut errors = Vec::new();
        for (p, answer) in answers.into_iter().enumerate() {
            match answer.await {
                Ok(Ok(out)) => outputs.push(out),
                Ok(Err(RuntimeError::InputTooLong {
                    index,
                    tokens,
                    max_tokens,
                })) => errors.push(RuntimeError::InputTooLong {
                    index: index * parts + p,
                    tokens,
                    max_tokens,
                }),
                Ok(Err(other)) => errors.push(other),
                Err(_) => errors.push(RuntimeError::WorkerDied(
                    "the request was dropped without an answer".into(),
                )),
            }
        }
        // An overlong input is the caller's fault: report it first, the lowest index.
        let overlong = errors
            .iter()
            .filter_map(|e| match e {
                RuntimeError::InputTooLong { index, .. } => Some(*index),
                _ => None,
            })
            .min();
        if let Some(lowest) = overlong {
            errors.retain(
                |e| matches!(e, RuntimeError::InputTooLong { index, .. } if *index == lowest),
            );
        }
        if let Some(error) = errors.into_iter().next() {
            return Err(error);
        }

        let mut vectors = vec![Vec::new(); count];
        let mut tokens = vec![0; count];
        let mut truncated = 0;
        for (p, out) in outputs.into_iter().enumerate() {
            truncated += out.truncated;
            for (j, (vector, n)) in out.vectors.into_iter().zip(out.tokens).enumerate() {
                vectors[j * parts + p] = vector;
                tokens[j * parts + p] = n;
            }
        }
        Ok(Embeddings {
            vectors,
            normalized: normalize,
            tokens,
            truncated,
        })
    }

    /// Sentence-similarity: the cosine similarity of `source` to each of `sentences`.
    /// In [`RuntimeError::InputTooLong`], index 0 is the source and `i + 1` is
    /// `sentences[i]`.
    pub async fn similarity(
        &self,
        source: String,
        sentences: Vec<String>,
        truncation: Truncation,
    ) -> Result<Similarity> {
        let mut inputs = Vec::with_capacity(sentences.len() + 1);
        inputs.push(source);
        inputs.extend(sentences);
        let embeddings = self
            .embed(
                inputs,
                EmbedOptions {
                    normalize: Some(true),
                    truncation,
                },
            )
            .await?;
        let total_tokens = embeddings.total_tokens();
        let mut vectors = embeddings.vectors.into_iter();
        let source = vectors.next().unwrap_or_default();
        let scores = vectors.map(|v| cosine(&source, &v)).collect();
        Ok(Similarity {
            scores,
            total_tokens,
            truncated: embeddings.truncated,
        })
    }

    /// Requests waiting for a worker right now.
    pub fn queued(&self) -> usize {
        self.shared.queued()
    }

    /// `None` while a request is in progress, else the time since the last one ended
    /// (or since load). For scale-to-zero.
    pub fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(
            self.last_active
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .elapsed(),
        )
    }

    /// Stops taking requests and waits until every worker has exited (running batches
    /// finish first). Later calls fail with [`RuntimeError::Unloaded`]. Idempotent.
    pub async fn shutdown(&self) {
        self.shared.unload();
        let mut live = self.live_workers.clone();
        let _ = live.wait_for(|n| *n == 0).await;
    }
}

impl Drop for LocalModel {
    fn drop(&mut self) {
        // Does not wait: workers finish their current batch and exit on their own.
        self.shared.unload();
    }
}

/// Counts a request as in flight for [`LocalModel::idle_for`], including when its future
/// is dropped.
struct ActiveGuard<'a>(&'a LocalModel);

impl<'a> ActiveGuard<'a> {
    fn new(model: &'a LocalModel) -> Self {
        model.in_flight.fetch_add(1, Ordering::SeqCst);
        Self(model)
    }
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        *self
            .0
            .last_active
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn validate(options: &LoadOptions) -> Result<()> {
    let positive = [
        ("workers", options.workers),
        ("max_batch_size", options.max_batch_size),
        ("queue_capacity", options.queue_capacity),
        ("max_inputs_per_request", options.max_inputs_per_request),
        (
            "threads_per_worker",
            options.threads_per_worker.unwrap_or(1),
        ),
    ];
    for (name, value) in positive {
        if value == 0 {
            return Err(RuntimeError::InvalidOptions(format!(
                "{name} must be at least 1"
            )));
        }
    }
    Ok(())
}

/// `owner/name` from `.../models/owner/name`, else the folder name.
fn default_model_id(path: &Path) -> String {
    let mut parts = path.components().rev().filter_map(|c| match c {
        std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
        _ => None,
    });
    match (parts.next(), parts.next()) {
        (Some(name), Some(owner)) => format!("{owner}/{name}"),
        (Some(name), None) => name,
        _ => path.display().to_string(),
    }
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::normalize;

    #[test]
    fn model_id_from_store_layout() {
        assert_eq!(
            default_model_id(Path::new(
                "data/models/sentence-transformers/all-MiniLM-L6-v2"
            )),
            "sentence-transformers/all-MiniLM-L6-v2"
        );
        assert_eq!(default_model_id(Path::new("mini")), "mini");
    }

    #[test]
    fn cosine_and_normalize() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn zero_options_are_refused() {
        let options = LoadOptions {
            workers: 0,
            ..LoadOptions::default()
        };
        assert!(matches!(
            validate(&options),
            Err(RuntimeError::InvalidOptions(_))
        ));
    }
}
