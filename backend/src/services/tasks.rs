//! The Hugging Face task format, task by task: what a request must look like before any
//! model or upstream sees it, and what an answer must look like before the caller sees it.
//!
//! Requests are `{"inputs": ..., "parameters": {...}}`. Every problem is reported at once,
//! field by field (`inputs[3]: must be a non-empty string`), as a 422. Answers from remote
//! targets are checked against the task's response shape (as documented for the Inference
//! API; see HF_API.md): an answer of another shape is the upstream's fault and becomes a
//! 502 `upstream_error` instead of garbage passed on.

use serde_json::{Map, Value};

use crate::services::validation::Validator;
use crate::services::vectors::Scanned;

/// Most inputs in one call (and, for `/batch`, the default most items).
pub const MAX_INPUTS: usize = 256;
/// Longest input, in characters (the model truncates tokens beyond its maximum anyway).
pub const MAX_INPUT_CHARS: usize = 20_000;
/// Most new tokens a text-generation call may ask for.
pub const MAX_NEW_TOKENS: u64 = 8192;

/// Tasks whose inputs are one text, or a list of texts answered in the same order.
const TEXT_TASKS: [&str; 8] = [
    "feature-extraction",
    "text-classification",
    "token-classification",
    "fill-mask",
    "text-generation",
    "summarization",
    "translation",
    "zero-shot-classification",
];

/// A string that is neither blank nor too long.
pub fn text(v: &mut Validator, field: &str, value: &Value) -> Option<String> {
    match value.as_str() {
        Some(s) if s.trim().is_empty() => {
            v.error(field, "must be a non-empty string");
            None
        }
        Some(s) if s.chars().count() > MAX_INPUT_CHARS => {
            v.error(
                field,
                format!("must be at most {MAX_INPUT_CHARS} characters"),
            );
            None
        }
        Some(s) => Some(s.to_owned()),
        None => {
            v.error(field, "must be a non-empty string");
            None
        }
    }
}

/// A non-empty list of at most `max` valid strings.
pub fn string_list(v: &mut Validator, field: &str, value: &Value, max: usize) -> Vec<String> {
    let Some(items) = value.as_array() else {
        v.error(field, "must be an array of strings");
        return Vec::new();
    };
    if items.is_empty() {
        v.error(field, "must not be empty");
    }
    if items.len() > max {
        v.error(field, format!("at most {max} items (got {})", items.len()));
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| text(v, &format!("{field}[{i}]"), item))
        .collect()
}

/// `parameters`, which may be absent or null (an empty object then).
pub fn parameters_of(v: &mut Validator, body: &Value) -> Map<String, Value> {
    match body.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            v.error("parameters", "must be an object");
            Map::new()
        }
    }
}

fn boolean(v: &mut Validator, p: &Map<String, Value>, name: &str) -> Option<bool> {
    match p.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            v.error(format!("parameters.{name}"), "must be true or false");
            None
        }
    }
}

fn integer(v: &mut Validator, p: &Map<String, Value>, name: &str, min: u64, max: u64) {
    match p.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (min..=max).contains(&n)) => {}
        Some(_) => v.error(
            format!("parameters.{name}"),
            format!("must be a whole number from {min} to {max}"),
        ),
    }
}

/// A number in `[min, max]`; `open_min` excludes `min` itself.
fn number(
    v: &mut Validator,
    p: &Map<String, Value>,
    name: &str,
    min: f64,
    max: f64,
    open_min: bool,
) {
    match p.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::Number(n))
            if n.as_f64()
                .is_some_and(|x| x <= max && if open_min { x > min } else { x >= min }) => {}
        Some(_) => {
            let low = if open_min { "more than" } else { "at least" };
            v.error(
                format!("parameters.{name}"),
                format!("must be a number {low} {min} and at most {max}"),
            );
        }
    }
}

fn one_of(v: &mut Validator, p: &Map<String, Value>, name: &str, allowed: &[&str]) {
    match p.get(name) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => {}
        Some(_) => v.error(
            format!("parameters.{name}"),
            format!("must be one of {}", allowed.join(", ")),
        ),
    }
}

