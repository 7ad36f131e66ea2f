//! Tasks and the heads that turn the encoder's hidden states into a task's output.
//!
//! A model is an encoder (BERT: token ids → one hidden vector per token) plus a head.
//! Today there is one head, [`Head::Pooling`] (sentence-transformers pooling, then
//! optional normalization in [`crate::LocalModel`]), serving feature-extraction and
//! sentence-similarity.
//!
//! Adding text-classification or token-classification for BERT checkpoints
//! (`BertForSequenceClassification` / `BertForTokenClassification` in `architectures`):
//! 1. a [`Task`] variant each;
//! 2. a `Head` variant holding the classifier weights (`classifier.weight/bias`, plus
//!    `bert.pooler.dense` for sequence classification) and `id2label` from `config.json`,
//!    whose `forward` returns `[batch, labels]` logits from the `[CLS]` state, or
//!    `[batch, tokens, labels]` from every state;
//! 3. a request kind in the worker queue and an async method on `LocalModel` that
//!    applies softmax and maps label ids to names. Batching, padding, truncation and the
//!    worker pool are shared and need no change.

use candle_core::{D, DType, Tensor};
use serde::{Deserialize, Serialize};

/// What a loaded model can do, named as Hugging Face pipeline tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Task {
    /// One vector per input (`LocalModel::embed`).
    FeatureExtraction,
    /// Cosine similarity of a source sentence to a list (`LocalModel::similarity`).
    SentenceSimilarity,
}

impl Task {
    /// The Hugging Face pipeline tag, e.g. `feature-extraction`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FeatureExtraction => "feature-extraction",
            Self::SentenceSimilarity => "sentence-similarity",
        }
    }

    /// Parses a pipeline tag; `None` for tasks this runtime does not know.
    pub fn parse(tag: &str) -> Option<Self> {
        match tag {
            "feature-extraction" => Some(Self::FeatureExtraction),
            "sentence-similarity" => Some(Self::SentenceSimilarity),
            _ => None,
        }
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// sentence-transformers pooling modes (`1_Pooling/config.json`). Several modes may be on;
/// their outputs are concatenated in sentence-transformers' order: cls, max, mean,
/// mean-sqrt-len.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pooling {
    pub cls: bool,
    pub max: bool,
    pub mean: bool,
    pub mean_sqrt_len: bool,
}

impl Default for Pooling {
    /// Mean pooling, what sentence-transformers uses for a plain checkpoint.
    fn default() -> Self {
        Self {
            cls: false,
            max: false,
            mean: true,
            mean_sqrt_len: false,
        }
    }
}

impl Pooling {
    pub(crate) fn from_config(config: &serde_json::Value) -> Result<Self, String> {
        let flag = |name: &str| config.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
        for unsupported in ["pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"] {
            if flag(unsupported) {
                return Err(format!("{unsupported} is not supported"));
            }
        }
        let pooling = Self {
            cls: flag("pooling_mode_cls_token"),
            max: flag("pooling_mode_max_tokens"),
            mean: flag("pooling_mode_mean_tokens"),
            mean_sqrt_len: flag("pooling_mode_mean_sqrt_len_tokens"),
        };
        if pooling.modes() == 0 {
            return Err("no pooling mode is enabled".into());
        }
        Ok(pooling)
    }

    fn modes(&self) -> usize {
        [self.cls, self.max, self.mean, self.mean_sqrt_len]
            .iter()
            .filter(|on| **on)
            .count()
    }

    /// Output dimension for a hidden size.
    pub(crate) fn dimension(&self, hidden: usize) -> usize {
        hidden * self.modes()
    }

    /// A short name for `ModelInfo`: "mean", "cls+mean", ...
    pub(crate) fn name(&self) -> String {
        let mut names = Vec::new();
        for (on, name) in [
            (self.cls, "cls"),
            (self.max, "max"),
            (self.mean, "mean"),
            (self.mean_sqrt_len, "mean_sqrt_len"),
        ] {
            if on {
                names.push(name);
            }
        }
        names.join("+")
    }

    /// `hidden`: `[batch, tokens, hidden]`; `mask`: `[batch, tokens]` (1 for real tokens,
    /// 0 for padding). Returns `[batch, dimension]`.
    pub(crate) fn forward(&self, hidden: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?; // [b, t, 1]
        let mut parts = Vec::with_capacity(self.modes());
        if self.cls {
            parts.push(hidden.narrow(1, 0, 1)?.squeeze(1)?);
        }
        if self.max {
            // Padding positions get a very negative value so they never win.
            let penalty = ((mask.ones_like()? - &mask)? * -1e9)?;
            parts.push(hidden.broadcast_add(&penalty)?.max(1)?);
        }
        if self.mean || self.mean_sqrt_len {
            let sum = hidden.broadcast_mul(&mask)?.sum(1)?; // [b, h]
            let count = mask.sum(1)?.clamp(1e-9, f64::MAX)?; // [b, 1]
            if self.mean {
                parts.push(sum.broadcast_div(&count)?);
            }
            if self.mean_sqrt_len {
                parts.push(sum.broadcast_div(&count.sqrt()?)?);
            }
        }
        if parts.len() == 1 {
            Ok(parts.swap_remove(0))
        } else {
            Tensor::cat(&parts, 1)
        }
    }
}

/// What runs on top of the encoder. See the module docs for how classification heads
/// slot in here.
#[derive(Debug, Clone)]
pub(crate) enum Head {
    Pooling(Pooling),
}

impl Head {
    pub(crate) fn tasks(&self) -> Vec<Task> {
        match self {
            Self::Pooling(_) => vec![Task::FeatureExtraction, Task::SentenceSimilarity],
        }
    }
}
