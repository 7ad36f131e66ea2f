//! OpenAI chat completions (`POST /v1/chat/completions`) on a text-generation deployment
//! whose server speaks the OpenAI chat route, as Text Generation Inference does on an
//! Inference Endpoint.
//!
//! The request is checked field by field before any upstream call (422 listing every
//! problem), then sent to `{endpoint_url}/v1/chat/completions` with the target's
//! credentials and the deployment's model id. A plain answer is checked for the
//! `chat.completion` shape (else 502). With `"stream": true` the upstream's server-sent
//! events are relayed as they arrive, line by line, with only `model` rewritten; a stream
//! that breaks after the 200 went out ends with an OpenAI-style `data: {"error": ...}` event.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use hfb_shared::ErrorCode;
use hfb_shared::deployments::TargetKind;
use serde_json::{Map, Value, json};

use crate::auth::Principal;
use crate::error::{ApiError, UpstreamTrace};
use crate::services::inference;
use crate::services::tasks::MAX_NEW_TOKENS;
use crate::services::upstream::{self, Answer};
use crate::services::validation::Validator;
use crate::state::AppState;

/// Most messages in one conversation.
pub const MAX_MESSAGES: usize = 1000;
/// Roles a message may have.
pub const ROLES: [&str; 5] = ["system", "user", "assistant", "tool", "developer"];
/// Most stop sequences.
const MAX_STOP: usize = 4;
/// An event-stream line longer than this is relayed unchanged instead of being held.
const MAX_LINE_BYTES: usize = 1 << 20;

/// The relayed event stream: chunks of complete SSE lines, in the upstream's order.
pub type EventStream = Pin<Box<dyn Stream<Item = Vec<u8>> + Send + 'static>>;

/// What a chat call answers.
pub enum ChatAnswer {
    /// A `chat.completion` object.
    Complete { body: Value, trace: UpstreamTrace },
    /// Server-sent `chat.completion.chunk` events ending with `data: [DONE]`.
    Stream {
        events: EventStream,
        trace: UpstreamTrace,
    },
}

/// A present, non-null field.
fn given<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name).filter(|v| !v.is_null())
}

fn whole_number(v: &mut Validator, body: &Map<String, Value>, name: &str, min: u64, max: u64) {
    match given(body, name) {
        None => {}
        Some(Value::Number(n)) if n.as_u64().is_some_and(|n| (min..=max).contains(&n)) => {}
        Some(_) => v.error(name, format!("must be a whole number from {min} to {max}")),
    }
}

fn check_part(v: &mut Validator, at: &str, part: &Value) {
    match part.get("type").and_then(Value::as_str) {
        Some("text") if part.get("text").is_some_and(Value::is_string) => {}
        Some("text") => v.error(format!("{at}.text"), "must be a string"),
        Some("image_url") if part["image_url"].get("url").is_some_and(Value::is_string) => {}
        Some("image_url") => v.error(format!("{at}.image_url.url"), "must be a string"),
        _ => v.error(
            format!("{at}.type"),
            "must be text (a content part is {\"type\": \"text\", \"text\": ...}) or image_url",
        ),
    }
}

fn check_message(v: &mut Validator, index: usize, message: &Value) {
    let at = format!("messages[{index}]");
    let Some(m) = message.as_object() else {
        v.error(at, "must be an object with role and content");
        return;
    };
    let role = m.get("role").and_then(Value::as_str);
    if !role.is_some_and(|r| ROLES.contains(&r)) {
        v.error(
            format!("{at}.role"),
            format!("must be one of {}", ROLES.join(", ")),
        );
    }
    match given(m, "content") {
        Some(Value::String(_)) => {}
        Some(Value::Array(parts)) if parts.is_empty() => {
            v.error(format!("{at}.content"), "must not be an empty array");
        }
        Some(Value::Array(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                check_part(v, &format!("{at}.content[{j}]"), part);
            }
        }
        // An assistant turn that only called tools has no content.
        None if role == Some("assistant") && m.get("tool_calls").is_some_and(Value::is_array) => {}
        _ => v.error(
            format!("{at}.content"),
            "must be a string or an array of content parts ({\"type\": \"text\", \"text\": ...})",
        ),
    }
}

