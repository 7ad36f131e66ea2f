//! Reading a model folder in Hugging Face repo layout: which files exist, what the JSON
//! configs say. No tensors are loaded here.
//!
//! Files read:
//! - `config.json` (required): the transformer's architecture and sizes.
//! - `model.safetensors` (required; `pytorch_model.bin` alone is refused with a clear error).
//! - `tokenizer.json` (required): the fast-tokenizer pipeline.
//! - `modules.json` (optional): the sentence-transformers module chain. Supported modules:
//!   `Transformer`, `Pooling` (its `<path>/config.json`), `Normalize`. Without it the model
//!   is used the way sentence-transformers uses a plain checkpoint: mean pooling, no
//!   normalization.
//! - `sentence_bert_config.json` (optional): `max_seq_length`, `do_lower_case`.
//! - `tokenizer_config.json` (optional): `model_max_length`, used when the former is absent.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Result, RuntimeError};
use crate::head::Pooling;

/// What a model folder says about the model, before any weight is read.
#[derive(Debug, Clone)]
pub(crate) struct ModelFolder {
    pub config_path: PathBuf,
    pub weights_path: PathBuf,
    pub tokenizer_path: PathBuf,
    /// The raw `config.json`, parsed again by the architecture's own config type.
    pub config_json: serde_json::Value,
    pub model_type: String,
    pub pooling: Pooling,
    pub normalize: bool,
    pub max_seq_len: usize,
    pub lowercase_input: bool,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

#[derive(Debug, Default, Deserialize)]
struct TokenizerConfig {
    model_max_length: Option<f64>,
}

/// Tokenizers store "no limit" as a huge float (1e30); anything above this is no limit.
const NO_LIMIT: f64 = 1_000_000.0;

impl ModelFolder {
    pub fn read(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(RuntimeError::MissingFile {
                path: root.to_path_buf(),
            });
        }
        let config_path = required(root, "config.json")?;
        let weights_path = root.join("model.safetensors");
        if !weights_path.is_file() {
            if root.join("pytorch_model.bin").is_file() {
                return Err(RuntimeError::Unsupported {
                    path: root.to_path_buf(),
                    reason: "only model.safetensors weights are supported, this folder has pytorch_model.bin".into(),
                });
            }
            return Err(RuntimeError::MissingFile { path: weights_path });
        }
        let tokenizer_path = required(root, "tokenizer.json")?;

        let config_json: serde_json::Value = read_json(&config_path)?;
        let model_type = config_json
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        if model_type != "bert" {
            return Err(RuntimeError::Unsupported {
                path: config_path,
                reason: format!(
                    "model_type {model_type:?}: this runtime runs BERT-family encoders (\"bert\")"
                ),
            });
        }
        let max_positions = config_json
            .get("max_position_embeddings")
            .and_then(|v| v.as_u64())
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| RuntimeError::InvalidFile {
                path: config_path.clone(),
                reason: "max_position_embeddings is missing".into(),
            })?;

        let (pooling, normalize) = read_modules(root)?;

        let sbert: SentenceBertConfig = optional_json(&root.join("sentence_bert_config.json"))?;
        let tok_config: TokenizerConfig = optional_json(&root.join("tokenizer_config.json"))?;
        let max_seq_len = sbert
            .max_seq_length
            .or_else(|| {
                tok_config
                    .model_max_length
                    .filter(|n| *n > 0.0 && *n < NO_LIMIT)
                    .map(|n| n as usize)
            })
            .unwrap_or(max_positions)
            .min(max_positions);
        if max_seq_len < 2 {
            return Err(RuntimeError::InvalidFile {
                path: root.join("sentence_bert_config.json"),
                reason: format!("max_seq_length {max_seq_len} leaves no room for text"),
            });
        }

        Ok(Self {
            config_path,
            weights_path,
            tokenizer_path,
            config_json,
            model_type,
            pooling,
            normalize,
            max_seq_len,
            lowercase_input: sbert.do_lower_case,
        })
    }
}

/// The sentence-transformers chain: (pooling, normalize). Defaults when there is no
/// `modules.json`: mean pooling, no normalization.
fn read_modules(root: &Path) -> Result<(Pooling, bool)> {
    let modules_path = root.join("modules.json");
    if !modules_path.is_file() {
        return Ok((Pooling::default(), false));
    }
    let modules: Vec<ModuleEntry> = read_json(&modules_path)?;
    let mut pooling = None;
    let mut normalize = false;
    for (position, module) in modules.iter().enumerate() {
        let kind = module
            .kind
            .rsplit('.')
            .next()
            .unwrap_or(module.kind.as_str());
        match kind {
            "Transformer" if position == 0 => {}
            "Pooling" if pooling.is_none() => {
                let path = root.join(&module.path).join("config.json");
                let config = if path.is_file() {
                    read_json(&path)?
                } else {
                    return Err(RuntimeError::MissingFile { path });
                };
                pooling = Some(Pooling::from_config(&config).map_err(|reason| {
                    RuntimeError::Unsupported {
                        path: path.clone(),
                        reason,
                    }
                })?);
            }
            "Normalize" if pooling.is_some() => normalize = true,
            _ => {
                return Err(RuntimeError::Unsupported {
                    path: modules_path,
                    reason: format!(
                        "module {} ({}) at position {position}: supported chains are Transformer → Pooling → optional Normalize",
                        module.kind, module.path
                    ),
                });
            }
        }
    }
    Ok((pooling.unwrap_or_default(), normalize))
}

fn required(root: &Path, name: &str) -> Result<PathBuf> {
    let path = root.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(RuntimeError::MissingFile { path })
    }
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| RuntimeError::InvalidFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| RuntimeError::InvalidFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn optional_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    if path.is_file() {
        read_json(path)
    } else {
        Ok(T::default())
    }
}
