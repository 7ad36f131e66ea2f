//! The BERT encoder, on candle ops, shaped for CPU inference:
//!
//! - the query, key and value projections are one matrix product (weights concatenated
//!   at load), split by one permute instead of three reshape-and-copy passes;
//! - attention uses candle's fused last-dimension softmax;
//! - the exact (erf) GELU runs as one pass over the activations with a rational erf
//!   approximation (|error| < 1.5e-7) instead of the generic scalar `erff`.
//!
//! It reads the same weights and config as `candle_transformers::models::bert::BertModel`
//! (which it replaces in the engine) and computes the same function; the reference-vector
//! tests in `tests/minilm.rs` hold it to sentence-transformers within 1e-4.

use candle_core::{CpuStorage, CustomOp1, DType, Layout, Module, Result, Shape, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct};

/// `x · Φ(x)`, Φ through erf by Abramowitz & Stegun 7.1.26.
struct ExactGelu;

fn gelu_erf(x: f32) -> f32 {
    const P: f32 = 0.327_591_1;
    const A1: f32 = 0.254_829_6;
    const A2: f32 = -0.284_496_74;
    const A3: f32 = 1.421_413_7;
    const A4: f32 = -1.453_152_1;
    const A5: f32 = 1.061_405_4;
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + P * a);
    let poly = ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t;
    let erf_abs = 1.0 - poly * (-a * a).exp();
    let erf = erf_abs.copysign(z);
    0.5 * x * (1.0 + erf)
}

impl CustomOp1 for ExactGelu {
    fn name(&self) -> &'static str {
        "hfb-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(values) = storage else {
            candle_core::bail!("hfb-gelu-erf: f32 only");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("hfb-gelu-erf: contiguous input only");
        };
        let out: Vec<f32> = values[start..end].iter().map(|&x| gelu_erf(x)).collect();
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

fn activation(act: HiddenAct, xs: &Tensor) -> Result<Tensor> {
    match act {
        HiddenAct::Gelu if xs.dtype() == DType::F32 && xs.device().is_cpu() => {
            xs.contiguous()?.apply_op1_no_bwd(&ExactGelu)
        }
        HiddenAct::Gelu => xs.gelu_erf(),
        HiddenAct::GeluApproximate => xs.gelu(),
        HiddenAct::Relu => xs.relu(),
    }
}

fn linear(vb: &VarBuilder, inputs: usize, outputs: usize) -> Result<Linear> {
    let weight = vb.get((outputs, inputs), "weight")?;
    let bias = vb.get(outputs, "bias")?;
    Ok(Linear::new(weight, Some(bias)))
}

fn layer_norm(vb: &VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
    let weight = vb.get(size, "weight")?;
    let bias = vb.get(size, "bias")?;
    Ok(LayerNorm::new(weight, bias, eps))
}

