//! The tasks the playground has a form for, the request each form sends, the checks made
//! before sending, and where the server's field errors show.

use serde_json::{Map, Value};

use crate::components::form::sentence;

/// Form fields, as `FieldErrors` and the element ids (`playground-{field}`) know them.
pub const INPUTS: &str = "inputs";
pub const SOURCE: &str = "source";
pub const SENTENCES: &str = "sentences";
pub const PARAMETERS: &str = "parameters";

/// A task the playground can call, in the Hugging Face task format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayTask {
    FeatureExtraction,
    SentenceSimilarity,
    TextClassification,
    TokenClassification,
    TextGeneration,
    /// Any other task: the inputs are written as JSON.
    Other(String),
}

impl PlayTask {
    pub fn parse(task: &str) -> Self {
        match task {
            "feature-extraction" => Self::FeatureExtraction,
            "sentence-similarity" => Self::SentenceSimilarity,
            "text-classification" | "sentiment-analysis" => Self::TextClassification,
            "token-classification" | "ner" => Self::TokenClassification,
            "text-generation" => Self::TextGeneration,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The task's name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::FeatureExtraction => "feature-extraction",
            Self::SentenceSimilarity => "sentence-similarity",
            Self::TextClassification => "text-classification",
            Self::TokenClassification => "token-classification",
            Self::TextGeneration => "text-generation",
            Self::Other(task) => task,
        }
    }

    /// A name for people.
    pub fn label(&self) -> String {
        match self {
            Self::FeatureExtraction => "Embeddings".to_owned(),
            Self::SentenceSimilarity => "Sentence similarity".to_owned(),
            Self::TextClassification => "Text classification".to_owned(),
            Self::TokenClassification => "Token classification".to_owned(),
            Self::TextGeneration => "Text generation".to_owned(),
            Self::Other(task) if task.is_empty() => "Unknown task".to_owned(),
            Self::Other(task) => crate::format::capitalize(&task.replace(['-', '_'], " ")),
        }
    }

    /// The tasks a deployment made for `task` answers. Sentence-transformers models answer
    /// both embedding tasks (the server tells them apart by the inputs' shape, like the
    /// Hugging Face Inference API); every other deployment answers its own task.
    pub fn choices(task: &str) -> Vec<Self> {
        match Self::parse(task) {
            Self::FeatureExtraction | Self::SentenceSimilarity => {
                vec![Self::FeatureExtraction, Self::SentenceSimilarity]
            }
            other => vec![other],
        }
    }

    /// The parameters editor's text before anything is typed.
    pub fn default_parameters(&self) -> &'static str {
        match self {
            Self::TextGeneration => "{\n  \"max_new_tokens\": 64,\n  \"temperature\": 0.7\n}",
            _ => "{}",
        }
    }

    /// The parameters this task knows, for the hint under the editor.
    pub fn parameter_hint(&self) -> &'static str {
        match self {
            Self::FeatureExtraction => {
                "normalize (true/false), truncate (true/false: cut inputs longer than the model takes, or refuse them)"
            }
            Self::SentenceSimilarity => "truncate (true/false)",
            Self::TextClassification => "top_k, function_to_apply",
            Self::TokenClassification => "aggregation_strategy, ignore_labels",
            Self::TextGeneration => "max_new_tokens, temperature, top_p, do_sample, stop",
            Self::Other(_) => "Any parameters the task takes, as a JSON object.",
        }
    }
}

/// What the form holds for one task. Every task uses some of the fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormValues {
    /// The text to embed, classify or continue.
    pub text: String,
    /// Sentence similarity: the sentence the others are compared with.
    pub source: String,
    /// Sentence similarity: the sentences to score, one per line.
    pub sentences: String,
    /// Other tasks: the `inputs` as JSON.
    pub json_inputs: String,
    /// The `parameters` object as JSON; empty or `{}` sends none.
    pub parameters: String,
}

impl FormValues {
    /// An example for the task, so Run works straight away.
    pub fn example(task: &PlayTask) -> Self {
        let text = match task {
            PlayTask::FeatureExtraction => "hfb deploys models with one click.",
            PlayTask::TextClassification => "I love this phone: the battery lasts for days!",
            PlayTask::TokenClassification => "My name is Clara and I live in Berkeley, California.",
            PlayTask::TextGeneration => "Write a haiku about autumn leaves.",
            _ => "",
        };
        Self {
            text: text.to_owned(),
            source: "A man is eating food.".to_owned(),
            sentences: "A man is eating a piece of bread.\nA man is riding a horse.\nThe girl is carrying a baby."
                .to_owned(),
            json_inputs: "\"Paris is the [MASK] of France.\"".to_owned(),
            parameters: task.default_parameters().to_owned(),
        }
    }
}

