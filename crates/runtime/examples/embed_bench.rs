//! Embeddings throughput of hfb-runtime on a model folder (run by `bench/embeddings.sh`).
//!
//! ```text
//! cargo run --release -p hfb-runtime --example embed_bench -- \
//!     --model data/models/sentence-transformers/all-MiniLM-L6-v2 [--batches 1,8,32] \
//!     [--rounds 3] [--workers 1] [--threads N] [--sentences FILE] [--dump-sentences FILE]
//! ```
//!
//! For each batch size b, two measurements over the same 256 sentences (~14 words each,
//! generated deterministically unless `--sentences` gives a file, one per line):
//! - `calls`: 256/b `embed` calls of b sentences, one after another (what an API client
//!   sending batches of b sees);
//! - `one-call`: one `embed` call of 256 sentences on a model whose `max_batch_size` is b
//!   (what `SentenceTransformer.encode(sentences, batch_size=b)` does).
//!
//! Plus `concurrent`: 256 single-sentence requests in flight at once (coalesced by the
//! worker pool into batches of up to 32). Each figure is the median of `--rounds` timed
//! runs after one warm-up. Output lines: `RESULT hfb <mode> <b> <sentences/s> <CPU ms per
//! sentence>` (CPU time of the whole process, all threads: an efficiency figure that
//! holds up better than wall time on a busy machine).

use std::path::PathBuf;
use std::time::Instant;

use hfb_runtime::{EmbedOptions, LoadOptions, LocalModel};