/// Checks a chat request; every problem is reported at once (422 with `details.fields`).
/// Fields not checked here are passed on to the deployment unchanged.
pub fn check_request(body: &Value) -> Result<(), ApiError> {
    let mut v = Validator::default();
    let Some(body) = body.as_object() else {
        v.error("body", "must be a JSON object with model and messages");
        return v.finish();
    };
    match body.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => {}
        _ => v.error(
            "model",
            "is required: a string naming a deployment or a deployed model",
        ),
    }
    match given(body, "messages") {
        Some(Value::Array(items)) if items.is_empty() => v.error("messages", "must not be empty"),
        Some(Value::Array(items)) if items.len() > MAX_MESSAGES => v.error(
            "messages",
            format!("at most {MAX_MESSAGES} messages (got {})", items.len()),
        ),
        Some(Value::Array(items)) => {
            for (i, message) in items.iter().enumerate() {
                check_message(&mut v, i, message);
            }
        }
        _ => v.error(
            "messages",
            "is required: a non-empty array of {role, content} objects",
        ),
    }
    whole_number(&mut v, body, "max_tokens", 1, MAX_NEW_TOKENS);
    whole_number(&mut v, body, "max_completion_tokens", 1, MAX_NEW_TOKENS);
    match given(body, "temperature") {
        None => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t)) => {}
        Some(_) => v.error("temperature", "must be a number from 0 to 2"),
    }
    match given(body, "top_p") {
        None => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|p| p > 0.0 && p <= 1.0) => {}
        Some(_) => v.error("top_p", "must be a number more than 0 and at most 1"),
    }
    match given(body, "n") {
        None => {}
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(_) => v.error("n", "only 1 is supported: each call returns one choice"),
    }
    match given(body, "stop") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(stops))
            if stops.len() <= MAX_STOP && stops.iter().all(Value::is_string) => {}
        Some(_) => v.error(
            "stop",
            format!("must be a string or an array of at most {MAX_STOP} strings"),
        ),
    }
    if given(body, "stream").is_some_and(|s| !s.is_boolean()) {
        v.error("stream", "must be true or false");
    }
    if given(body, "stream_options").is_some_and(|s| !s.is_object()) {
        v.error("stream_options", "must be an object");
    }
    match given(body, "seed") {
        None => {}
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        Some(_) => v.error("seed", "must be a whole number"),
    }
    v.finish()
}

/// Whether a deployment can answer chat completions: a remote text-generation deployment
/// whose server has the OpenAI chat route.
pub fn serves_chat(name: &str, target: &str, task: &str) -> Result<(), ApiError> {
    let refuse = |message: String| {
        Err(
            ApiError::new(ErrorCode::BadRequest, message).with_details(json!({
                "deployment": name, "target": target, "task": task,
            })),
        )
    };
    match TargetKind::parse(target) {
        Some(TargetKind::Local) => refuse(format!(
            "deployment {name} runs on the local runtime, which serves embeddings only \
             (feature-extraction, sentence-similarity); chat completions need a text-generation \
             deployment on an Inference Endpoint"
        )),
        _ if task != "text-generation" => refuse(format!(
            "deployment {name} serves {task}; chat completions need a text-generation deployment"
        )),
        Some(TargetKind::HfSpace) => refuse(format!(
            "deployment {name} is a Space, whose generated app serves the task format only \
             (POST /api/v1/deployments/{{id}}/infer); chat completions need an Inference Endpoint"
        )),
        _ => Ok(()),
    }
}