fn strings(v: &mut Validator, p: &Map<String, Value>, name: &str, max: usize, required: bool) {
    match p.get(name) {
        None | Some(Value::Null) if required => v.error(
            format!("parameters.{name}"),
            "is required: a non-empty array of strings",
        ),
        None | Some(Value::Null) => {}
        Some(value) => {
            string_list(v, &format!("parameters.{name}"), value, max);
        }
    }
}

/// Checks a request for `task`; `max_inputs` bounds list inputs. Unknown tasks only need
/// `inputs` (the target knows its own format).
pub fn check_request(v: &mut Validator, task: &str, body: &Value, max_inputs: usize) {
    if !body.is_object() {
        v.error("body", "must be a JSON object with `inputs`");
        return;
    }
    let p = parameters_of(v, body);
    let inputs = body.get("inputs").unwrap_or(&Value::Null);
    if TEXT_TASKS.contains(&task) {
        if inputs.is_array() {
            string_list(v, "inputs", inputs, max_inputs);
        } else {
            text(v, "inputs", inputs);
        }
    }
    boolean(v, &p, "truncate");
    match task {
        "feature-extraction" => {
            boolean(v, &p, "normalize");
        }
        "sentence-similarity" => {
            if !inputs.is_object() {
                v.error(
                    "inputs",
                    "must be an object with source_sentence and sentences",
                );
                return;
            }
            text(
                v,
                "inputs.source_sentence",
                inputs.get("source_sentence").unwrap_or(&Value::Null),
            );
            string_list(
                v,
                "inputs.sentences",
                inputs.get("sentences").unwrap_or(&Value::Null),
                max_inputs,
            );
        }
        "text-classification" => {
            integer(v, &p, "top_k", 1, 1000);
            one_of(v, &p, "function_to_apply", &["sigmoid", "softmax", "none"]);
        }
        "token-classification" => {
            one_of(
                v,
                &p,
                "aggregation_strategy",
                &["none", "simple", "first", "average", "max"],
            );
            strings(v, &p, "ignore_labels", 100, false);
            integer(v, &p, "stride", 0, 4096);
        }
        "fill-mask" => {
            integer(v, &p, "top_k", 1, 1000);
            strings(v, &p, "targets", 100, false);
        }
        "text-generation" => {
            integer(v, &p, "max_new_tokens", 1, MAX_NEW_TOKENS);
            number(v, &p, "temperature", 0.0, 100.0, true);
            number(v, &p, "top_p", 0.0, 1.0, true);
            integer(v, &p, "top_k", 1, 100_000);
            number(v, &p, "repetition_penalty", 0.0, 100.0, true);
            boolean(v, &p, "do_sample");
            boolean(v, &p, "return_full_text");
            integer(v, &p, "seed", 0, u64::MAX);
            strings(v, &p, "stop", 4, false);
        }
        "summarization" | "translation" => {
            integer(v, &p, "max_new_tokens", 1, MAX_NEW_TOKENS);
        }
        "zero-shot-classification" => {
            strings(v, &p, "candidate_labels", 100, true);
            boolean(v, &p, "multi_label");
        }
        "question-answering" => {
            if !inputs.is_object() {
                v.error("inputs", "must be an object with question and context");
                return;
            }
            text(
                v,
                "inputs.question",
                inputs.get("question").unwrap_or(&Value::Null),
            );
            text(
                v,
                "inputs.context",
                inputs.get("context").unwrap_or(&Value::Null),
            );
            integer(v, &p, "top_k", 1, 100);
        }
        _ if inputs.is_null() => v.error("inputs", "is required"),
        _ => {}
    }
}

/// How many answers a request expects: `Some(n)` for a list of `n` inputs.
pub fn batch_len(task: &str, body: &Value) -> Option<usize> {
    TEXT_TASKS
        .contains(&task)
        .then(|| body.get("inputs").and_then(Value::as_array).map(Vec::len))
        .flatten()
}

fn is_number(v: &Value) -> bool {
    v.is_number()
}

fn numbers(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(is_number))
}

fn has(v: &Value, key: &str, check: fn(&Value) -> bool) -> bool {
    v.get(key).is_some_and(check)
}

