//! Catalog search latency on SQLite at 100,000 models.
//!
//! Fills a temporary database file with synthetic models (owners `synthetic-org-NNNN`,
//! names `synth-<word>-<size>-vN`; ~30 tasks, ~20 libraries, Zipf-like downloads, 1-8
//! tags each), then runs a mix of searches through the public async API (no cache in
//! front: every call runs the SQL, facets included) and prints p50/p95/p99 latency and
//! queries per second for each kind.
//!
//! `cargo run --release --example catalog_bench -p hfb-store [-- <models> <rounds>]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hfb_store::{
    CatalogModel, CatalogQuery, CatalogRepo, CatalogSort, CatalogSource, ModelFile, SqliteStore,
};

const TASKS: [&str; 30] = [
    "text-generation",
    "text-classification",
    "feature-extraction",
    "sentence-similarity",
    "fill-mask",
    "token-classification",
    "automatic-speech-recognition",
    "image-classification",
    "text-to-image",
    "question-answering",
    "summarization",
    "translation",
    "zero-shot-classification",
    "image-text-to-text",
    "object-detection",
    "image-segmentation",
    "text-to-speech",
    "audio-classification",
    "reinforcement-learning",
    "text2text-generation",
    "image-to-text",
    "depth-estimation",
    "video-classification",
    "tabular-classification",
    "tabular-regression",
    "visual-question-answering",
    "document-question-answering",
    "image-to-image",
    "unconditional-image-generation",
    "time-series-forecasting",
];

const LIBRARIES: [&str; 20] = [
    "transformers",
    "sentence-transformers",
    "diffusers",
    "peft",
    "gguf",
    "timm",
    "onnx",
    "keras",
    "pytorch",
    "mlx",
    "adapter-transformers",
    "flair",
    "spacy",
    "stable-baselines3",
    "speechbrain",
    "fastai",
    "espnet",
    "setfit",
    "paddlenlp",
    "open_clip",
];

const LICENSES: [&str; 12] = [
    "apache-2.0",
    "mit",
    "other",
    "cc-by-4.0",
    "cc-by-nc-4.0",
    "llama3",
    "openrail",
    "bsd-3-clause",
    "gpl-3.0",
    "cc-by-sa-4.0",
    "afl-3.0",
    "creativeml-openrail-m",
];

const LANGUAGES: [&str; 40] = [
    "en", "zh", "fr", "de", "es", "ru", "ja", "ko", "pt", "it", "ar", "hi", "nl", "pl", "tr", "vi",
    "id", "sv", "fa", "uk", "cs", "fi", "da", "he", "el", "ro", "hu", "th", "bn", "ta", "ur", "ms",
    "no", "bg", "ca", "sk", "hr", "lt", "sl", "et",
];

const WORDS: [&str; 32] = [
    "alpha", "beta", "gamma", "delta", "echo", "helix", "ion", "jade", "krypton", "lumen", "mini",
    "minilm", "nano", "orbit", "pixel", "quartz", "rune", "sigma", "tensor", "ultra", "vortex",
    "wave", "xeno", "yarn", "zephyr", "bert", "coder", "vision", "audio", "instruct", "chat",
    "embed",
];

const SIZES: [&str; 8] = ["tiny", "small", "base", "large", "xl", "1b", "7b", "70b"];

/// splitmix64: a small, seedable generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index in 0..n, Zipf-like (index 0 most likely).
    fn zipf(&mut self, n: usize) -> usize {
        // Inverse transform of a continuous 1/x density over [1, n + 1).
        let x = ((n as f64 + 1.0).ln() * self.unit()).exp() - 1.0;
        (x as usize).min(n - 1)
    }
}

