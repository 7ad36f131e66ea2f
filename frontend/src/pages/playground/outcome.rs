//! What a call answered, read by the shape the task gives it, and its views: embeddings
//! (dimension, norm, first values), similarity and label bars, entities, generated text,
//! and pretty JSON for everything else.

use leptos::prelude::*;
use serde_json::Value;

use super::task::PlayTask;
use crate::components::copy_button::CopyButton;

/// Values shown in an embedding's preview.
pub const PREVIEW_VALUES: usize = 8;
/// Values drawn in an embedding's strip.
const STRIP_VALUES: usize = 96;

/// One entity of a token-classification answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub group: String,
    pub word: String,
    pub score: f64,
    pub span: Option<(u64, u64)>,
}

/// An answer, read.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// One vector per input (one for a single text).
    Embeddings(Vec<Vec<f64>>),
    /// Sentence similarity: each sentence with its score, in the order sent.
    Similarity(Vec<(String, f64)>),
    /// Classification: labels with scores, best first.
    Labels(Vec<(String, f64)>),
    Entities(Vec<Entity>),
    Generated(Vec<String>),
    /// Anything else: shown as JSON.
    Json,
}

/// The Euclidean (L2) norm of a vector.
pub fn l2_norm(vector: &[f64]) -> f64 {
    vector.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The index of the highest score (the first of equals).
pub fn best_index(scores: &[f64]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (i, &s)| match best {
            Some((_, b)) if b >= s => best,
            _ => Some((i, s)),
        })
        .map(|(i, _)| i)
}

/// `[0.0123, -0.0456, …]`: the first `n` values, four decimals each.
pub fn preview(vector: &[f64], n: usize) -> String {
    let shown: Vec<String> = vector.iter().take(n).map(|x| format!("{x:.4}")).collect();
    let more = if vector.len() > n { ", …" } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

fn numbers(value: &Value) -> Option<Vec<f64>> {
    value.as_array()?.iter().map(Value::as_f64).collect()
}

/// A list of `{label, score}`, also nested one level (`[[...]]`, as batch answers are),
/// best first.
fn labels(value: &Value) -> Option<Vec<(String, f64)>> {
    let items = value.as_array()?;
    let items = match items.first() {
        Some(Value::Array(inner)) if items.len() == 1 => inner,
        _ => items,
    };
    if items.is_empty() {
        return None;
    }
    let mut out: Vec<(String, f64)> = items
        .iter()
        .map(|item| {
            Some((
                item.get("label")?.as_str()?.to_owned(),
                item.get("score")?.as_f64()?,
            ))
        })
        .collect::<Option<_>>()?;
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    Some(out)
}

fn entities(value: &Value) -> Option<Vec<Entity>> {
    value
        .as_array()?
        .iter()
        .map(|item| {
            let group = item
                .get("entity_group")
                .or_else(|| item.get("entity"))?
                .as_str()?;
            let span = item
                .get("start")
                .and_then(Value::as_u64)
                .zip(item.get("end").and_then(Value::as_u64));
            Some(Entity {
                group: group.to_owned(),
                word: item.get("word")?.as_str()?.to_owned(),
                score: item.get("score")?.as_f64()?,
                span,
            })
        })
        .collect()
}

fn generated(value: &Value) -> Option<Vec<String>> {
    let text = |item: &Value| Some(item.get("generated_text")?.as_str()?.to_owned());
    match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(text).collect(),
        Value::Object(_) => text(value).map(|t| vec![t]),
        _ => None,
    }
}

