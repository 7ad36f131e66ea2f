//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong loading or running a local model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// A file the model folder must contain is not there.
    #[error("model file missing: {path}")]
    MissingFile { path: PathBuf },
    /// A model file exists but cannot be read or parsed (bad JSON, truncated safetensors,
    /// missing or mis-shaped weights).
    #[error("invalid model file {path}: {reason}")]
    InvalidFile { path: PathBuf, reason: String },
    /// The folder is a valid model this runtime cannot run yet (another architecture, a
    /// sentence-transformers module it does not implement, ...).
    #[error("unsupported model in {path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },
    /// The options passed to `LocalModel::load` cannot work (zero workers, ...).
    #[error("invalid load options: {0}")]
    InvalidOptions(String),
    /// An input is longer than the model's maximum sequence length and the request asked
    /// to refuse instead of truncating. `index` is the input's position in the request.
    #[error("input {index} is {tokens} tokens long, more than the model's maximum of {max_tokens}")]
    InputTooLong {
        index: usize,
        tokens: usize,
        max_tokens: usize,
    },
    /// One request carried more inputs than `LoadOptions::max_inputs_per_request`.
    #[error("too many inputs in one request: {count} (at most {max})")]
    TooManyInputs { count: usize, max: usize },
    /// The bounded queue is full: the caller should retry later (HTTP 503/429).
    #[error("the model is overloaded: {capacity} requests are already queued")]
    Overloaded { capacity: usize },
    /// The model was unloaded (dropped or shut down) before the request ran.
    #[error("the model is not loaded")]
    Unloaded,
    /// An inference worker panicked or exited while the request was queued or running.
    #[error("an inference worker died: {0}")]
    WorkerDied(String),
    /// The tokenizer or a tensor operation failed on this input.
    #[error("inference failed: {0}")]
    Inference(String),
}

impl RuntimeError {
    /// Whether the same request may succeed later (the queue was full).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Overloaded { .. })
    }

    /// Whether the caller's input is at fault (HTTP 4xx) rather than the model or server.
    pub fn is_client_error(&self) -> bool {
        matches!(self, Self::InputTooLong { .. } | Self::TooManyInputs { .. })
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