/// Whether an upstream answer has the `chat.completion` shape the caller expects.
fn check_answer(answer: &Value) -> Result<(), String> {
    let choices = answer
        .get("choices")
        .and_then(Value::as_array)
        .ok_or("it has no choices array")?;
    if choices.is_empty() {
        return Err("its choices array is empty".to_owned());
    }
    for (i, choice) in choices.iter().enumerate() {
        let message = choice
            .get("message")
            .filter(|m| m.is_object())
            .ok_or_else(|| format!("choices[{i}] has no message object"))?;
        let content_ok = match message.get("content") {
            Some(Value::String(_) | Value::Null) => true,
            None => message.get("tool_calls").is_some_and(Value::is_array),
            Some(_) => false,
        };
        if !content_ok {
            return Err(format!(
                "choices[{i}].message.content is not a string or null"
            ));
        }
        match choice.get("finish_reason") {
            Some(Value::String(_) | Value::Null) => {}
            _ => return Err(format!("choices[{i}].finish_reason is missing")),
        }
    }
    Ok(())
}

/// `POST /v1/chat/completions` (OpenAI): `model` names a deployment (name or id) or a
/// model id with a running deployment in the caller's team.
pub async fn chat_completions(
    state: &AppState,
    who: &Principal,
    mut body: Value,
) -> Result<ChatAnswer, ApiError> {
    check_request(&body)?;
    let asked = body["model"].as_str().unwrap_or_default().to_owned();
    let d = inference::deployment_for_model(state, who, &asked).await?;
    serves_chat(&d.name, &d.target, &d.task)?;
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    // TGI serves one model and accepts any name; send the one it runs.
    body["model"] = Value::String(d.model_id.clone());
    if body.get("max_tokens").is_none_or(Value::is_null)
        && let Some(max) = body.get("max_completion_tokens").filter(|m| !m.is_null())
    {
        // The newer name, for servers that only know the older one.
        body["max_tokens"] = max.clone();
    }
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    let mut request =
        inference::upstream_request(state, &d, "v1/chat/completions", bytes.into()).await?;
    if streaming {
        request.stream = true;
        // A signed (Lambda) request must keep the headers it was signed with.
        if TargetKind::parse(&d.target) != Some(TargetKind::AwsLambda) {
            request.headers.insert(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("text/event-stream"),
            );
        }
        stream(state, &request, asked).await
    } else {
        complete(state, &request, &d.id, asked).await
    }
}

async fn complete(
    state: &AppState,
    request: &upstream::UpstreamRequest,
    deployment_id: &str,
    asked: String,
) -> Result<ChatAnswer, ApiError> {
    let upstream::JsonAnswer {
        value: mut answer,
        trace,
        permit,
        ..
    } = state.upstreams.call_json(request).await?;
    if let Err(why) = check_answer(&answer) {
        tracing::warn!(deployment = %deployment_id, why, "upstream answered the wrong chat shape");
        permit.failed(trace, "invalid_response", true);
        return Err(upstream::invalid_response(format!(
            "the deployment answered something that is not a chat completion: {why}"
        ))
        .with_upstream(trace));
    }
    permit.succeeded(trace);
    answer["model"] = Value::String(asked);
    Ok(ChatAnswer::Complete {
        body: answer,
        trace,
    })
}

async fn stream(
    state: &AppState,
    request: &upstream::UpstreamRequest,
    asked: String,
) -> Result<ChatAnswer, ApiError> {
    let Answer {
        response,
        trace,
        permit,
    } = state.upstreams.send(request).await?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !content_type
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("text/event-stream")
    {
        permit.failed(trace, "invalid_response", true);
        let shown = if content_type.is_empty() {
            "no content type"
        } else {
            content_type.as_str()
        };
        return Err(upstream::invalid_response(format!(
            "the deployment answered {shown} instead of an event stream"
        ))
        .with_upstream(trace));
    }
    // The upstream took the call; what happens to the stream later is reported in it.
    permit.succeeded(trace);
    let chunks = response.bytes_stream().map(|chunk| {
        chunk.map_err(|e| {
            if e.is_timeout() {
                "the deployment's stream did not finish within the upstream timeout".to_owned()
            } else {
                tracing::warn!(error = %e, "upstream event stream broke off");
                "the deployment's stream broke off".to_owned()
            }
        })
    });
    Ok(ChatAnswer::Stream {
        events: relay(chunks, asked),
        trace,
    })
}