struct Layer {
    qkv: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

impl Layer {
    fn load(vb: &VarBuilder, c: &Config) -> Result<Self> {
        let h = c.hidden_size;
        let attention = vb.pp("attention");
        let own = attention.pp("self");
        let parts = ["query", "key", "value"]
            .into_iter()
            .map(|name| linear(&own.pp(name), h, h))
            .collect::<Result<Vec<_>>>()?;
        let weight = Tensor::cat(&parts.iter().map(Linear::weight).collect::<Vec<_>>(), 0)?;
        let bias = Tensor::cat(
            &parts.iter().filter_map(Linear::bias).collect::<Vec<_>>(),
            0,
        )?;
        let out = attention.pp("output");
        Ok(Self {
            qkv: Linear::new(weight, Some(bias)),
            attention_out: linear(&out.pp("dense"), h, h)?,
            attention_norm: layer_norm(&out.pp("LayerNorm"), h, c.layer_norm_eps)?,
            intermediate: linear(&vb.pp("intermediate").pp("dense"), h, c.intermediate_size)?,
            output: linear(&vb.pp("output").pp("dense"), c.intermediate_size, h)?,
            output_norm: layer_norm(&vb.pp("output").pp("LayerNorm"), h, c.layer_norm_eps)?,
        })
    }
}

/// A BERT encoder: embeddings and layers, no pooler (the heads pool).
pub struct BertEncoder {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    embeddings_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_size: usize,
    act: HiddenAct,
}

impl BertEncoder {
    /// Reads the weights under `bert.`, `{model_type}.` or the root, as BertModel does.
    pub fn load(vb: VarBuilder, c: &Config) -> Result<Self> {
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else if let Some(prefix) = c
            .model_type
            .as_deref()
            .filter(|m| vb.contains_tensor(&format!("{m}.embeddings.word_embeddings.weight")))
        {
            vb.pp(prefix)
        } else {
            vb
        };
        let e = vb.pp("embeddings");
        let h = c.hidden_size;
        let embedding = |name: &str, rows: usize| -> Result<Embedding> {
            Ok(Embedding::new(e.pp(name).get((rows, h), "weight")?, h))
        };
        let layers = (0..c.num_hidden_layers)
            .map(|i| Layer::load(&vb.pp(format!("encoder.layer.{i}")), c))
            .collect::<Result<Vec<_>>>()?;
        if c.num_attention_heads == 0 || !h.is_multiple_of(c.num_attention_heads) {
            candle_core::bail!(
                "hidden_size {h} is not a multiple of num_attention_heads {}",
                c.num_attention_heads
            );
        }
        Ok(Self {
            words: embedding("word_embeddings", c.vocab_size)?,
            positions: embedding("position_embeddings", c.max_position_embeddings)?,
            token_types: embedding("token_type_embeddings", c.type_vocab_size)?,
            embeddings_norm: layer_norm(&e.pp("LayerNorm"), h, c.layer_norm_eps)?,
            layers,
            heads: c.num_attention_heads,
            head_size: h / c.num_attention_heads,
            act: c.hidden_act,
        })
    }

    /// `[batch, seq, hidden]` states for `ids` with `mask` (1 for tokens, 0 for padding).
    pub fn forward(&self, ids: &Tensor, token_types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, seq) = ids.dims2()?;
        let positions = Tensor::arange(0u32, u32::try_from(seq).unwrap_or(u32::MAX), ids.device())?
            .unsqueeze(0)?;
        let x = self
            .words
            .forward(ids)?
            .add(&self.token_types.forward(token_types)?)?
            .broadcast_add(&self.positions.forward(&positions)?)?;
        let mut x = self.embeddings_norm.forward(&x)?;
        // 0 where attended, a large negative number on padding: [batch, 1, 1, seq].
        let bias = ((mask.to_dtype(DType::F32)? - 1.0)? * 10_000.0)?.reshape((batch, 1, 1, seq))?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        let hidden = self.heads * self.head_size;
        for layer in &self.layers {
            let qkv = layer
                .qkv
                .forward(&x)?
                .reshape((batch, seq, 3, self.heads, self.head_size))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .reshape((batch, seq, hidden))?;
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_out.forward(&context)? + &x)?)?;
            let inner = activation(self.act, &layer.intermediate.forward(&attended)?)?;
            x = layer
                .output_norm
                .forward(&(layer.output.forward(&inner)? + &attended)?)?;
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::gelu_erf;

    #[test]
    fn the_fast_gelu_matches_the_exact_one() {
        // Exact GELU through a high-precision erf (f64, series), at many points.
        fn erf64(x: f64) -> f64 {
            // Maclaurin series; converges fast for |x| <= 4.
            let mut sum = 0.0;
            let mut term = x;
            let mut n = 0.0;
            while term.abs() > 1e-17 && n < 200.0 {
                sum += term / (2.0 * n + 1.0);
                n += 1.0;
                term *= -x * x / n;
            }
            (2.0 / std::f64::consts::PI.sqrt() * sum).clamp(-1.0, 1.0)
        }
        let mut worst = 0.0_f64;
        for i in -400..=400 {
            let x = f64::from(i) / 100.0;
            let exact = 0.5 * x * (1.0 + erf64(x / std::f64::consts::SQRT_2));
            #[allow(clippy::cast_possible_truncation)]
            let fast = f64::from(gelu_erf(x as f32));
            worst = worst.max((fast - exact).abs());
        }
        assert!(worst < 2e-6, "worst error {worst}");
        // Far tails: the identity and zero.
        assert!((gelu_erf(6.0) - 6.0).abs() < 1e-6);
        assert!(gelu_erf(-6.0).abs() < 1e-6);
    }
}
