//! Local CPU inference for hfb: load a model folder in Hugging Face repo layout and run
//! it in-process with candle and the tokenizers crate. No Python, no network.
//!
//! - [`LocalModel::load`] / [`LocalModel::load_async`]: read `config.json`,
//!   `model.safetensors`, `tokenizer.json` and the sentence-transformers files
//!   (`modules.json`, `1_Pooling/config.json`, `sentence_bert_config.json`), start a
//!   bounded pool of worker threads sharing one copy of the weights.
//! - [`LocalModel::embed`] (feature-extraction: pooling + normalization as `modules.json`
//!   says, overridable) and [`LocalModel::similarity`] (sentence-similarity: cosine of a
//!   source sentence to a list). Async, never blocking the caller's thread; concurrent
//!   small requests are merged into one model batch; inputs longer than the model's
//!   maximum are truncated (counted in the answer) or refused, per request.
//! - [`ModelSlot`]: load on first use (single flight), unload when idle, load again on
//!   the next call: what the "local" deployment target needs for scale-to-zero.
//! - [`RuntimeError`]: the one error type.
//!
//! Supported today: BERT-family encoders (`model_type: "bert"`, e.g.
//! sentence-transformers/all-MiniLM-L6-v2). See the `head` module docs for how
//! text-classification and token-classification slot in.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hfb_runtime::RuntimeError> {
//! use hfb_runtime::{EmbedOptions, LoadOptions, LocalModel};
//! let model = LocalModel::load_async("data/models/sentence-transformers/all-MiniLM-L6-v2", LoadOptions::default()).await?;
//! let out = model.embed(vec!["hello world".into()], EmbedOptions::default()).await?;
//! assert_eq!(out.vectors[0].len(), model.info().dimension);
//! # Ok(()) }
//! ```

mod bert;
mod engine;
mod error;
mod folder;
mod head;
mod model;
mod slot;
mod worker;

pub use engine::Truncation;
pub use error::{Result, RuntimeError};
pub use head::{Pooling, Task};
pub use model::{EmbedOptions, Embeddings, LoadOptions, LocalModel, ModelInfo, Similarity, cosine};
pub use slot::ModelSlot;
