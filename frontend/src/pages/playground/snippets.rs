//! Ready-to-copy code for the call the playground makes: curl (the exact request Run
//! sends), Python with `huggingface_hub`'s `InferenceClient`, and Python with the `openai`
//! client, all against the page's own origin. The key is a placeholder (`$HFB_API_KEY`):
//! the session's token never goes into a snippet.

use hfb_shared::deployments::TargetKind;
use serde_json::Value;

use super::task::PlayTask;

/// The environment variable the snippets read the API key from.
pub const KEY_VARIABLE: &str = "HFB_API_KEY";

/// What every snippet is made from.
#[derive(Debug, Clone, Copy)]
pub struct SnippetContext<'a> {
    /// The page's origin (`https://hfb.example.com`): where the API is.
    pub origin: &'a str,
    pub deployment_id: &'a str,
    pub deployment_name: &'a str,
    pub model_id: &'a str,
    pub target: TargetKind,
    pub task: &'a PlayTask,
    /// The request body Run sends.
    pub body: &'a Value,
}

/// The snippet languages, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Curl,
    PythonHub,
    PythonOpenAi,
}

impl Language {
    pub const ALL: [Self; 3] = [Self::Curl, Self::PythonHub, Self::PythonOpenAi];

    pub fn key(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::PythonHub => "python",
            Self::PythonOpenAi => "openai",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::PythonHub => "Python (huggingface_hub)",
            Self::PythonOpenAi => "Python (openai)",
        }
    }

    /// The snippet, or why this client has no call for the task.
    pub fn snippet(self, ctx: &SnippetContext<'_>) -> Result<String, String> {
        match self {
            Self::Curl => Ok(curl(ctx)),
            Self::PythonHub => Ok(python_hub(ctx)),
            Self::PythonOpenAi => python_openai(ctx),
        }
    }
}

/// Percent-encodes one URL path segment (everything but RFC 3986's unreserved characters).
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `owner/name` as URL path segments.
fn model_path(model_id: &str) -> String {
    model_id
        .split('/')
        .map(path_segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// A shell word in single quotes: a `'` inside becomes `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The `/infer` URL of the deployment.
pub fn infer_url(ctx: &SnippetContext<'_>) -> String {
    format!(
        "{}/api/v1/deployments/{}/infer",
        ctx.origin.trim_end_matches('/'),
        path_segment(ctx.deployment_id)
    )
}

/// The request Run sends, as curl. The body is the same compact JSON the page sends.
pub fn curl(ctx: &SnippetContext<'_>) -> String {
    format!(
        "curl -sS -X POST {url} \\\n  -H \"Authorization: Bearer ${KEY_VARIABLE}\" \\\n  -H 'Content-Type: application/json' \\\n  -d {body}",
        url = shell_quote(&infer_url(ctx)),
        body = shell_quote(&ctx.body.to_string()),
    )
}

/// A JSON value as a Python literal (JSON's string escapes are valid in Python), spread
/// over lines (indented by `indent` levels) when it is long.
fn py_value(value: &Value, indent: usize) -> String {
    let flat = py_flat(value);
    let long = flat.chars().count() + indent * 4 > 72;
    match value {
        Value::Array(items) if long && !items.is_empty() => {
            let inner = "    ".repeat(indent + 1);
            let lines: Vec<String> = items
                .iter()
                .map(|v| format!("{inner}{},", py_value(v, indent + 1)))
                .collect();
            format!("[\n{}\n{}]", lines.join("\n"), "    ".repeat(indent))
        }
        Value::Object(map) if long && !map.is_empty() => {
            let inner = "    ".repeat(indent + 1);
            let lines: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{inner}{}: {},",
                        Value::String(k.clone()),
                        py_value(v, indent + 1)
                    )
                })
                .collect();
            format!("{{\n{}\n{}}}", lines.join("\n"), "    ".repeat(indent))
        }
        _ => flat,
    }
}