/// Reads `answer` as `task` shapes it (`request` is what was sent, for the sentences).
pub fn interpret(task: &PlayTask, request: &Value, answer: &Value) -> Outcome {
    let read = match task {
        PlayTask::FeatureExtraction => numbers(answer)
            .filter(|v| !v.is_empty())
            .map(|v| vec![v])
            .or_else(|| {
                let rows: Option<Vec<Vec<f64>>> = answer.as_array()?.iter().map(numbers).collect();
                rows.filter(|r| !r.is_empty() && r.iter().all(|v| !v.is_empty()))
            })
            .map(Outcome::Embeddings),
        PlayTask::SentenceSimilarity => {
            let sentences: Vec<String> = request["inputs"]["sentences"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            numbers(answer)
                .filter(|scores| scores.len() == sentences.len() && !scores.is_empty())
                .map(|scores| Outcome::Similarity(sentences.into_iter().zip(scores).collect()))
        }
        PlayTask::TextClassification => labels(answer).map(Outcome::Labels),
        PlayTask::TokenClassification => entities(answer).map(Outcome::Entities),
        PlayTask::TextGeneration => generated(answer).map(Outcome::Generated),
        PlayTask::Other(_) => labels(answer)
            .map(Outcome::Labels)
            .or_else(|| generated(answer).map(Outcome::Generated)),
    };
    read.unwrap_or(Outcome::Json)
}

/// `[0, 1]` as a bar width in percent (cosine scores can be negative: no bar then).
fn bar_width(score: f64) -> String {
    format!("{:.1}%", (score.clamp(0.0, 1.0) * 100.0))
}

/// The view of an answer; `raw` is its JSON, pretty-printed.
#[component]
pub fn OutcomeView(outcome: Outcome, raw: String) -> impl IntoView {
    let kind = match &outcome {
        Outcome::Embeddings(_) => "embeddings",
        Outcome::Similarity(_) => "similarity",
        Outcome::Labels(_) => "labels",
        Outcome::Entities(_) => "entities",
        Outcome::Generated(_) => "generated",
        Outcome::Json => "json",
    };
    let raw_for_copy = Signal::stored(raw.clone());
    let body = match outcome {
        Outcome::Embeddings(vectors) => view! { <EmbeddingView vectors=vectors raw=raw_for_copy /> }.into_any(),
        Outcome::Similarity(scores) => {
            let best = best_index(&scores.iter().map(|(_, s)| *s).collect::<Vec<_>>());
            view! {
                <p class="pg-result-lead small muted">"Cosine similarity with the source sentence, in the order sent; the closest is highlighted."</p>
                <ol class="pg-bars" data-testid="result-scores">
                    {scores
                        .into_iter()
                        .enumerate()
                        .map(|(i, (sentence, score))| {
                            let is_best = best == Some(i);
                            view! {
                                <li
                                    class="pg-bar"
                                    class:pg-bar--best=is_best
                                    data-testid="result-score"
                                    data-score=format!("{score:.6}")
                                    data-best=is_best.to_string()
                                >
                                    <span class="pg-bar-label" title=sentence.clone()>{sentence.clone()}</span>
                                    <span class="pg-bar-track" aria-hidden="true">
                                        <span class="pg-bar-fill" style=format!("width:{}", bar_width(score))></span>
                                    </span>
                                    <span class="pg-bar-value mono">{format!("{score:.4}")}</span>
                                    {is_best.then(|| view! { <span class="chip pg-best-chip">"closest"</span> })}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
            .into_any()
        }
        Outcome::Labels(labels) => view! {
            <ol class="pg-bars" data-testid="result-labels">
                {labels
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, score))| {
                        view! {
                            <li
                                class="pg-bar"
                                class:pg-bar--best=i == 0
                                data-testid="result-label"
                                data-label=label.clone()
                                data-score=format!("{score:.6}")
                            >
                                <span class="pg-bar-label">{label.clone()}</span>
                                <span class="pg-bar-track" aria-hidden="true">
                                    <span class="pg-bar-fill" style=format!("width:{}", bar_width(score))></span>
                                </span>
                                <span class="pg-bar-value mono">{format!("{score:.4}")}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        }
        .into_any(),
        Outcome::Entities(entities) => view! {
            <div class="deploy-table-wrap">
                <table class="table pg-entities" data-testid="result-entities">
                    <thead>
                        <tr>
                            <th scope="col">"Entity"</th>
                            <th scope="col">"Text"</th>
                            <th scope="col" class="num">"Score"</th>
                            <th scope="col" class="num">"Span"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {entities
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr data-testid="result-entity" data-entity=e.group.clone()>
                                        <td><span class="chip">{e.group.clone()}</span></td>
                                        <td>{e.word}</td>
                                        <td class="num mono">{format!("{:.4}", e.score)}</td>
                                        <td class="num mono small">
                                            {e.span.map(|(s, end)| format!("{s}–{end}")).unwrap_or_default()}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Outcome::Generated(texts) => texts
            .into_iter()
            .map(|text| view! { <div class="pg-generated" data-testid="result-generated">{text}</div> })
            .collect_view()
            .into_any(),
        Outcome::Json => view! {
            <pre class="code-block pg-json" data-testid="result-json">{raw.clone()}</pre>
        }
        .into_any(),
    };
    let show_raw = kind != "json";
    view! {
        <div class="pg-result" data-testid="playground-result" data-kind=kind>
            {body}
            {show_raw
                .then(|| {
                    view! {
                        <details class="pg-raw">
                            <summary>"Raw JSON"</summary>
                            <pre class="code-block pg-json" data-testid="result-raw">{raw.clone()}</pre>
                        </details>
                    }
                })}
        </div>
    }
}

#[component]
fn EmbeddingView(vectors: Vec<Vec<f64>>, raw: Signal<String>) -> impl IntoView {
    let count = vectors.len();
    let first = vectors.into_iter().next().unwrap_or_default();
    let norm = l2_norm(&first);
    let peak = first
        .iter()
        .take(STRIP_VALUES)
        .fold(0.0_f64, |m, x| m.max(x.abs()))
        .max(f64::MIN_POSITIVE);
    view! {
        <dl class="pg-facts">
            <div class="pg-fact">
                <dt>"Dimension"</dt>
                <dd class="mono" data-testid="result-dimension">{first.len().to_string()}</dd>
            </div>
            <div class="pg-fact">
                <dt>"L2 norm"</dt>
                <dd class="mono" data-testid="result-norm">{format!("{norm:.3}")}</dd>
            </div>
            {(count > 1)
                .then(|| {
                    view! {
                        <div class="pg-fact">
                            <dt>"Vectors"</dt>
                            <dd class="mono" data-testid="result-vectors">{count.to_string()}</dd>
                        </div>
                    }
                })}
        </dl>
        <div
            class="pg-strip"
            role="img"
            aria-label=format!("The first {} values, coloured by sign and size", first.len().min(STRIP_VALUES))
        >
            {first
                .iter()
                .take(STRIP_VALUES)
                .map(|x| {
                    let strength = (x.abs() / peak * 100.0).round();
                    let class = if *x < 0.0 { "pg-cell pg-cell--neg" } else { "pg-cell" };
                    view! { <span class=class style=format!("--v:{strength}%")></span> }
                })
                .collect_view()}
        </div>
        <div class="pg-vector-row">
            <code class="pg-vector mono" data-testid="result-preview">
                {preview(&first, PREVIEW_VALUES)}
            </code>
            <CopyButton text=raw label="Copy JSON" testid="result-copy" />
        </div>
        {(count > 1).then(|| view! { <p class="small muted">"The first vector is shown; the JSON has all of them."</p> })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn norms_and_previews() {
        assert!((l2_norm(&[3.0, 4.0]) - 5.0).abs() < 1e-12);
        assert_eq!(l2_norm(&[]), 0.0);
        let unit = [0.6, -0.8];
        assert_eq!(format!("{:.3}", l2_norm(&unit)), "1.000");
        assert_eq!(preview(&[0.5, -0.25], 8), "[0.5000, -0.2500]");
        let long: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(preview(&long, 3), "[0.0000, 1.0000, 2.0000, …]");
        assert_eq!(best_index(&[0.2, 0.9, 0.9, 0.1]), Some(1));
        assert_eq!(best_index(&[]), None);
        assert_eq!(bar_width(-0.3), "0.0%");
        assert_eq!(bar_width(0.4567), "45.7%");
    }

    #[test]
    fn answers_are_read_by_the_task_shape() {
        let fe = PlayTask::FeatureExtraction;
        assert_eq!(
            interpret(&fe, &json!({}), &json!([0.6, 0.8])),
            Outcome::Embeddings(vec![vec![0.6, 0.8]])
        );
        assert_eq!(
            interpret(&fe, &json!({}), &json!([[1.0], [2.0]])),
            Outcome::Embeddings(vec![vec![1.0], vec![2.0]])
        );
        assert_eq!(interpret(&fe, &json!({}), &json!([])), Outcome::Json);

        let ss = PlayTask::SentenceSimilarity;
        let request = json!({ "inputs": { "source_sentence": "s", "sentences": ["a", "b"] } });
        assert_eq!(
            interpret(&ss, &request, &json!([0.1, 0.7])),
            Outcome::Similarity(vec![("a".into(), 0.1), ("b".into(), 0.7)])
        );
        // A count that does not match the sentences is not guessed at.
        assert_eq!(interpret(&ss, &request, &json!([0.1])), Outcome::Json);

        let tc = PlayTask::TextClassification;
        let answer = json!([[{ "label": "NEG", "score": 0.1 }, { "label": "POS", "score": 0.9 }]]);
        assert_eq!(
            interpret(&tc, &json!({}), &answer),
            Outcome::Labels(vec![("POS".into(), 0.9), ("NEG".into(), 0.1)])
        );

        let tok = PlayTask::TokenClassification;
        let answer = json!([{ "entity_group": "PER", "score": 0.99, "word": "Clara", "start": 11, "end": 16 }]);
        assert_eq!(
            interpret(&tok, &json!({}), &answer),
            Outcome::Entities(vec![Entity {
                group: "PER".into(),
                word: "Clara".into(),
                score: 0.99,
                span: Some((11, 16)),
            }])
        );

        let tg = PlayTask::TextGeneration;
        assert_eq!(
            interpret(
                &tg,
                &json!({}),
                &json!([{ "generated_text": "Leaves fall." }])
            ),
            Outcome::Generated(vec!["Leaves fall.".into()])
        );
        assert_eq!(
            interpret(
                &PlayTask::Other("x".into()),
                &json!({}),
                &json!({ "answer": 42 })
            ),
            Outcome::Json
        );
    }
}
