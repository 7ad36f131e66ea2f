//! OpenAI chat completions on a text-generation Inference Endpoint: one wiremock server
//! plays the Inference Endpoints API (an endpoint runs as soon as it is created, at
//! `{server}/ep/{name}`) and the endpoint's TGI chat route. Plain and streamed answers are
//! relayed with the caller's model name; bad requests, wrong deployments and upstream
//! failures answer in the OpenAI error shape.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{body_string_contains, method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestApp, spawn_app_with};

const CHAT_MODEL: &str = "acme-labs/tiny-chat";
const CHAT_PATH: &str = "^/ep/[^/]+/v1/chat/completions$";

/// The Inference Endpoints API: created endpoints are `running` at once, their URL under
/// `base` (the wiremock server itself, or another stand-in for the endpoint).
#[derive(Clone)]
struct RunningEndpoints {
    base: String,
    created: Arc<Mutex<Vec<(String, Value)>>>,
}

impl RunningEndpoints {
    fn body(&self, name: &str, model: &Value) -> Value {
        json!({
            "name": name,
            "type": "protected",
            "model": model,
            "compute": { "accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2",
                "scaling": { "minReplica": 1, "maxReplica": 1, "scaleToZeroTimeout": 15 } },
            "provider": { "vendor": "aws", "region": "us-east-1" },
            "status": { "state": "running", "message": null,
                "url": format!("{}/ep/{name}", self.base),
                "readyReplica": 1, "targetReplica": 1,
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z" }
        })
    }
}

impl Respond for RunningEndpoints {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().trim_start_matches('/');
        let parts: Vec<&str> = path.split('/').collect();
        let mut created = self.created.lock().unwrap();
        match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["v2", "endpoint", _ns]) => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let name = body["name"].as_str().unwrap().to_owned();
                let answer = self.body(&name, &body["model"]);
                created.push((name, body["model"].clone()));
                ResponseTemplate::new(202).set_body_json(answer)
            }
            ("GET", ["v2", "endpoint", _ns, name]) => match created.iter().find(|(n, _)| n == name)
            {
                Some((name, model)) => {
                    ResponseTemplate::new(200).set_body_json(self.body(name, model))
                }
                None => ResponseTemplate::new(404).set_body_json(json!({ "error": "not found" })),
            },
            ("DELETE", ["v2", "endpoint", _ns, name]) => {
                created.retain(|(n, _)| n != name);
                ResponseTemplate::new(200).set_body_json(json!({}))
            }
            _ => ResponseTemplate::new(500),
        }
    }
}

/// A wiremock server playing the Endpoints API, with endpoints answering at `base` (the
/// server itself when `None`).
async fn fake_hugging_face(base: Option<String>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/v2/endpoint/.*"))
        .respond_with(RunningEndpoints {
            base: base.unwrap_or_else(|| server.uri()),
            created: Arc::default(),
        })
        .mount(&server)
        .await;
    server
}

/// hfb pointed at `server`, a signed-up user, and an API key for inference calls.
struct ChatApp {
    app: TestApp,
    access: String,
    key: String,
}

async fn chat_app(server: &MockServer, extra: &[(&str, &str)]) -> ChatApp {
    let api = format!("{}/v2", server.uri());
    let mut overrides = vec![
        ("HUGGING_FACE_API_KEY", "hf_test_token"),
        ("HFB_HF_NAMESPACE", "acme"),
        ("HFB_HF_API_ENDPOINT", api.as_str()),
    ];
    overrides.extend_from_slice(extra);
    let app = spawn_app_with(&overrides).await;
    let (_, s) = app.signup("chat").await;
    let (key, _) = app
        .create_key(&s.access, &["read", "inference"], None)
        .await;
    ChatApp {
        app,
        access: s.access,
        key,
    }
}