fn py_flat(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => n.to_string(),
        Value::String(_) => value.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_flat).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_flat(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Whether `name` can be a Python keyword argument.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "False"
                | "None"
                | "True"
                | "and"
                | "as"
                | "class"
                | "def"
                | "del"
                | "for"
                | "from"
                | "global"
                | "if"
                | "import"
                | "in"
                | "is"
                | "lambda"
                | "not"
                | "or"
                | "pass"
                | "return"
                | "while"
                | "with"
                | "yield"
        )
}

/// `target = receiver.method(args)`, on one line when short, one argument a line otherwise.
fn py_call(target: &str, call: &str, args: &[String]) -> String {
    let prefix = if target.is_empty() {
        String::new()
    } else {
        format!("{target} = ")
    };
    let one_line = format!("{prefix}{call}({})", args.join(", "));
    if one_line.chars().count() <= 88 && !one_line.contains('\n') {
        return one_line;
    }
    // Arguments are formatted for this indent already (`py_value(_, 1)`).
    let lines: Vec<String> = args.iter().map(|a| format!("    {a},")).collect();
    format!("{prefix}{call}(\n{}\n)", lines.join("\n"))
}

/// The request's parameters as keyword arguments (`name=value`), named like the task's
/// parameters, which is how `InferenceClient`'s task methods take them.
fn parameter_kwargs(body: &Value, rename: &[(&str, &str)]) -> Vec<String> {
    body.get("parameters")
        .and_then(Value::as_object)
        .map(|parameters| {
            parameters
                .iter()
                .map(|(k, v)| {
                    let name = rename
                        .iter()
                        .find(|(from, _)| from == k)
                        .map_or(k.as_str(), |(_, to)| *to);
                    (name, v)
                })
                .filter(|(k, _)| is_identifier(k))
                .map(|(k, v)| format!("{k}={}", py_value(v, 1)))
                .collect()
        })
        .unwrap_or_default()
}

fn inputs_of(body: &Value) -> &Value {
    body.get("inputs").unwrap_or(&Value::Null)
}

fn key_comment(origin: &str) -> String {
    format!(
        "# An hfb API key with the inference scope ({}/account/api-keys), exported as {KEY_VARIABLE}.",
        origin.trim_end_matches('/')
    )
}

/// `InferenceClient(model=<the Inference API URL of the model>)` and the task's method.
pub fn python_hub(ctx: &SnippetContext<'_>) -> String {
    let origin = ctx.origin.trim_end_matches('/');
    let model_url = format!("{origin}/models/{}", model_path(ctx.model_id));
    let inputs = inputs_of(ctx.body);
    let head = format!(
        "import os\n\nfrom huggingface_hub import InferenceClient\n\n{}\nclient = InferenceClient(\n    model={},\n    token=os.environ[\"{KEY_VARIABLE}\"],\n)\n\n",
        key_comment(origin),
        Value::String(model_url.clone()),
    );
    let with_kwargs = |first: Vec<String>, rename: &[(&str, &str)]| -> Vec<String> {
        let mut args = first;
        args.extend(parameter_kwargs(ctx.body, rename));
        args
    };
    let call = match ctx.task {
        PlayTask::FeatureExtraction if inputs.is_string() => {
            let call = py_call(
                "embedding",
                "client.feature_extraction",
                &with_kwargs(vec![py_value(inputs, 1)], &[]),
            );
            format!("{call}\nprint(embedding.shape)  # a numpy array")
        }
        PlayTask::SentenceSimilarity => {
            let source = inputs.get("source_sentence").unwrap_or(&Value::Null);
            let sentences = inputs.get("sentences").unwrap_or(&Value::Null);
            let call = py_call(
                "scores",
                "client.sentence_similarity",
                &[
                    py_value(source, 1),
                    format!("other_sentences={}", py_value(sentences, 1)),
                ],
            );
            format!("{call}\nprint(scores)  # one score per sentence")
        }
        PlayTask::TextClassification if inputs.is_string() => {
            let call = py_call(
                "labels",
                "client.text_classification",
                &with_kwargs(vec![py_value(inputs, 1)], &[]),
            );
            format!(
                "{call}\nfor item in labels:\n    print(f\"{{item.label}}: {{item.score:.4f}}\")"
            )
        }
        PlayTask::TokenClassification if inputs.is_string() => {
            let call = py_call(
                "entities",
                "client.token_classification",
                &with_kwargs(vec![py_value(inputs, 1)], &[]),
            );
            format!(
                "{call}\nfor entity in entities:\n    print(entity.entity_group, entity.word, f\"{{entity.score:.4f}}\")"
            )
        }
        PlayTask::TextGeneration if inputs.is_string() => {
            let call = py_call(
                "text",
                "client.text_generation",
                &with_kwargs(vec![py_value(inputs, 1)], &[]),
            );
            format!("{call}\nprint(text)")
        }
        PlayTask::Other(task) if inputs.is_string() && simple_hub_method(task).is_some() => {
            let method = simple_hub_method(task).unwrap_or_default();
            let call = py_call(
                "result",
                &format!("client.{method}"),
                &with_kwargs(vec![py_value(inputs, 1)], &[]),
            );
            format!("{call}\nprint(result)")
        }
        _ => return python_http(ctx, &model_url),
    };
    format!("{head}{call}\n")
}