struct Args {
    model: PathBuf,
    batches: Vec<usize>,
    rounds: usize,
    workers: usize,
    threads: Option<usize>,
    sentences: Option<PathBuf>,
    dump: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        model: PathBuf::from("data/models/sentence-transformers/all-MiniLM-L6-v2"),
        batches: vec![1, 8, 32],
        rounds: 3,
        workers: 1,
        threads: None,
        sentences: None,
        dump: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |s: String| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match flag.as_str() {
            "--model" => args.model = value()?.into(),
            "--batches" => {
                args.batches = value()?
                    .split(',')
                    .map(|s| number(s.to_string()))
                    .collect::<Result<_, _>>()?
            }
            "--rounds" => args.rounds = number(value()?)?.max(1),
            "--workers" => args.workers = number(value()?)?,
            "--threads" => args.threads = Some(number(value()?)?),
            "--sentences" => args.sentences = Some(value()?.into()),
            "--dump-sentences" => args.dump = Some(value()?.into()),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

/// 256 sentences of 12–16 common words, the same on every run (a fixed LCG).
fn generate_sentences() -> Vec<String> {
    const WORDS: &[&str] = &[
        "the",
        "team",
        "deployed",
        "a",
        "new",
        "model",
        "to",
        "production",
        "after",
        "review",
        "customer",
        "asked",
        "about",
        "their",
        "invoice",
        "and",
        "delivery",
        "date",
        "for",
        "order",
        "our",
        "search",
        "results",
        "should",
        "show",
        "relevant",
        "documents",
        "first",
        "weather",
        "was",
        "lovely",
        "today",
        "so",
        "we",
        "walked",
        "along",
        "river",
        "with",
        "friends",
        "engineers",
        "fixed",
        "bug",
        "in",
        "payment",
        "service",
        "last",
        "night",
        "please",
        "reset",
        "my",
        "password",
        "because",
        "cannot",
        "sign",
        "into",
        "account",
        "quarterly",
        "report",
        "shows",
        "growth",
        "sales",
        "revenue",
        "europe",
        "asia",
        "support",
        "ticket",
        "mentions",
        "slow",
        "page",
        "loads",
        "on",
        "mobile",
        "devices",
        "meeting",
        "moved",
        "next",
        "tuesday",
        "morning",
        "at",
        "ten",
        "o'clock",
        "room",
        "data",
        "pipeline",
        "failed",
        "when",
        "storage",
        "bucket",
        "ran",
        "out",
        "of",
        "space",
        "new",
        "employees",
        "receive",
        "laptop",
        "badge",
        "during",
        "onboarding",
        "week",
        "product",
        "launch",
        "planned",
        "spring",
        "marketing",
        "campaign",
        "budget",
        "approved",
        "server",
        "restarted",
        "automatically",
        "memory",
        "usage",
        "climbed",
        "too",
        "high",
    ];
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    (0..256)
        .map(|_| {
            let len = 12 + next(5);
            let mut words: Vec<&str> = (0..len).map(|_| WORDS[next(WORDS.len())]).collect();
            let mut first = words[0].to_string();
            if let Some(c) = first.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            words[0] = &first;
            format!("{}.", words.join(" "))
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// CPU seconds this process has used (user + system), from /proc/self/stat; 0 elsewhere.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `rounds + 1` times (the first is a warm-up) and prints the median rate and the
/// CPU milliseconds per sentence over the timed runs.
async fn measure<F, Fut>(
    label: &str,
    sentences: usize,
    rounds: usize,
    mut run: F,
) -> Result<(), Box<dyn std::error::Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>,
{
    run().await?;
    let mut rates = Vec::new();
    let cpu_start = cpu_seconds();
    for _ in 0..rounds {
        let started = Instant::now();
        run().await?;
        rates.push(sentences as f64 / started.elapsed().as_secs_f64());
    }
    let cpu_ms = (cpu_seconds() - cpu_start) * 1000.0 / (sentences * rounds) as f64;
    println!("RESULT hfb {label} {:.1} {cpu_ms:.2}", median(rates));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let sentences = match &args.sentences {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .map(str::to_string)
            .collect(),
        None => generate_sentences(),
    };
    if let Some(path) = &args.dump {
        std::fs::write(path, sentences.join("\n") + "\n")?;
    }
    let words: usize = sentences.iter().map(|s| s.split_whitespace().count()).sum();
    println!(
        "{} sentences, {:.1} words each on average; workers {}, threads per worker {}",
        sentences.len(),
        words as f64 / sentences.len() as f64,
        args.workers,
        args.threads
            .map_or("default (candle's shared pool)".to_string(), |t| t
                .to_string())
    );
    let options = |max_batch_size: usize| LoadOptions {
        workers: args.workers,
        threads_per_worker: args.threads,
        max_batch_size,
        queue_capacity: 1024,
        ..LoadOptions::default()
    };

    let model = LocalModel::load(&args.model, options(32))?;
    let tokens = model
        .embed(sentences.clone(), EmbedOptions::default())
        .await?
        .total_tokens();
    println!(
        "load {} ms, {:.1} tokens per sentence",
        model.info().load_ms,
        tokens as f64 / sentences.len() as f64
    );

    let n = sentences.len();
    for &b in &args.batches {
        // 256/b sequential calls of b sentences.
        measure(&format!("calls {b}"), n, args.rounds, || async {
            for chunk in sentences.chunks(b) {
                model.embed(chunk.to_vec(), EmbedOptions::default()).await?;
            }
            Ok(())
        })
        .await?;

        // One call of 256 sentences, model batches of b.
        let batched = LocalModel::load(&args.model, options(b))?;
        measure(&format!("one-call {b}"), n, args.rounds, || async {
            batched
                .embed(sentences.clone(), EmbedOptions::default())
                .await?;
            Ok(())
        })
        .await?;
    }

    // 256 concurrent single-sentence requests, coalesced by the pool.
    measure("concurrent 1", n, args.rounds, || async {
        let handles: Vec<_> = sentences
            .iter()
            .map(|s| {
                let model = model.clone();
                let s = s.clone();
                tokio::spawn(async move { model.embed(vec![s], EmbedOptions::default()).await })
            })
            .collect();
        for handle in handles {
            handle.await??;
        }
        Ok(())
    })
    .await?;
    Ok(())
}