impl ChatApp {
    /// Deploys `model` with `task` on an Inference Endpoint and waits until it runs.
    async fn deploy(&self, model: &str, task: &str) -> Value {
        let res = self
            .app
            .post_as(
                "/api/v1/deployments",
                &self.access,
                &json!({ "model_id": model, "target": "hf-endpoint", "task": task }),
            )
            .await;
        assert_eq!(res.status(), 201);
        let id = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let d: Value = self
                .app
                .get_as(&format!("/api/v1/deployments/{id}"), &self.access)
                .await
                .json()
                .await
                .unwrap();
            if d["deployment"]["status"] == "running" {
                return d["deployment"].clone();
            }
            assert!(Instant::now() < deadline, "never running: {d:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn chat(&self, body: &Value) -> reqwest::Response {
        self.app
            .post_as("/v1/chat/completions", &self.key, body)
            .await
    }
}

fn hello(model: &str) -> Value {
    json!({ "model": model, "messages": [
        { "role": "system", "content": "Answer briefly." },
        { "role": "user", "content": [{ "type": "text", "text": "Say hello" }] },
    ] })
}

/// Asserts the OpenAI error shape and returns `error`.
async fn openai_error(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = res.json().await.unwrap();
    let error = body["error"].clone();
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["type"].is_string(), "{body}");
    assert!(error.get("param").is_some(), "{body}");
    error
}

/// The chat calls the endpoint received (`/ep/{name}/v1/chat/completions`).
async fn chat_calls(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.url
                .path()
                .strip_prefix("/ep/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(_, tail)| tail == "v1/chat/completions")
        })
        .collect()
}

#[tokio::test]
async fn chat_completions_are_relayed_with_the_callers_model_name() {
    let server = fake_hugging_face(None).await;
    Mock::given(method("POST"))
        .and(path_regex(CHAT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_767_225_600,
            "model": "tgi", "system_fingerprint": "3.0.0-sha-abc",
            "choices": [{ "index": 0, "logprobs": null, "finish_reason": "stop",
                "message": { "role": "assistant", "content": "Hello there!" } }],
            "usage": { "prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15 }
        })))
        .mount(&server)
        .await;
    let t = chat_app(&server, &[]).await;
    let d = t.deploy(CHAT_MODEL, "text-generation").await;

    let mut body = hello(CHAT_MODEL);
    body["temperature"] = json!(0.2);
    body["max_completion_tokens"] = json!(32);
    body["top_k"] = json!(5);
    let res = t.chat(&body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-hfb-attempts"], "1");
    assert_eq!(res.headers()["x-hfb-upstream-status"], "200");
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["model"], CHAT_MODEL);
    assert_eq!(answer["choices"][0]["message"]["content"], "Hello there!");
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert_eq!(answer["usage"]["total_tokens"], 15);

    // Named by the deployment's name, the answer names it the same way.
    let name = d["name"].as_str().unwrap();
    let answer: Value = t.chat(&hello(name)).await.json().await.unwrap();
    assert_eq!(answer["model"], name);

    let calls = chat_calls(&server).await;
    assert_eq!(calls.len(), 2);
    let call = &calls[0];
    assert_eq!(call.headers["authorization"], "Bearer hf_test_token");
    let sent: Value = serde_json::from_slice(&call.body).unwrap();
    assert_eq!(sent["model"], CHAT_MODEL);
    assert_eq!(sent["messages"], body["messages"]);
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(
        sent["max_tokens"], 32,
        "the newer name is also sent as the older one"
    );
    assert_eq!(sent["top_k"], 5, "unknown fields pass through");
    let second: Value = serde_json::from_slice(&calls[1].body).unwrap();
    assert_eq!(
        second["model"], CHAT_MODEL,
        "the upstream gets the model id, not the deployment name"
    );

    // The deployment is listed for OpenAI clients.
    let models: Value = t
        .app
        .get_as("/v1/models", &t.key)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&CHAT_MODEL), "{models}");
}

const EVENTS: [&str; 4] = ["Hel", "lo", " the", "re!"];