fn synthetic_models(count: usize, seed: u64) -> Vec<CatalogModel> {
    let mut rng = Rng(seed);
    let now = Utc::now().timestamp_millis();
    let four_years = 4 * 365 * 24 * 3600 * 1000_i64;
    // Popularity ranks: a random permutation, so downloads do not follow insertion order.
    let mut ranks: Vec<usize> = (0..count).collect();
    for i in (1..count).rev() {
        ranks.swap(i, rng.below(i + 1));
    }
    (0..count)
        .map(|i| {
            let owner = format!("synthetic-org-{:04}", rng.zipf(3000));
            let name = format!(
                "synth-{}-{}-v{}",
                WORDS[rng.below(WORDS.len())],
                SIZES[rng.below(SIZES.len())],
                i
            );
            let task = TASKS[rng.zipf(TASKS.len())];
            let library = LIBRARIES[rng.zipf(LIBRARIES.len())];
            let license = (rng.unit() < 0.85).then(|| LICENSES[rng.zipf(LICENSES.len())]);
            let languages: Vec<String> = (0..rng.below(4))
                .map(|_| LANGUAGES[rng.zipf(LANGUAGES.len())].to_owned())
                .collect();
            let mut tags = vec![library.to_owned(), task.to_owned()];
            for _ in 0..rng.below(7) {
                tags.push(format!("topic-{}", rng.zipf(400)));
            }
            tags.truncate(1 + rng.below(8));
            if let Some(l) = license {
                tags.push(format!("license:{l}"));
            }
            let downloads = (50_000_000.0 / (ranks[i] as f64 + 1.0).powf(1.1)) as i64;
            let created = now - (rng.unit() * four_years as f64) as i64;
            let updated = created + (rng.unit() * (now - created) as f64) as i64;
            let gated = match rng.below(100) {
                0..=7 => "auto",
                8..=9 => "manual",
                _ => "false",
            };
            CatalogModel {
                id: format!("{owner}/{name}"),
                author: Some(owner),
                task: Some(task.into()),
                library: Some(library.into()),
                languages,
                license: license.map(Into::into),
                tags,
                downloads,
                downloads_all_time: Some(downloads * (1 + rng.below(20) as i64)),
                likes: downloads / (200 + rng.below(2000) as i64),
                trending_score: (rng.unit() * 100.0).powi(2).floor() / 10.0,
                created_at: DateTime::from_timestamp_millis(created),
                updated_at: DateTime::from_timestamp_millis(updated),
                gated: gated.into(),
                private: false,
                sha: Some(format!("{:040x}", u128::from(rng.next()))),
                files: (0..3 + rng.below(6))
                    .map(|f| ModelFile {
                        path: format!("file-{f}.bin"),
                        size: Some((rng.unit() * 2e9) as i64),
                    })
                    .collect(),
                card_data: (rng.unit() < 0.5).then(|| {
                    serde_json::json!({ "license": license, "tags": ["synthetic"], "pipeline_tag": task })
                }),
                source: CatalogSource::Synced,
                synced_at: Utc::now(),
            }
        })
        .collect()
}

struct Kind {
    name: &'static str,
    queries: Vec<CatalogQuery>,
}

fn q() -> CatalogQuery {
    CatalogQuery::default()
}

fn kinds() -> Vec<Kind> {
    let prefixes = [
        "mini", "bert", "alp", "zeph", "nano", "instr", "qua", "vis", "emb", "cod",
    ];
    let mut kinds = vec![Kind {
        name: "empty query, downloads desc",
        queries: vec![q()],
    }];
    for (name, sort, descending) in [
        ("empty query, likes desc", CatalogSort::Likes, true),
        ("empty query, trending desc", CatalogSort::Trending, true),
        ("empty query, updated desc", CatalogSort::Updated, true),
        ("empty query, created desc", CatalogSort::Created, true),
        ("empty query, downloads asc", CatalogSort::Downloads, false),
    ] {
        kinds.push(Kind {
            name,
            queries: vec![CatalogQuery {
                sort,
                descending,
                ..q()
            }],
        });
    }
    kinds.push(Kind {
        name: "empty query, offset 5000",
        queries: vec![CatalogQuery {
            offset: 5000,
            ..q()
        }],
    });
    kinds.push(Kind {
        name: "text prefix",
        queries: prefixes
            .iter()
            .map(|p| CatalogQuery {
                text: Some((*p).into()),
                ..q()
            })
            .collect(),
    });
    kinds.push(Kind {
        name: "text prefix + task",
        queries: prefixes
            .iter()
            .zip(TASKS.iter().cycle())
            .map(|(p, t)| CatalogQuery {
                text: Some((*p).into()),
                task: Some((*t).into()),
                ..q()
            })
            .collect(),
    });
    kinds.push(Kind {
        name: "two-token text",
        queries: ["mini base", "bert 7b", "alpha v1", "sigma lar", "chat-70b"]
            .iter()
            .map(|p| CatalogQuery {
                text: Some((*p).into()),
                ..q()
            })
            .collect(),
    });
    kinds.push(Kind {
        name: "tag filter",
        queries: ["topic-0", "topic-3", "topic-40", "topic-250", "diffusers"]
            .iter()
            .map(|t| CatalogQuery {
                tags: vec![(*t).into()],
                ..q()
            })
            .collect(),
    });
    kinds.push(Kind {
        name: "two tags, likes desc",
        queries: vec![
            CatalogQuery {
                tags: vec!["topic-0".into(), "topic-1".into()],
                sort: CatalogSort::Likes,
                ..q()
            },
            CatalogQuery {
                tags: vec!["transformers".into(), "topic-7".into()],
                sort: CatalogSort::Likes,
                ..q()
            },
        ],
    });
    kinds.push(Kind {
        name: "task + library",
        queries: TASKS
            .iter()
            .take(8)
            .zip(LIBRARIES.iter())
            .map(|(t, l)| CatalogQuery {
                task: Some((*t).into()),
                library: Some((*l).into()),
                ..q()
            })
            .collect(),
    });
    kinds.push(Kind {
        name: "language filter",
        queries: ["en", "fr", "ja", "sl"]
            .iter()
            .map(|l| CatalogQuery {
                language: Some((*l).into()),
                ..q()
            })
            .collect(),
    });
    kinds
}