/// `InferenceClient` methods that take the inputs as one text and parameters as keywords.
fn simple_hub_method(task: &str) -> Option<&'static str> {
    Some(match task {
        "fill-mask" => "fill_mask",
        "summarization" => "summarization",
        "translation" => "translation",
        "zero-shot-classification" => "zero_shot_classification",
        _ => return None,
    })
}

/// The request over plain HTTP, for tasks `InferenceClient` has no method for.
fn python_http(ctx: &SnippetContext<'_>, model_url: &str) -> String {
    format!(
        "import os\n\nimport requests\n\n{}\n# InferenceClient has no method for {task} with these inputs: the same call over HTTP.\nresponse = requests.post(\n    {url},\n    headers={{\"Authorization\": f\"Bearer {{os.environ['{KEY_VARIABLE}']}}\"}},\n    json={body},\n    timeout=60,\n)\nresponse.raise_for_status()\nprint(response.json())\n",
        key_comment(ctx.origin),
        task = ctx.task.as_str(),
        url = Value::String(model_url.to_owned()),
        body = py_value(ctx.body, 1),
    )
}

/// The `openai` client pointed at `{origin}/v1`, naming the deployment as the model:
/// embeddings for the embedding tasks, a streamed chat completion for text generation
/// (served for deployments on Inference Endpoints, where Text Generation Inference runs).
pub fn python_openai(ctx: &SnippetContext<'_>) -> Result<String, String> {
    let origin = ctx.origin.trim_end_matches('/');
    let model = Value::String(ctx.deployment_name.to_owned());
    let head = format!(
        "import os\n\nfrom openai import OpenAI\n\n{}\nclient = OpenAI(base_url={}, api_key=os.environ[\"{KEY_VARIABLE}\"])\n\n",
        key_comment(origin),
        Value::String(format!("{origin}/v1")),
    );
    let inputs = inputs_of(ctx.body);
    let body = match ctx.task {
        PlayTask::FeatureExtraction => {
            let input = match inputs {
                Value::String(_) => Value::Array(vec![inputs.clone()]),
                other => other.clone(),
            };
            let call = py_call(
                "result",
                "client.embeddings.create",
                &[
                    format!("model={model}"),
                    format!("input={}", py_value(&input, 1)),
                    "encoding_format=\"float\"".to_owned(),
                ],
            );
            format!(
                "{call}\nembedding = result.data[0].embedding\nprint(len(embedding), result.usage.prompt_tokens)"
            )
        }
        PlayTask::SentenceSimilarity => {
            let source = inputs.get("source_sentence").unwrap_or(&Value::Null);
            let sentences = inputs.get("sentences").unwrap_or(&Value::Null);
            let call = py_call(
                "result",
                "client.embeddings.create",
                &[
                    format!("model={model}"),
                    "input=[source, *sentences]".to_owned(),
                    "encoding_format=\"float\"".to_owned(),
                ],
            );
            format!(
                "# The OpenAI API has no similarity call: embed the sentences and compare them.\nsource = {}\nsentences = {}\n{call}\nvectors = [item.embedding for item in result.data]\n\n\ndef cosine(a, b):\n    dot = sum(x * y for x, y in zip(a, b))\n    return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)\n\n\nfor sentence, vector in zip(sentences, vectors[1:]):\n    print(f\"{{cosine(vectors[0], vector):.4f}}  {{sentence}}\")",
                py_value(source, 0),
                py_value(sentences, 0),
            )
        }
        PlayTask::TextGeneration if ctx.target != TargetKind::HfEndpoint => {
            return Err(format!(
                "The OpenAI chat route serves text-generation deployments on Inference Endpoints; this one runs on {}: use the curl or huggingface_hub snippet.",
                ctx.target.label()
            ));
        }
        PlayTask::TextGeneration => {
            let mut args = vec![
                format!("model={model}"),
                format!(
                    "messages=[{{\"role\": \"user\", \"content\": {}}}]",
                    py_flat(inputs)
                ),
            ];
            args.extend(parameter_kwargs(
                ctx.body,
                &[("max_new_tokens", "max_tokens")],
            ));
            args.push("stream=True".to_owned());
            let call = py_call("stream", "client.chat.completions.create", &args);
            format!(
                "{call}\nfor chunk in stream:\n    print(chunk.choices[0].delta.content or \"\", end=\"\", flush=True)\nprint()"
            )
        }
        other => {
            return Err(format!(
                "The OpenAI API has no call for {}: use the curl or huggingface_hub snippet.",
                other.as_str()
            ));
        }
    };
    Ok(format!("{head}{body}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx<'a>(task: &'a PlayTask, body: &'a Value) -> SnippetContext<'a> {
        SnippetContext {
            origin: "https://hfb.example.com/",
            deployment_id: "0193a1b2-c3d4",
            deployment_name: "all-minilm-l6-v2",
            model_id: "sentence-transformers/all-MiniLM-L6-v2",
            target: TargetKind::HfEndpoint,
            task,
            body,
        }
    }

    #[test]
    fn curl_is_the_exact_request_with_a_key_placeholder() {
        let task = PlayTask::FeatureExtraction;
        let body = json!({ "inputs": "It's here", "parameters": { "normalize": true } });
        let snippet = curl(&ctx(&task, &body));
        assert!(snippet.starts_with(
            "curl -sS -X POST 'https://hfb.example.com/api/v1/deployments/0193a1b2-c3d4/infer' \\\n"
        ));
        assert!(snippet.contains("-H \"Authorization: Bearer $HFB_API_KEY\""));
        // The quote in the text closes and reopens the shell quoting.
        assert!(
            snippet.ends_with(r#"-d '{"inputs":"It'\''s here","parameters":{"normalize":true}}'"#)
        );
        // The body between the quotes, unescaped, is the JSON sent.
        let quoted = snippet.rsplit("-d ").next().unwrap_or_default();
        let unquoted = quoted.trim_matches('\'').replace(r"'\''", "'");
        assert_eq!(serde_json::from_str::<Value>(&unquoted).ok(), Some(body));
    }

    #[test]
    fn ids_and_model_ids_are_encoded_in_urls() {
        assert_eq!(path_segment("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(path_segment("Ab-9._~"), "Ab-9._~");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(model_path("owner/na me"), "owner/na%20me");
    }

    #[test]
    fn python_literals() {
        assert_eq!(
            py_value(&json!({ "a": [true, false, null, 1.5, "x\"y"] }), 0),
            r#"{"a": [True, False, None, 1.5, "x\"y"]}"#
        );
        let long = json!([
            "a fairly long sentence, number one",
            "another fairly long sentence, number two"
        ]);
        assert_eq!(
            py_value(&long, 0),
            "[\n    \"a fairly long sentence, number one\",\n    \"another fairly long sentence, number two\",\n]"
        );
        assert_eq!(py_value(&json!(["short"]), 0), "[\"short\"]");
        assert!(is_identifier("max_new_tokens"));
        assert!(!is_identifier("max-new-tokens"));
        assert!(!is_identifier("lambda"));
    }

    #[test]
    fn huggingface_hub_calls_the_task_method_on_the_model_url() {
        let task = PlayTask::FeatureExtraction;
        let body = json!({ "inputs": "The cat sits.", "parameters": { "normalize": false, "truncate": true } });
        let snippet = python_hub(&ctx(&task, &body));
        assert!(snippet.contains(
            "model=\"https://hfb.example.com/models/sentence-transformers/all-MiniLM-L6-v2\""
        ));
        assert!(snippet.contains("token=os.environ[\"HFB_API_KEY\"]"));
        assert!(snippet.contains(
            "embedding = client.feature_extraction(\"The cat sits.\", normalize=False, truncate=True)"
        ));

        let task = PlayTask::SentenceSimilarity;
        let body = json!({ "inputs": { "source_sentence": "A", "sentences": ["B", "C"] } });
        let snippet = python_hub(&ctx(&task, &body));
        assert!(snippet.contains(
            "scores = client.sentence_similarity(\"A\", other_sentences=[\"B\", \"C\"])"
        ));

        let task = PlayTask::TextGeneration;
        let body = json!({ "inputs": "Hi", "parameters": { "max_new_tokens": 8 } });
        assert!(
            python_hub(&ctx(&task, &body))
                .contains("text = client.text_generation(\"Hi\", max_new_tokens=8)")
        );

        // No method for the task: plain HTTP with the same body.
        let task = PlayTask::Other("table-question-answering".into());
        let body = json!({ "inputs": { "query": "q", "table": {} } });
        let snippet = python_hub(&ctx(&task, &body));
        assert!(snippet.contains("requests.post("));
        assert!(snippet.contains("json={\"inputs\": {\"query\": \"q\", \"table\": {}}}"));
    }

    #[test]
    fn openai_embeds_or_chats_and_says_when_it_cannot() {
        let task = PlayTask::FeatureExtraction;
        let body = json!({ "inputs": "hello" });
        let snippet = python_openai(&ctx(&task, &body)).unwrap_or_default();
        assert!(snippet.contains("base_url=\"https://hfb.example.com/v1\""));
        // Too long for one line: one argument a line.
        assert!(snippet.contains(
            "result = client.embeddings.create(\n    model=\"all-minilm-l6-v2\",\n    input=[\"hello\"],\n    encoding_format=\"float\",\n)\n"
        ));

        let task = PlayTask::SentenceSimilarity;
        let body = json!({ "inputs": { "source_sentence": "A", "sentences": ["B"] } });
        let snippet = python_openai(&ctx(&task, &body)).unwrap_or_default();
        assert!(snippet.contains("source = \"A\"\nsentences = [\"B\"]\n"));
        assert!(snippet.contains("input=[source, *sentences]"));

        let task = PlayTask::TextGeneration;
        let body =
            json!({ "inputs": "Hi", "parameters": { "max_new_tokens": 8, "temperature": 0.5 } });
        let snippet = python_openai(&ctx(&task, &body)).unwrap_or_default();
        assert!(snippet.contains("messages=[{\"role\": \"user\", \"content\": \"Hi\"}]"));
        assert!(snippet.contains("max_tokens=8"));
        assert!(snippet.contains("temperature=0.5"));
        assert!(snippet.contains("stream=True"));

        let on_space = SnippetContext {
            target: TargetKind::HfSpace,
            ..ctx(&task, &body)
        };
        assert!(python_openai(&on_space).is_err_and(|why| why.contains("Inference Endpoints")));

        let task = PlayTask::TokenClassification;
        let body = json!({ "inputs": "x" });
        assert!(python_openai(&ctx(&task, &body)).is_err());
    }
}