fn sse_body() -> String {
    let mut body = String::new();
    for (i, piece) in EVENTS.iter().enumerate() {
        let finish = if i + 1 == EVENTS.len() {
            json!("stop")
        } else {
            Value::Null
        };
        let chunk = json!({ "id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1,
            "model": "tgi", "system_fingerprint": "3.0.0",
            "choices": [{ "index": 0, "delta": { "role": "assistant", "content": piece },
                "logprobs": null, "finish_reason": finish }] });
        body.push_str(&format!("data: {chunk}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    body
}

/// The `data:` payloads of an event stream, in order.
fn data_lines(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data event: {e:?}"))
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn streamed_chat_completions_arrive_in_order_as_events() {
    let server = fake_hugging_face(None).await;
    Mock::given(method("POST"))
        .and(path_regex(CHAT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw(sse_body(), "text/event-stream"))
        .mount(&server)
        .await;
    let t = chat_app(&server, &[]).await;
    t.deploy(CHAT_MODEL, "text-generation").await;

    let mut body = hello(CHAT_MODEL);
    body["stream"] = json!(true);
    body["stream_options"] = json!({ "include_usage": false });
    let res = t
        .app
        .authed(reqwest::Method::POST, "/v1/chat/completions", &t.key)
        // The compression middleware must not hold events back.
        .header("accept-encoding", "gzip, br")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert_eq!(headers["x-hfb-attempts"], "1");
    assert!(
        headers
            .get("content-encoding")
            .is_none_or(|e| e == "identity"),
        "{headers:?}"
    );
    let text = res.text().await.unwrap();
    let data = data_lines(&text);
    assert_eq!(data.len(), EVENTS.len() + 1, "{text}");
    assert_eq!(data.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = data[..EVENTS.len()]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(chunks.iter().all(|c| c["model"] == CHAT_MODEL), "{text}");
    let joined: String = chunks
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(joined, EVENTS.concat());
    assert_eq!(
        chunks[EVENTS.len() - 1]["choices"][0]["finish_reason"],
        "stop"
    );

    let calls = chat_calls(&server).await;
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].headers["authorization"], "Bearer hf_test_token");
    assert_eq!(calls[0].headers["accept"], "text/event-stream");
    let sent: Value = serde_json::from_slice(&calls[0].body).unwrap();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({ "include_usage": false }));
}

#[tokio::test]
async fn bad_chat_requests_answer_in_the_openai_shape_before_any_upstream_call() {
    let server = fake_hugging_face(None).await;
    let t = chat_app(&server, &[]).await;
    t.deploy(CHAT_MODEL, "text-generation").await;

    let mut body = hello(CHAT_MODEL);
    body["temperature"] = json!(5);
    let error = openai_error(t.chat(&body).await, 422).await;
    assert_eq!(error["type"], "invalid_request_error");
    assert_eq!(error["code"], "validation_failed");
    assert_eq!(error["param"], "temperature");
    assert!(
        error["message"].as_str().unwrap().contains("from 0 to 2"),
        "{error}"
    );

    let error = openai_error(
        t.chat(&json!({ "model": CHAT_MODEL, "messages": [] }))
            .await,
        422,
    )
    .await;
    assert_eq!(error["param"], "messages");
    let error = openai_error(
        t.chat(&json!({ "model": CHAT_MODEL, "messages": [{ "role": "robot", "content": "x" }], "n": 2 }))
            .await,
        422,
    )
    .await;
    assert_eq!(error["param"], "messages[0].role");
    assert!(
        error["message"].as_str().unwrap().contains("n: only 1"),
        "{error}"
    );

    let res = t
        .app
        .authed(reqwest::Method::POST, "/v1/chat/completions", &t.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        openai_error(res, 400).await["type"],
        "invalid_request_error"
    );

    let error = openai_error(t.chat(&hello("nobody/nothing")).await, 404).await;
    assert_eq!(error["type"], "not_found_error");
    let res = t
        .app
        .post_json("/v1/chat/completions", &hello(CHAT_MODEL))
        .await;
    assert_eq!(openai_error(res, 401).await["type"], "authentication_error");

    assert!(chat_calls(&server).await.is_empty());
}

#[tokio::test]
async fn a_deployment_that_does_not_generate_text_is_refused() {
    let server = fake_hugging_face(None).await;
    let t = chat_app(&server, &[]).await;
    t.deploy(
        "sentence-transformers/all-MiniLM-L6-v2",
        "feature-extraction",
    )
    .await;
    let error = openai_error(
        t.chat(&hello("sentence-transformers/all-MiniLM-L6-v2"))
            .await,
        400,
    )
    .await;
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("feature-extraction") && message.contains("text-generation"),
        "{message}"
    );
    assert!(chat_calls(&server).await.is_empty());
}

#[tokio::test]
async fn upstream_failures_become_openai_shaped_errors() {
    let server = fake_hugging_face(None).await;
    for (marker, response) in [
        (
            "fail-500",
            ResponseTemplate::new(500).set_body_json(json!({ "error": "CUDA out of memory" })),
        ),
        (
            "garbage",
            ResponseTemplate::new(200).set_body_json(json!([{ "generated_text": "x" }])),
        ),
        (
            "not-json",
            ResponseTemplate::new(200).set_body_raw("<html>hi</html>", "text/html"),
        ),
        (
            "json-not-events",
            ResponseTemplate::new(200).set_body_json(json!({ "choices": [] })),
        ),
        (
            "loading",
            ResponseTemplate::new(503)
                .insert_header("retry-after", "7")
                .set_body_json(json!({ "error": "Model is loading" })),
        ),
        (
            "busy",
            ResponseTemplate::new(429)
                .insert_header("retry-after", "3")
                .set_body_json(json!({ "error": "Too many requests" })),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path_regex(CHAT_PATH))
            .and(body_string_contains(marker))
            .respond_with(response)
            .mount(&server)
            .await;
    }
    // One attempt per call and a breaker that never opens: each case is seen alone.
    let t = chat_app(
        &server,
        &[
            ("HFB_UPSTREAM_MAX_ATTEMPTS", "1"),
            ("HFB_UPSTREAM_MAX_WAIT_SECS", "1"),
            ("HFB_BREAKER_FAILURES", "1000"),
        ],
    )
    .await;
    t.deploy(CHAT_MODEL, "text-generation").await;
    let ask = |marker: &str, stream: bool| {
        json!({ "model": CHAT_MODEL, "stream": stream,
            "messages": [{ "role": "user", "content": marker }] })
    };

    let res = t.chat(&ask("fail-500", false)).await;
    assert_eq!(res.headers()["x-hfb-upstream-status"], "500");
    let error = openai_error(res, 502).await;
    assert_eq!(error["type"], "api_error");
    assert_eq!(error["code"], "upstream_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("CUDA out of memory"),
        "{error}"
    );

    let error = openai_error(t.chat(&ask("garbage", false)).await, 502).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not a chat completion"),
        "{error}"
    );
    let error = openai_error(t.chat(&ask("not-json", false)).await, 502).await;
    assert_eq!(error["code"], "upstream_error");
    let error = openai_error(t.chat(&ask("json-not-events", true)).await, 502).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("instead of an event stream"),
        "{error}"
    );
    let error = openai_error(t.chat(&ask("fail-500", true)).await, 502).await;
    assert!(
        error["message"].as_str().unwrap().contains("CUDA"),
        "{error}"
    );

    let res = t.chat(&ask("loading", true)).await;
    assert_eq!(res.headers()["retry-after"], "7");
    assert_eq!(openai_error(res, 503).await["code"], "service_unavailable");
    let res = t.chat(&ask("busy", false)).await;
    assert_eq!(res.headers()["retry-after"], "3");
    assert_eq!(openai_error(res, 429).await["type"], "rate_limit_error");
}

/// An endpoint that starts an event stream, sends one event, and drops the connection.
async fn breaking_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                let event = "data: {\"model\":\"tgi\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                let chunk = format!("{head}{:x}\r\n{event}\r\n", event.len());
                let _ = socket.write_all(chunk.as_bytes()).await;
                let _ = socket.flush().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                // No final chunk: the stream breaks.
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_stream_that_breaks_midway_ends_with_an_error_event() {
    let server = fake_hugging_face(Some(breaking_endpoint().await)).await;
    let t = chat_app(&server, &[]).await;
    t.deploy(CHAT_MODEL, "text-generation").await;
    let mut body = hello(CHAT_MODEL);
    body["stream"] = json!(true);
    let res = t.chat(&body).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let data = data_lines(&text);
    assert_eq!(data.len(), 2, "{text}");
    let first: Value = serde_json::from_str(&data[0]).unwrap();
    assert_eq!(first["model"], CHAT_MODEL);
    assert_eq!(first["choices"][0]["delta"]["content"], "Hel");
    let last: Value = serde_json::from_str(&data[1]).unwrap();
    assert_eq!(last["error"]["code"], "upstream_error", "{text}");
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("broke off"),
        "{text}"
    );
}