/// The sentences to score: one per non-empty line, trimmed.
pub fn sentence_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A request body, and what stops it from being sent (form field, message).
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// `{"inputs", "parameters"?}`: exactly what Run sends (and the snippets show). When
    /// there are problems it is the closest request the form describes.
    pub body: Value,
    pub problems: Vec<(&'static str, String)>,
}

/// The request the form describes for `task`, with the checks made before sending it.
pub fn build_request(task: &PlayTask, values: &FormValues) -> Built {
    let mut problems = Vec::new();
    let mut required_text = |field: &'static str, text: &str, what: &str| {
        if text.trim().is_empty() {
            problems.push((field, format!("Enter {what}.")));
        }
        Value::String(text.to_owned())
    };
    let inputs = match task {
        PlayTask::FeatureExtraction => required_text(INPUTS, &values.text, "a text to embed"),
        PlayTask::TextClassification | PlayTask::TokenClassification => {
            required_text(INPUTS, &values.text, "a text")
        }
        PlayTask::TextGeneration => required_text(INPUTS, &values.text, "a prompt"),
        PlayTask::SentenceSimilarity => {
            let source = required_text(SOURCE, &values.source, "the sentence to compare with");
            let sentences = sentence_lines(&values.sentences);
            if sentences.is_empty() {
                problems.push((
                    SENTENCES,
                    "Enter at least one sentence to score.".to_owned(),
                ));
            }
            let mut object = Map::new();
            object.insert("source_sentence".to_owned(), source);
            object.insert(
                "sentences".to_owned(),
                Value::Array(sentences.into_iter().map(Value::String).collect()),
            );
            Value::Object(object)
        }
        PlayTask::Other(_) => {
            let raw = values.json_inputs.trim();
            if raw.is_empty() {
                problems.push((INPUTS, "Enter the inputs as JSON.".to_owned()));
                Value::String(String::new())
            } else {
                match serde_json::from_str::<Value>(raw) {
                    Ok(Value::Null) => {
                        problems.push((INPUTS, "The inputs must not be null.".to_owned()));
                        Value::Null
                    }
                    Ok(value) => value,
                    Err(e) => {
                        problems.push((INPUTS, format!("Not valid JSON: {e}.")));
                        Value::String(raw.to_owned())
                    }
                }
            }
        }
    };
    let mut body = Map::new();
    body.insert("inputs".to_owned(), inputs);
    match parse_parameters(&values.parameters) {
        Ok(Some(parameters)) => {
            body.insert("parameters".to_owned(), Value::Object(parameters));
        }
        Ok(None) => {}
        Err(message) => problems.push((PARAMETERS, message)),
    }
    Built {
        body: Value::Object(body),
        problems,
    }
}

/// The parameters editor's text: `None` when empty or `{}`, an error message when it is
/// not a JSON object.
pub fn parse_parameters(text: &str) -> Result<Option<Map<String, Value>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) if map.is_empty() => Ok(None),
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err("Must be a JSON object, like {\"truncate\": true}.".to_owned()),
        Err(e) => Err(format!("Not valid JSON: {e}.")),
    }
}