/// Queries whose matched set is most of the catalog: facets are counted over every
/// matched row, so these cost in proportion to the catalog.
fn worst_cases() -> Vec<Kind> {
    vec![
        Kind {
            name: "token of every model (synth)",
            queries: vec![CatalogQuery {
                text: Some("synth".into()),
                ..q()
            }],
        },
        Kind {
            name: "synth + task, offset 100",
            queries: vec![CatalogQuery {
                text: Some("synth".into()),
                task: Some("text-generation".into()),
                offset: 100,
                ..q()
            }],
        },
        Kind {
            name: "synthetic-org-01 (3 tokens)",
            queries: vec![CatalogQuery {
                text: Some("synthetic-org-01".into()),
                ..q()
            }],
        },
        Kind {
            name: "most popular tag (topic-0)",
            queries: vec![CatalogQuery {
                tags: vec!["topic-0".into()],
                ..q()
            }],
        },
        Kind {
            name: "not gated (90% of models)",
            queries: vec![CatalogQuery {
                gated: Some(false),
                ..q()
            }],
        },
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn measure(store: &SqliteStore, title: &str, kinds: &[Kind], rounds: usize) {
    println!(
        "\n{:<32} {:>9} {:>9} {:>9} {:>9} {:>10}",
        format!("{title} (total + facets + page)"),
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "q/s",
        "avg total"
    );
    let mut all = Vec::new();
    for kind in kinds {
        let mut times = Vec::with_capacity(rounds);
        let mut totals = 0_u64;
        for round in 0..rounds {
            let query = &kind.queries[round % kind.queries.len()];
            let started = Instant::now();
            let page = store.search_catalog(query).await.expect("search");
            times.push(started.elapsed());
            totals += page.total;
            assert!(page.items.len() <= 20);
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / u32::try_from(rounds).unwrap_or(1);
        println!(
            "{:<32} {:>9.2} {:>9.2} {:>9.2} {:>9.0} {:>10}",
            kind.name,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.95)),
            ms(percentile(&times, 0.99)),
            1.0 / mean.as_secs_f64(),
            totals / rounds as u64
        );
        all.extend(times);
    }
    all.sort();
    let mean = all.iter().sum::<Duration>() / u32::try_from(all.len()).unwrap_or(1);
    println!(
        "{:<32} {:>9.2} {:>9.2} {:>9.2} {:>9.0}",
        "ALL (equal mix)",
        ms(percentile(&all, 0.50)),
        ms(percentile(&all, 0.95)),
        ms(percentile(&all, 0.99)),
        1.0 / mean.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    // CATALOG_BENCH_DB=<file> keeps the database (and reuses a filled one) for inspection.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = std::env::var_os("CATALOG_BENCH_DB")
        .map_or_else(|| dir.path().join("catalog.sqlite3"), Into::into);
    let store = SqliteStore::open(&path).await.expect("open");

    let models = synthetic_models(count, 42);
    if store.catalog_count().await.expect("count") != count as u64 {
        let started = Instant::now();
        for batch in models.chunks(1000) {
            store.upsert_models(batch).await.expect("upsert");
        }
        let fill = started.elapsed();
        println!(
            "filled {count} models in {:.2} s ({:.0} models/s, batches of 1000)",
            fill.as_secs_f64(),
            count as f64 / fill.as_secs_f64()
        );
    }
    let started = Instant::now();
    let again = store
        .upsert_models(&models[..1000])
        .await
        .expect("re-upsert");
    println!(
        "re-upsert of 1000 unchanged models: {:.1} ms ({again:?})",
        ms(started.elapsed())
    );
    let db_size = std::fs::metadata(&path).map_or(0, |m| m.len())
        + std::fs::metadata(path.with_extension("sqlite3-wal")).map_or(0, |m| m.len());
    println!("database size: {:.1} MB", db_size as f64 / 1e6);

    // Warm up (page cache), then measure.
    // CATALOG_BENCH_ONLY=<text> runs only the kinds whose name contains it (for profiling).
    let only = std::env::var("CATALOG_BENCH_ONLY").unwrap_or_default();
    for (title, mut kinds) in [("typical", kinds()), ("worst cases", worst_cases())] {
        kinds.retain(|k| k.name.contains(only.as_str()));
        if kinds.is_empty() {
            continue;
        }
        for kind in &kinds {
            for query in &kind.queries {
                store.search_catalog(query).await.expect("search");
            }
        }
        measure(&store, title, &kinds, rounds).await;
    }

    let started = Instant::now();
    let ids: Vec<String> = models
        .iter()
        .step_by(97)
        .map(|m| m.id.to_uppercase())
        .collect();
    for id in &ids {
        store.catalog_model(id).await.expect("get").expect("exists");
    }
    println!(
        "\ncatalog_model by id (case-insensitive): {:.3} ms each",
        ms(started.elapsed()) / ids.len() as f64
    );
    let mut changed: Vec<CatalogModel> = models[..1000].to_vec();
    for m in &mut changed {
        m.downloads += 1;
    }
    let started = Instant::now();
    let counts = store.upsert_models(&changed).await.expect("update");
    println!(
        "update of 1000 changed models: {:.1} ms ({counts:?}); revision {}",
        ms(started.elapsed()),
        store.catalog_revision().await.expect("revision")
    );
}