/// Relays an upstream event stream: complete lines as soon as they arrive, `model` in each
/// JSON `data:` event rewritten; an upstream error ends it with an error event.
pub fn relay<S, B>(upstream: S, model: String) -> EventStream
where
    S: Stream<Item = Result<B, String>> + Send + 'static,
    B: AsRef<[u8]>,
{
    let start = (Box::pin(upstream), EventRewriter::new(model), false);
    futures_util::stream::unfold(start, |(mut upstream, mut rewriter, done)| async move {
        if done {
            return None;
        }
        loop {
            match upstream.next().await {
                Some(Ok(chunk)) => {
                    let out = rewriter.feed(chunk.as_ref());
                    if !out.is_empty() {
                        return Some((out, (upstream, rewriter, false)));
                    }
                }
                Some(Err(message)) => {
                    let out = rewriter.broken(&message);
                    return Some((out, (upstream, rewriter, true)));
                }
                None => {
                    let out = rewriter.finish();
                    return (!out.is_empty()).then_some((out, (upstream, rewriter, true)));
                }
            }
        }
    })
    .boxed()
}

/// Splits an event stream into lines across chunks and rewrites `data:` JSON events.
struct EventRewriter {
    model: String,
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    /// The current line grew too long to hold and is being passed on as it comes.
    passing: bool,
    /// The last line relayed was blank (an event ended), or nothing was relayed yet.
    at_boundary: bool,
}

impl EventRewriter {
    fn new(model: String) -> Self {
        Self {
            model,
            partial: Vec::new(),
            passing: false,
            at_boundary: true,
        }
    }