fn label_score(v: &Value) -> bool {
    has(v, "label", Value::is_string) && has(v, "score", is_number)
}

fn list_of(v: &Value, item: fn(&Value) -> bool) -> bool {
    v.as_array().is_some_and(|a| a.iter().all(item))
}

/// `{key: string}`, or a non-empty list of them (the generation-style answers).
fn text_items(v: &Value, key: &str) -> bool {
    let item = |e: &Value| e.get(key).is_some_and(Value::is_string);
    item(v)
        || v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(item))
}

/// The answer to one input of `task`.
fn one_answer(task: &str, v: &Value) -> bool {
    match task {
        // A pooled vector, or one vector per token.
        "feature-extraction" => {
            numbers(v) || list_of(v, numbers) && !v.as_array().is_some_and(Vec::is_empty)
        }
        "text-classification" => list_of(v, label_score) || label_score(v),
        "token-classification" => list_of(v, |e| {
            (has(e, "entity_group", Value::is_string) || has(e, "entity", Value::is_string))
                && has(e, "score", is_number)
                && has(e, "word", Value::is_string)
        }),
        "fill-mask" => list_of(v, |e| {
            has(e, "sequence", Value::is_string) && has(e, "score", is_number)
        }),
        "text-generation" => text_items(v, "generated_text"),
        "summarization" => text_items(v, "summary_text"),
        "translation" => text_items(v, "translation_text"),
        "zero-shot-classification" => {
            (has(v, "labels", |l| list_of(l, Value::is_string)) && has(v, "scores", numbers))
                || list_of(v, label_score)
        }
        _ => true,
    }
}

/// A feature-extraction answer read by [`vectors::scan`] has the task's shape: what
/// [`check_response`] accepts for it, without the numbers parsed.
pub fn embeddings_fit(request: &Value, answer: &Scanned) -> bool {
    match batch_len("feature-extraction", request) {
        Some(n) => {
            answer.len == n
                && answer.items.len() == n
                && answer.items.iter().all(|(shape, _)| shape.is_embedding())
        }
        None => answer.shape.is_embedding(),
    }
}