/// A server field error (`details.fields[]`) as the form shows it: the form field it
/// belongs to, and the message (naming what the field alone does not say). `None` when
/// no field of this form fits.
pub fn server_field_error(
    task: &PlayTask,
    field: &str,
    message: &str,
) -> Option<(&'static str, String)> {
    let message = sentence(message);
    if field == "parameters" {
        return Some((PARAMETERS, message));
    }
    if let Some(name) = field.strip_prefix("parameters.") {
        return Some((PARAMETERS, format!("{name}: {message}")));
    }
    if *task == PlayTask::SentenceSimilarity {
        return match field {
            "inputs" | "inputs.source_sentence" => Some((SOURCE, message)),
            "inputs.sentences" => Some((SENTENCES, message)),
            _ => {
                let index = field
                    .strip_prefix("inputs.sentences[")?
                    .strip_suffix(']')?
                    .parse::<usize>()
                    .ok()?;
                Some((SENTENCES, format!("Sentence {}: {message}", index + 1)))
            }
        };
    }
    let rest = field.strip_prefix("inputs")?;
    if rest.is_empty() {
        return Some((INPUTS, message));
    }
    match task {
        // A JSON editor: the path inside the inputs helps find the place.
        PlayTask::Other(_) => Some((INPUTS, format!("{field}: {message}"))),
        // One text sent as a string: `inputs[0]` is that text.
        _ if rest.starts_with('[') || rest.starts_with('.') => Some((INPUTS, message)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedding_tasks_offer_both_forms_and_others_their_own() {
        assert_eq!(
            PlayTask::choices("sentence-similarity"),
            [PlayTask::FeatureExtraction, PlayTask::SentenceSimilarity]
        );
        assert_eq!(
            PlayTask::choices("feature-extraction"),
            [PlayTask::FeatureExtraction, PlayTask::SentenceSimilarity]
        );
        assert_eq!(
            PlayTask::choices("text-generation"),
            [PlayTask::TextGeneration]
        );
        let fill = PlayTask::parse("fill-mask");
        assert_eq!(fill, PlayTask::Other("fill-mask".to_owned()));
        assert_eq!(fill.as_str(), "fill-mask");
        assert_eq!(fill.label(), "Fill mask");
        for task in [
            "feature-extraction",
            "sentence-similarity",
            "text-classification",
            "token-classification",
            "text-generation",
        ] {
            assert_eq!(PlayTask::parse(task).as_str(), task);
        }
    }

    #[test]
    fn requests_take_the_hugging_face_task_format() {
        let mut values = FormValues::example(&PlayTask::FeatureExtraction);
        values.text = "The cat sits on the mat.".to_owned();
        let built = build_request(&PlayTask::FeatureExtraction, &values);
        assert!(built.problems.is_empty());
        assert_eq!(built.body, json!({ "inputs": "The cat sits on the mat." }));

        values.parameters = "{\"normalize\": false, \"truncate\": true}".to_owned();
        let built = build_request(&PlayTask::FeatureExtraction, &values);
        assert_eq!(
            built.body,
            json!({ "inputs": "The cat sits on the mat.", "parameters": { "normalize": false, "truncate": true } })
        );

        let mut values = FormValues::example(&PlayTask::SentenceSimilarity);
        values.sentences = "  first \n\n second\n".to_owned();
        let built = build_request(&PlayTask::SentenceSimilarity, &values);
        assert!(built.problems.is_empty());
        assert_eq!(
            built.body,
            json!({ "inputs": { "source_sentence": "A man is eating food.", "sentences": ["first", "second"] } })
        );

        let values = FormValues::example(&PlayTask::TextGeneration);
        let built = build_request(&PlayTask::TextGeneration, &values);
        assert_eq!(
            built.body["parameters"],
            json!({ "max_new_tokens": 64, "temperature": 0.7 })
        );

        let mut values = FormValues::example(&PlayTask::Other("x".into()));
        values.json_inputs = "{\"question\": \"Who?\", \"context\": \"Ada.\"}".to_owned();
        let built = build_request(&PlayTask::Other("question-answering".into()), &values);
        assert!(built.problems.is_empty());
        assert_eq!(
            built.body,
            json!({ "inputs": { "question": "Who?", "context": "Ada." } })
        );
    }

    #[test]
    fn empty_inputs_and_bad_json_are_refused_before_sending() {
        let values = FormValues {
            text: "   ".to_owned(),
            parameters: "{\"truncate\": ".to_owned(),
            ..FormValues::default()
        };
        let built = build_request(&PlayTask::FeatureExtraction, &values);
        let fields: Vec<&str> = built.problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, [INPUTS, PARAMETERS]);
        assert!(built.problems[1].1.starts_with("Not valid JSON"));

        let values = FormValues {
            sentences: "\n  \n".to_owned(),
            ..FormValues::default()
        };
        let built = build_request(&PlayTask::SentenceSimilarity, &values);
        let fields: Vec<&str> = built.problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, [SOURCE, SENTENCES]);

        assert!(parse_parameters("[1]").is_err());
        assert_eq!(parse_parameters(" {} "), Ok(None));
        assert_eq!(parse_parameters(""), Ok(None));

        let values = FormValues {
            json_inputs: "null".to_owned(),
            ..FormValues::default()
        };
        assert_eq!(
            build_request(&PlayTask::Other("x".into()), &values).problems[0].0,
            INPUTS
        );
    }

    #[test]
    fn server_field_errors_land_on_the_field_that_caused_them() {
        let fe = PlayTask::FeatureExtraction;
        assert_eq!(
            server_field_error(&fe, "parameters.truncate", "must be true or false"),
            Some((PARAMETERS, "truncate: Must be true or false.".to_owned()))
        );
        assert_eq!(
            server_field_error(&fe, "inputs[0]", "longer than 256 tokens"),
            Some((INPUTS, "Longer than 256 tokens.".to_owned()))
        );
        assert_eq!(server_field_error(&fe, "body", "x"), None);
        let ss = PlayTask::SentenceSimilarity;
        assert_eq!(
            server_field_error(&ss, "inputs.sentences[1]", "must be a non-empty string"),
            Some((
                SENTENCES,
                "Sentence 2: Must be a non-empty string.".to_owned()
            ))
        );
        assert_eq!(
            server_field_error(&ss, "inputs.source_sentence", "must be a non-empty string")
                .map(|(f, _)| f),
            Some(SOURCE)
        );
        let other = PlayTask::Other("x".into());
        assert_eq!(
            server_field_error(&other, "inputs.question", "is required"),
            Some((INPUTS, "inputs.question: Is required.".to_owned()))
        );
    }
}