    fn feed(&mut self, mut chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            let (head, tail) = (&chunk[..pos], &chunk[pos + 1..]);
            if self.passing {
                out.extend_from_slice(head);
                out.push(b'\n');
                self.passing = false;
                self.at_boundary = false;
            } else if self.partial.is_empty() {
                self.line(head, &mut out);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.line(&line, &mut out);
            }
            chunk = tail;
        }
        if self.passing {
            out.extend_from_slice(chunk);
        } else {
            self.partial.extend_from_slice(chunk);
            if self.partial.len() > MAX_LINE_BYTES {
                out.append(&mut self.partial);
                self.passing = true;
                self.at_boundary = false;
            }
        }
        out
    }

    /// One complete line (without its `\n`), rewritten or as it was.
    fn line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let (text, cr) = match line.strip_suffix(b"\r") {
            Some(text) => (text, true),
            None => (line, false),
        };
        self.at_boundary = text.is_empty();
        if let Some(event) = text
            .strip_prefix(b"data:")
            .map(|d| d.strip_prefix(b" ").unwrap_or(d))
            .and_then(|d| serde_json::from_slice::<Value>(d).ok())
            .and_then(|event| self.rewrite(event))
            && let Ok(json) = serde_json::to_vec(&event)
        {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&json);
            if cr {
                out.push(b'\r');
            }
            out.push(b'\n');
            return;
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }

    /// The event with the caller's model name, and an error in the OpenAI shape (TGI sends
    /// `{"error": "...", "error_type": "..."}`); `None` when nothing needs changing.
    fn rewrite(&self, mut event: Value) -> Option<Value> {
        let object = event.as_object_mut()?;
        let mut changed = false;
        if object.contains_key("model") {
            object.insert("model".to_owned(), Value::String(self.model.clone()));
            changed = true;
        }
        if let Some(Value::String(message)) = object.get("error") {
            let kind = object
                .get("error_type")
                .and_then(Value::as_str)
                .unwrap_or("api_error")
                .to_owned();
            let error = json!({
                "message": message, "type": kind, "param": null, "code": "upstream_error",
            });
            object.insert("error".to_owned(), error);
            object.remove("error_type");
            changed = true;
        }
        changed.then_some(event)
    }

    /// What is left when the upstream ended: an unterminated last line, unchanged.
    fn finish(&mut self) -> Vec<u8> {
        self.passing = false;
        std::mem::take(&mut self.partial)
    }

    /// Ends the stream with an error event (after closing an unfinished event).
    fn broken(&mut self, message: &str) -> Vec<u8> {
        self.partial.clear();
        let mut out = Vec::new();
        if self.passing || !self.at_boundary {
            out.push(b'\n');
        }
        let error = json!({ "error": {
            "message": message, "type": "api_error", "param": null, "code": "upstream_error",
        }});
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(error.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
        self.at_boundary = true;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: Value) -> Vec<String> {
        match check_request(&body) {
            Ok(()) => Vec::new(),
            Err(e) => e.details.unwrap()["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["field"].as_str().unwrap().to_owned())
                .collect(),
        }
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let ok = json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }] });
        assert!(fields(ok.clone()).is_empty());
        let mut full = ok.clone();
        full["messages"] = json!([
            { "role": "system", "content": "be brief" },
            { "role": "user", "content": [{ "type": "text", "text": "hi" }] },
            { "role": "assistant", "content": null, "tool_calls": [] },
            { "role": "tool", "content": "42", "tool_call_id": "t" },
        ]);
        for (k, val) in [
            ("max_tokens", json!(8192)),
            ("max_completion_tokens", json!(1)),
            ("temperature", json!(0)),
            ("top_p", json!(1)),
            ("n", json!(1)),
            ("stop", json!(["a", "b", "c", "d"])),
            ("stream", json!(true)),
            ("stream_options", json!({ "include_usage": true })),
            ("seed", json!(-3)),
            ("something_new", json!({ "x": 1 })),
            ("temperature", json!(null)),
        ] {
            full[k] = val;
        }
        assert!(fields(full).is_empty());
        assert_eq!(fields(json!([])), ["body"]);
        assert_eq!(fields(json!({})), ["model", "messages"]);
        assert_eq!(
            fields(json!({ "model": "m", "messages": [] })),
            ["messages"]
        );
        let many: Vec<Value> = (0..=MAX_MESSAGES)
            .map(|_| json!({ "role": "user", "content": "x" }))
            .collect();
        assert_eq!(
            fields(json!({ "model": "m", "messages": many })),
            ["messages"]
        );
        let bad = json!({ "model": "m", "messages": [
            "hi",
            { "role": "robot", "content": "x" },
            { "role": "user", "content": 3 },
            { "role": "user", "content": [{ "type": "text" }, { "type": "audio" }] },
            { "role": "user" },
        ],
            "max_tokens": 0, "max_completion_tokens": 8193, "temperature": 2.5, "top_p": 0,
            "n": 2, "stop": ["a", "b", "c", "d", "e"], "stream": "yes", "stream_options": 1,
            "seed": 1.5 });
        assert_eq!(
            fields(bad),
            [
                "messages[0]",
                "messages[1].role",
                "messages[2].content",
                "messages[3].content[0].text",
                "messages[3].content[1].type",
                "messages[4].content",
                "max_tokens",
                "max_completion_tokens",
                "temperature",
                "top_p",
                "n",
                "stop",
                "stream",
                "stream_options",
                "seed",
            ]
        );
        let e = check_request(
            &json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }], "n": 3 }),
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed);
        assert!(e.message.contains("only 1"), "{}", e.message);
    }

    #[test]
    fn only_remote_text_generation_deployments_serve_chat() {
        assert!(serves_chat("d", "hf-endpoint", "text-generation").is_ok());
        let local = serves_chat("d", "local", "feature-extraction").unwrap_err();
        assert_eq!(local.code, ErrorCode::BadRequest);
        assert!(
            local.message.contains("embeddings only"),
            "{}",
            local.message
        );
        let task = serves_chat("d", "hf-endpoint", "feature-extraction").unwrap_err();
        assert!(
            task.message.contains("feature-extraction") && task.message.contains("text-generation"),
            "{}",
            task.message
        );
        assert!(serves_chat("d", "hf-space", "text-generation").is_err());
    }

    #[test]
    fn answers_must_have_the_chat_completion_shape() {
        let good = json!({ "choices": [{ "index": 0, "message": { "role": "assistant", "content": "hi" }, "finish_reason": "stop" }] });
        assert!(check_answer(&good).is_ok());
        let tools = json!({ "choices": [{ "message": { "role": "assistant", "tool_calls": [] }, "finish_reason": null }] });
        assert!(check_answer(&tools).is_ok());
        for bad in [
            json!([{ "generated_text": "x" }]),
            json!({ "choices": [] }),
            json!({ "choices": [{ "text": "x", "finish_reason": "stop" }] }),
            json!({ "choices": [{ "message": { "content": 1 }, "finish_reason": "stop" }] }),
            json!({ "choices": [{ "message": { "content": "x" } }] }),
        ] {
            assert!(check_answer(&bad).is_err(), "{bad}");
        }
    }

    async fn relayed(chunks: Vec<Result<Vec<u8>, String>>) -> String {
        let events = relay(futures_util::stream::iter(chunks), "asked".to_owned());
        let out: Vec<Vec<u8>> = events.collect().await;
        String::from_utf8(out.concat()).unwrap()
    }

    const UPSTREAM: &str = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"model\":\"tgi\"}\n\n\
        : a comment\n\
        data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"model\":\"tgi\"}\r\n\r\n\
        data: [DONE]\n\n";

    #[tokio::test]
    async fn events_are_relayed_with_the_model_rewritten_however_the_chunks_split() {
        let expected = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}],\"model\":\"asked\"}\n\n\
            : a comment\n\
            data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}],\"model\":\"asked\"}\r\n\r\n\
            data: [DONE]\n\n";
        assert_eq!(
            relayed(vec![Ok(UPSTREAM.as_bytes().to_vec())]).await,
            expected
        );
        let bytewise = UPSTREAM.bytes().map(|b| Ok(vec![b])).collect();
        assert_eq!(relayed(bytewise).await, expected);
        // An unterminated last line is passed on as it was.
        assert_eq!(
            relayed(vec![Ok(b"data: {\"model\":\"x\"}\n\ndata: [DO".to_vec())]).await,
            "data: {\"model\":\"asked\"}\n\ndata: [DO"
        );
    }

    #[tokio::test]
    async fn a_broken_stream_ends_with_an_openai_error_event() {
        let out = relayed(vec![
            Ok(b"data: {\"model\":\"x\"}\n\ndata: {\"mod".to_vec()),
            Err("the deployment's stream broke off".to_owned()),
            Ok(b"never relayed\n".to_vec()),
        ])
        .await;
        let (first, last) = out.split_once("\n\n").unwrap();
        assert_eq!(first, "data: {\"model\":\"asked\"}");
        let error: Value = serde_json::from_str(
            last.strip_prefix("data: ")
                .unwrap()
                .strip_suffix("\n\n")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            error["error"]["message"],
            "the deployment's stream broke off"
        );
        assert_eq!(error["error"]["code"], "upstream_error");
        // Mid-event, the event is closed first.
        let out = relayed(vec![Ok(b"id: 1\n".to_vec()), Err("gone".to_owned())]).await;
        assert!(out.starts_with("id: 1\n\ndata: {\"error\""), "{out}");
        // TGI's own error events take the OpenAI shape.
        let out = relayed(vec![Ok(
            b"data: {\"error\":\"Input validation error\",\"error_type\":\"validation\"}\n\n"
                .to_vec(),
        )])
        .await;
        let event: Value =
            serde_json::from_str(out.trim().strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(event["error"]["message"], "Input validation error");
        assert_eq!(event["error"]["type"], "validation");
    }

    #[test]
    fn an_overlong_line_is_passed_on_without_being_held() {
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let mut rewriter = EventRewriter::new("m".to_owned());
        assert_eq!(rewriter.feed(&long).len(), long.len());
        assert_eq!(
            rewriter.feed(b"yy\ndata: {\"model\":1}\n"),
            b"yy\ndata: {\"model\":\"m\"}\n"
        );
    }
}
