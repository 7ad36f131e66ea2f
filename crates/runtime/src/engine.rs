//! The synchronous model: tokenizer + BERT encoder + head, shared read-only by every
//! worker thread. Runs one padded batch at a time; knows nothing about queues.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config as BertConfig;

use crate::bert::BertEncoder;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::error::{Result, RuntimeError};
use crate::folder::ModelFolder;
use crate::head::Head;

/// One input after tokenization (special tokens included, already truncated).
#[derive(Debug, Clone)]
pub(crate) struct Tokenized {
    pub ids: Vec<u32>,
    pub truncated: bool,
}

/// What to do with an input longer than the model's maximum sequence length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Truncation {
    /// Keep the first `max_seq_len` tokens (special tokens included), as
    /// sentence-transformers does; the answer counts how many inputs were cut.
    #[default]
    Truncate,
    /// Fail the whole request with [`RuntimeError::InputTooLong`].
    Refuse,
}

pub(crate) struct Engine {
    /// Truncates at `max_seq_len`, never pads (batches are padded here).
    tokenizer: Tokenizer,
    /// No truncation: only used to count the tokens of a refused input.
    counting_tokenizer: Tokenizer,
    encoder: BertEncoder,
    pub head: Head,
    pub normalize: bool,
    pub max_seq_len: usize,
    pub dimension: usize,
    pub parameters: usize,
    lowercase_input: bool,
    pad_id: u32,
    device: Device,
}

impl Engine {
    pub fn load(folder: &ModelFolder) -> Result<Self> {
        let device = Device::Cpu;
        let config: BertConfig =
            serde_json::from_value(folder.config_json.clone()).map_err(|e| {
                RuntimeError::InvalidFile {
                    path: folder.config_path.clone(),
                    reason: e.to_string(),
                }
            })?;

        let (tokenizer, counting_tokenizer, tokenizer_pad_id) =
            load_tokenizer(&folder.tokenizer_path, folder.max_seq_len)?;

        let invalid_weights = |e: candle_core::Error| RuntimeError::InvalidFile {
            path: folder.weights_path.clone(),
            reason: e.to_string(),
        };
        // candle reads the file through a memory map and copies each tensor out of it.
        let tensors = candle_core::safetensors::load(&folder.weights_path, &device)
            .map_err(invalid_weights)?;
        let parameters = tensors
            .iter()
            .filter(|(_, t)| t.dtype().is_float())
            .map(|(_, t)| t.elem_count())
            .sum();
        let tensors = transpose_linear_weights(tensors).map_err(invalid_weights)?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let encoder = BertEncoder::load(vb, &config).map_err(invalid_weights)?;

        let pad_id = tokenizer_pad_id
            .or_else(|| u32::try_from(config.pad_token_id).ok())
            .unwrap_or(0);
        Ok(Self {
            tokenizer,
            counting_tokenizer,
            encoder,
            head: Head::Pooling(folder.pooling),
            normalize: folder.normalize,
            max_seq_len: folder.max_seq_len,
            dimension: folder.pooling.dimension(config.hidden_size),
            parameters,
            lowercase_input: folder.lowercase_input,
            pad_id,
            device,
        })
    }

    /// Tokenizes one input. `index` is its position in the caller's request (for errors).
    pub fn tokenize(&self, text: &str, policy: Truncation, index: usize) -> Result<Tokenized> {
        let lowered;
        let text = if self.lowercase_input {
            lowered = text.to_lowercase();
            lowered.as_str()
        } else {
            text
        };
        let encoding = self
            .tokenizer
            .encode_fast(text, true)
            .map_err(|e| RuntimeError::Inference(format!("tokenizer: {e}")))?;
        let truncated = !encoding.get_overflowing().is_empty();
        if truncated && policy == Truncation::Refuse {
            let tokens = self
                .counting_tokenizer
                .encode_fast(text, true)
                .map(|e| e.len())
                .unwrap_or(encoding.len() + 1);
            return Err(RuntimeError::InputTooLong {
                index,
                tokens,
                max_tokens: self.max_seq_len,
            });
        }
        Ok(Tokenized {
            ids: encoding.get_ids().to_vec(),
            truncated,
        })
    }

    /// Runs one batch, padded to its longest input, and returns the head's output rows
    /// (pooled, not normalized): `[batch][dimension]`.
    pub fn run(&self, batch: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        self.run_inner(batch)
            .map_err(|e| RuntimeError::Inference(e.to_string()))
    }

    fn run_inner(&self, batch: &[&[u32]]) -> candle_core::Result<Vec<Vec<f32>>> {
        let rows = batch.len();
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(0);
        if rows == 0 || width == 0 {
            return Ok(vec![Vec::new(); rows]);
        }
        let mut ids = vec![self.pad_id; rows * width];
        let mut mask = vec![0u32; rows * width];
        for (row, seq) in batch.iter().enumerate() {
            ids[row * width..row * width + seq.len()].copy_from_slice(seq);
            mask[row * width..row * width + seq.len()].fill(1);
        }
        let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.encoder.forward(&ids, &token_types, &mask)?;
        let out = match &self.head {
            Head::Pooling(pooling) => pooling.forward(&hidden, &mask)?,
        };
        out.to_vec2::<f32>()
    }
}

/// The truncating tokenizer, the counting one, and the pad id tokenizer.json declares.
fn load_tokenizer(path: &Path, max_seq_len: usize) -> Result<(Tokenizer, Tokenizer, Option<u32>)> {
    let invalid = |reason: String| RuntimeError::InvalidFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut tokenizer = Tokenizer::from_file(path).map_err(|e| invalid(e.to_string()))?;
    // tokenizer.json may carry its own padding/truncation (all-MiniLM-L6-v2's pads every
    // input to 128 and cuts at 128): sentence-transformers overrides both, so do we.
    let pad_id = tokenizer.get_padding().map(|p| p.pad_id);
    tokenizer.with_padding(None);
    let mut counting = tokenizer.clone();
    counting
        .with_truncation(None)
        .map_err(|e| invalid(e.to_string()))?;
    tokenizer
        .with_truncation(Some(TruncationParams {
            direction: TruncationDirection::Right,
            max_length: max_seq_len,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
        }))
        .map_err(|e| invalid(e.to_string()))?;
    Ok((tokenizer, counting, pad_id))
}

/// Stores every linear layer's `[out, in]` weight transposed in memory (`[in, out]`
/// contiguous) while keeping its `[out, in]` shape as a strided view. The layers compute
/// `x · Wᵀ`; with `Wᵀ` contiguous, `gemm` reads it directly instead of re-packing the
/// whole weight matrix on every call, which dominated small batches (3x at batch 1).
fn transpose_linear_weights(
    tensors: HashMap<String, Tensor>,
) -> candle_core::Result<HashMap<String, Tensor>> {
    tensors
        .into_iter()
        .map(|(name, tensor)| {
            let linear = name.ends_with(".weight")
                && tensor.rank() == 2
                && !name.contains("embeddings")
                && tensor.dtype().is_float();
            let tensor = if linear {
                tensor.t()?.contiguous()?.t()?
            } else {
                tensor
            };
            Ok((name, tensor))
        })
        .collect()
}