/// Checks an upstream answer against the task's response shape; `Err` says what is wrong.
pub fn check_response(task: &str, request: &Value, answer: &Value) -> Result<(), String> {
    let ok = match task {
        "sentence-similarity" => {
            let expected = request["inputs"]["sentences"].as_array().map(Vec::len);
            match answer.as_array() {
                Some(a) if a.iter().all(is_number) => {
                    if expected.is_some_and(|n| n != a.len()) {
                        return Err(format!(
                            "expected {} scores, got {}",
                            expected.unwrap_or_default(),
                            a.len()
                        ));
                    }
                    true
                }
                _ => false,
            }
        }
        "question-answering" => {
            let item = |e: &Value| has(e, "answer", Value::is_string) && has(e, "score", is_number);
            item(answer) || list_of(answer, item)
        }
        _ => match batch_len(task, request) {
            Some(n) => match answer.as_array() {
                Some(a) if a.len() == n => a.iter().all(|e| one_answer(task, e)),
                Some(a) => {
                    return Err(format!(
                        "expected {n} answers (one per input), got {}",
                        a.len()
                    ));
                }
                None => false,
            },
            None => one_answer(task, answer),
        },
    };
    if ok {
        Ok(())
    } else {
        Err(format!("the answer is not a {task} response"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(task: &str, body: Value) -> Vec<String> {
        let mut v = Validator::default();
        check_request(&mut v, task, &body, 4);
        match v.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.details.unwrap()["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f["field"].as_str().unwrap(),
                        f["message"].as_str().unwrap()
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        assert!(errors("feature-extraction", json!({ "inputs": "hi" })).is_empty());
        assert_eq!(
            errors("feature-extraction", json!({ "inputs": ["a", "", 3] })),
            [
                "inputs[1]: must be a non-empty string",
                "inputs[2]: must be a non-empty string"
            ]
        );
        assert_eq!(
            errors(
                "feature-extraction",
                json!({ "inputs": ["a", "a", "a", "a", "a"] })
            ),
            ["inputs: at most 4 items (got 5)"]
        );
        assert_eq!(
            errors(
                "text-generation",
                json!({ "inputs": "x", "parameters": { "temperature": 0, "max_new_tokens": 0, "stop": ["a", "b", "c", "d", "e"] } })
            ),
            [
                "parameters.max_new_tokens: must be a whole number from 1 to 8192",
                "parameters.temperature: must be a number more than 0 and at most 100",
                "parameters.stop: at most 4 items (got 5)"
            ]
        );
        assert_eq!(
            errors("zero-shot-classification", json!({ "inputs": "x" })),
            ["parameters.candidate_labels: is required: a non-empty array of strings"]
        );
        assert_eq!(
            errors(
                "sentence-similarity",
                json!({ "inputs": { "sentences": [] } })
            ),
            [
                "inputs.source_sentence: must be a non-empty string",
                "inputs.sentences: must not be empty"
            ]
        );
        assert_eq!(errors("image-to-text", json!({})), ["inputs: is required"]);
        assert_eq!(
            errors("x", json!([1])),
            ["body: must be a JSON object with `inputs`"]
        );
        assert_eq!(
            errors(
                "text-classification",
                json!({ "inputs": "x", "parameters": [] })
            ),
            ["parameters: must be an object"]
        );
    }

    #[test]
    fn answers_must_have_the_tasks_shape() {
        let one = json!({ "inputs": "x" });
        let two = json!({ "inputs": ["x", "y"] });
        assert!(check_response("feature-extraction", &one, &json!([0.1, 0.2])).is_ok());
        assert!(check_response("feature-extraction", &two, &json!([[0.1], [0.2]])).is_ok());
        assert!(check_response("feature-extraction", &two, &json!([[0.1]])).is_err());
        assert!(check_response("feature-extraction", &one, &json!({ "oops": 1 })).is_err());
        assert!(check_response("feature-extraction", &one, &json!([])).is_err());
        let labels = json!([{ "label": "POSITIVE", "score": 0.9 }]);
        assert!(check_response("text-classification", &one, &labels).is_ok());
        assert!(check_response("text-classification", &one, &json!("<html>")).is_err());
        assert!(
            check_response("text-generation", &one, &json!([{ "generated_text": "y" }])).is_ok()
        );
        assert!(check_response("text-generation", &one, &json!([{ "text": "y" }])).is_err());
        let sim = json!({ "inputs": { "source_sentence": "a", "sentences": ["b", "c"] } });
        assert!(check_response("sentence-similarity", &sim, &json!([0.5, 0.1])).is_ok());
        assert!(check_response("sentence-similarity", &sim, &json!([0.5])).is_err());
        assert!(check_response("some-new-task", &one, &json!("anything")).is_ok());
    }

    /// The check on bytes accepts exactly what the check on values accepts, for every
    /// answer `scan` can read (the others go to the value check).
    #[test]
    fn embeddings_checked_on_bytes_agree_with_the_value_check() {
        let requests = [
            json!({ "inputs": "x" }),
            json!({ "inputs": ["x"] }),
            json!({ "inputs": ["x", "y"] }),
        ];
        let answers = [
            "[0.1, 0.2]",
            "[[0.1, 0.2]]",
            "[[0.1], [0.2]]",
            "[[[0.1], [0.2]], [0.3]]",
            "[[[0.1, 0.2], [0.3, 0.4]]]",
            "[[[0.1]], [[0.2]]]",
            "[]",
            "[[]]",
            "[[], [0.1]]",
            "[[0.1], 0.2]",
            "[0.1, [0.2]]",
            "[[[]]]",
            "[[[0.1]], []]",
            "[[0.1]]",
        ];
        for request in &requests {
            for answer in answers {
                let scanned = crate::services::vectors::scan(answer.as_bytes()).unwrap();
                let value: Value = serde_json::from_str(answer).unwrap();
                assert_eq!(
                    embeddings_fit(request, &scanned),
                    check_response("feature-extraction", request, &value).is_ok(),
                    "{request} answered {answer}"
                );
            }
        }
    }
}
