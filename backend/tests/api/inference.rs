//! Inference on remote deployments: an Inference Endpoint whose URL is a wiremock server
//! that answers, fails, times out, says the model is loading, rate limits, or answers
//! garbage. Checks the retry rules, the circuit breaker, response-shape validation, the
//! headers that report upstream attempts, and the counters behind `/metrics`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestApp, assert_error, spawn_app_with};

/// The Inference Endpoints API, with every created endpoint running at once and its URL
/// on the same server under `/ep/{name}`.
struct InstantEndpoints {
    /// This server's base URL.
    base: String,
    created: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Respond for InstantEndpoints {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parts: Vec<&str> = request.url.path().split('/').skip(1).collect();
        let base = &self.base;
        let body = |name: &str, state: &str| {
            json!({
                "name": name, "type": "protected",
                "model": { "repository": "acme/model", "revision": "main", "task": "text-classification",
                    "framework": "pytorch", "image": { "huggingface": {} } },
                "compute": { "accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2",
                    "scaling": { "minReplica": 1, "maxReplica": 1 } },
                "provider": { "vendor": "aws", "region": "us-east-1" },
                "status": { "state": state, "url": format!("{base}/ep/{name}"),
                    "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z" }
            })
        };
        match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["v2", "endpoint", _]) => {
                let req: Value = serde_json::from_slice(&request.body).unwrap();
                let name = req["name"].as_str().unwrap();
                self.created.lock().unwrap().insert(name.to_owned());
                ResponseTemplate::new(202).set_body_json(body(name, "pending"))
            }
            ("GET", ["v2", "endpoint", _, name])
                if self.created.lock().unwrap().contains(*name) =>
            {
                ResponseTemplate::new(200).set_body_json(body(name, "running"))
            }
            ("GET", ["v2", "endpoint", _, _]) => {
                ResponseTemplate::new(404).set_body_json(json!({ "error": "not found" }))
            }
            ("DELETE", ["v2", "endpoint", _, name]) => {
                self.created.lock().unwrap().remove(*name);
                ResponseTemplate::new(200).set_body_json(json!({}))
            }
            (m, p) => panic!("unexpected Endpoints API call {m} {p:?}"),
        }
    }
}

struct Remote {
    app: TestApp,
    server: MockServer,
    token: String,
    id: String,
    /// Path of the deployment's inference URL on `server`.
    ep: String,
}

impl Remote {
    async fn infer(&self, body: Value) -> reqwest::Response {
        self.app
            .post_as(
                &format!("/api/v1/deployments/{}/infer", self.id),
                &self.token,
                &body,
            )
            .await
    }

    /// OpenAI `POST /v1/embeddings` of `input` on this deployment's model.
    async fn embeddings(&self, input: Value) -> reqwest::Response {
        self.app
            .post_as(
                "/v1/embeddings",
                &self.token,
                &json!({ "model": "acme/model", "input": input }),
            )
            .await
    }

    /// The upstream answers inference calls with `response`, `times` times, at wiremock
    /// `priority` (lower wins; the default is 5).
    async fn answer(&self, response: ResponseTemplate, times: u64, priority: u8) {
        Mock::given(method("POST"))
            .and(path(self.ep.as_str()))
            .respond_with(response)
            .up_to_n_times(times)
            .with_priority(priority)
            .mount(&self.server)
            .await;
    }

    /// The body of the last inference call the upstream received.
    async fn last_sent(&self) -> Value {
        let calls = self.server.received_requests().await.unwrap_or_default();
        let last = calls.iter().rfind(|q| q.url.path() == self.ep).unwrap();
        serde_json::from_slice(&last.body).unwrap()
    }

    /// Inference calls the upstream received so far.
    async fn upstream_calls(&self) -> usize {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == self.ep)
            .count()
    }

    /// Asserts the `/metrics` line of this deployment's series `name` (with `labels` after
    /// the deployment's, e.g. `,outcome="ok"`).
    async fn expect_metric(&self, name: &str, labels: &str, value: u64) {
        let metrics = self.app.get("/metrics").await.text().await.unwrap();
        let line = format!("{name}{{deployment=\"{}\"{labels}}} {value}", self.id);
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in:\n{metrics}"
        );
    }
}

/// A running `hf-endpoint` deployment of a `task` model, with small upstream limits:
/// 800 ms per call, 3 attempts, 20 ms backoff, 2 s most wait, breaker after 3 failures
/// for 1 s.
async fn remote(task: &str, extra: &[(&str, &str)]) -> Remote {
    remote_at(task, extra, None).await
}

/// [`remote`], with the endpoints' URLs on `ep_base` instead of the mock server.
async fn remote_at(task: &str, extra: &[(&str, &str)], ep_base: Option<String>) -> Remote {
    let server = MockServer::start().await;
    let base = ep_base.unwrap_or_else(|| server.uri());
    Mock::given(path_regex("^/v2/endpoint/"))
        .respond_with(InstantEndpoints {
            base: base.clone(),
            created: std::sync::Mutex::default(),
        })
        .mount(&server)
        .await;
    let api = format!("{}/v2", server.uri());
    let mut env = vec![
        ("HUGGING_FACE_API_KEY", "hf_test_token"),
        ("HFB_HF_NAMESPACE", "acme"),
        ("HFB_HF_API_ENDPOINT", api.as_str()),
        ("HFB_RECONCILE_POLL_SECS", "0"),
        ("HFB_UPSTREAM_TIMEOUT_MS", "800"),
        ("HFB_UPSTREAM_MAX_ATTEMPTS", "3"),
        ("HFB_UPSTREAM_BACKOFF_MS", "20"),
        ("HFB_UPSTREAM_MAX_WAIT_SECS", "2"),
        ("HFB_BREAKER_FAILURES", "3"),
        ("HFB_BREAKER_COOLDOWN_SECS", "1"),
    ];
    env.extend_from_slice(extra);
    let app = spawn_app_with(&env).await;
    let (_, s) = app.signup(&format!("remote-{task}")).await;
    let res = app
        .post_as(
            "/api/v1/deployments",
            &s.access,
            &json!({ "model_id": "acme/model", "target": "hf-endpoint", "task": task }),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let d = wait_running(&app, &s.access, &id).await;
    let url = d["deployment"]["endpoint_url"].as_str().unwrap();
    let ep = url
        .strip_prefix(&base)
        .unwrap_or_else(|| panic!("{url} is not on {base}"))
        .to_owned();
    Remote {
        app,
        server,
        token: s.access,
        id,
        ep,
    }
}

/// Polls until the deployment is `running` (its detail), or panics after 60 s.
async fn wait_running(app: &TestApp, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d: Value = app
            .get_as(&format!("/api/v1/deployments/{id}"), token)
            .await
            .json()
            .await
            .unwrap();
        if d["deployment"]["status"] == "running" {
            return d;
        }
        assert!(Instant::now() < deadline, "never running: {d:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header_of(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn answers_are_relayed_with_hfbs_credentials_and_checked_against_the_task() {
    // Failures here are the point; keep the breaker out of the way (tested below).
    let r = remote("text-classification", &[("HFB_BREAKER_FAILURES", "100")]).await;
    let labels =
        json!([[{ "label": "POSITIVE", "score": 0.98 }, { "label": "NEGATIVE", "score": 0.02 }]]);
    Mock::given(method("POST"))
        .and(path(r.ep.as_str()))
        .and(header("authorization", "Bearer hf_test_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(labels.clone()))
        .up_to_n_times(1)
        .mount(&r.server)
        .await;
    let res = r.infer(json!({ "inputs": ["I love it"] })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(&res, "x-hfb-attempts"), "1");
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "200");
    assert_eq!(res.json::<Value>().await.unwrap(), labels);
    let sent = r.last_sent().await;
    assert_eq!(
        sent,
        json!({ "inputs": ["I love it"] }),
        "the body reaches the upstream as sent"
    );

    // Bad input never reaches the upstream.
    let before = r.upstream_calls().await;
    let err = assert_error(
        r.infer(json!({ "inputs": ["ok", ""], "parameters": { "top_k": 0, "function_to_apply": "tanh" } }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields: Vec<&str> = err["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "inputs[1]",
            "parameters.top_k",
            "parameters.function_to_apply"
        ]
    );
    assert_eq!(r.upstream_calls().await, before);

    // An answer of the wrong shape is a 502, not garbage passed on.
    r.answer(
        ResponseTemplate::new(200).set_body_json(json!({ "generated_text": "?" })),
        1,
        5,
    )
    .await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "200");
    let err = assert_error(res, 502, "upstream_error").await;
    assert_eq!(err["error"]["details"]["reason"], "invalid_response");
    r.answer(
        ResponseTemplate::new(200).set_body_string("<html>gateway</html>"),
        1,
        5,
    )
    .await;
    let err = assert_error(
        r.infer(json!({ "inputs": "x" })).await,
        502,
        "upstream_error",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "invalid_response");
    // One answer for two inputs is the wrong shape too.
    r.answer(ResponseTemplate::new(200).set_body_json(labels), 1, 5)
        .await;
    let err = assert_error(
        r.infer(json!({ "inputs": ["a", "b"] })).await,
        502,
        "upstream_error",
    )
    .await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected 2 answers"),
        "{err}"
    );

    // The upstream's own refusal of the input is the caller's 4xx, with its message.
    r.answer(
        ResponseTemplate::new(400)
            .set_body_json(json!({ "error": "Input is too long for this model" })),
        1,
        5,
    )
    .await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "400");
    let err = assert_error(res, 400, "bad_request").await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Input is too long"),
        "{err}"
    );
    r.expect_metric("hfb_upstream_calls_total", r#",outcome="ok""#, 1)
        .await;
    r.expect_metric(
        "hfb_upstream_calls_total",
        r#",outcome="invalid_response""#,
        3,
    )
    .await;
}

#[tokio::test]
async fn loading_and_rate_limits_are_retried_within_the_ceiling() {
    let r = remote("text-classification", &[]).await;
    let ok = json!([{ "label": "POSITIVE", "score": 0.9 }]);
    // Loading for 0.3 s, then ready: one retry after the estimated time.
    r.answer(
        ResponseTemplate::new(503).set_body_json(
            json!({ "error": "Model acme/model is currently loading", "estimated_time": 0.3 }),
        ),
        1,
        1,
    )
    .await;
    r.answer(
        ResponseTemplate::new(200).set_body_json(ok.clone()),
        u64::MAX,
        5,
    )
    .await;
    let started = Instant::now();
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(&res, "x-hfb-attempts"), "2");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited the estimated time"
    );

    // Rate limited twice (Retry-After: 0), then answered: three attempts.
    r.answer(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "0")
            .set_body_json(json!({ "error": "slow down" })),
        2,
        1,
    )
    .await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(&res, "x-hfb-attempts"), "3");

    // A model that needs longer than the ceiling: 503 at once, with its estimate.
    r.answer(
        ResponseTemplate::new(503).set_body_json(
            json!({ "error": "Model acme/model is currently loading", "estimated_time": 120.0 }),
        ),
        1,
        1,
    )
    .await;
    let started = Instant::now();
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "did not wait 120 s"
    );
    assert_eq!(header_of(&res, "retry-after"), "120");
    assert_eq!(header_of(&res, "x-hfb-attempts"), "1");
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "503");
    let err = assert_error(res, 503, "service_unavailable").await;
    assert_eq!(err["error"]["details"]["reason"], "loading");
    assert_eq!(err["error"]["details"]["estimated_time"], 120.0);

    // Always rate limited: gives up after 3 attempts with the upstream's Retry-After.
    r.answer(
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(json!({ "error": "quota" })),
        3,
        1,
    )
    .await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(
        header_of(&res, "x-hfb-attempts"),
        "2",
        "the second wait would pass the 2 s ceiling"
    );
    let err = assert_error(res, 429, "rate_limited").await;
    assert!(err["error"]["message"].as_str().unwrap().contains("quota"));
}

#[tokio::test]
async fn timeouts_and_server_errors_are_not_retried_and_trip_the_breaker() {
    let r = remote("text-classification", &[]).await;
    // Slower than the 800 ms timeout: the upstream may have started, so no retry.
    r.answer(
        ResponseTemplate::new(200)
            .set_body_json(json!([{ "label": "A", "score": 1.0 }]))
            .set_delay(Duration::from_millis(1500)),
        1,
        1,
    )
    .await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(header_of(&res, "x-hfb-attempts"), "1");
    let err = assert_error(res, 504, "timeout").await;
    assert_eq!(err["error"]["details"]["reason"], "timeout");
    assert_eq!(r.upstream_calls().await, 1);

    // Two 500s: each answered 502 after one attempt; with the timeout, three failures in
    // a row open the breaker.
    r.answer(
        ResponseTemplate::new(500).set_body_json(json!({ "error": "CUDA error" })),
        2,
        1,
    )
    .await;
    r.answer(
        ResponseTemplate::new(200).set_body_json(json!([{ "label": "A", "score": 1.0 }])),
        u64::MAX,
        5,
    )
    .await;
    for _ in 0..2 {
        let res = r.infer(json!({ "inputs": "x" })).await;
        assert_eq!(header_of(&res, "x-hfb-attempts"), "1");
        assert_eq!(header_of(&res, "x-hfb-upstream-status"), "500");
        let err = assert_error(res, 502, "upstream_error").await;
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CUDA error"),
            "{err}"
        );
    }
    assert_eq!(r.upstream_calls().await, 3);

    // Open: answered at once without calling the upstream.
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(header_of(&res, "retry-after"), "1");
    assert_eq!(header_of(&res, "x-hfb-attempts"), "0");
    let err = assert_error(res, 503, "service_unavailable").await;
    assert_eq!(err["error"]["details"]["reason"], "circuit_open");
    assert_eq!(r.upstream_calls().await, 3);
    r.expect_metric("hfb_upstream_breaker_state", r#""#, 1)
        .await;

    // After the cool-down one probe goes through; it works, so the breaker closes.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(res.status(), 200);
    let res = r.infer(json!({ "inputs": "x" })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(r.upstream_calls().await, 5);
    r.expect_metric("hfb_upstream_breaker_state", r#""#, 0)
        .await;
    r.expect_metric("hfb_upstream_breaker_opened_total", r#""#, 1)
        .await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_retried_then_reported() {
    // The endpoint's URL has nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let r = remote_at(
        "text-classification",
        &[("HFB_METRICS_TOKEN", "scrape-me")],
        Some(url.clone()),
    )
    .await;
    let started = Instant::now();
    let res = r
        .app
        .post_as(
            &format!("/api/v1/deployments/{}/infer", r.id),
            &r.token,
            &json!({ "inputs": "x" }),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(header_of(&res, "x-hfb-attempts"), "3");
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "");
    let err = assert_error(res, 502, "upstream_error").await;
    assert_eq!(err["error"]["details"]["reason"], "unreachable");
    assert!(
        !err["error"]["message"].as_str().unwrap().contains(&url),
        "no internal URL in errors"
    );

    // With a metrics token, scrapers must send it.
    assert_eq!(r.app.get("/metrics").await.status(), 401);
    let res = reqwest::Client::new()
        .get(r.app.at("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let line = format!("hfb_upstream_retries_total{{deployment=\"{}\"}} 2", r.id);
    assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
}

const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// A running local deployment of all-MiniLM-L6-v2 (token, id).
async fn local_minilm(app: &TestApp) -> (String, String) {
    let (_, s) = app.signup("batcher").await;
    let created: Value = app
        .post_as(
            "/api/v1/deployments",
            &s.access,
            &json!({ "model_id": MINILM }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    wait_running(app, &s.access, &id).await;
    (s.access, id)
}

fn close(a: &Value, b: &Value) -> bool {
    let (a, b) = (a.as_array().unwrap(), b.as_array().unwrap());
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-4)
}

#[tokio::test]
async fn local_batches_answer_item_by_item_as_one_model_batch() {
    let app = crate::helpers::spawn_app_with_model(&[
        ("HFB_BATCH_MAX_ITEMS", "6"),
        ("HFB_BATCH_MAX_BYTES", "4096"),
    ])
    .await;
    let (token, id) = local_minilm(&app).await;
    let batch = |body: Value| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            app.post_as(&format!("/api/v1/deployments/{id}/batch"), &token, &body)
                .await
        }
    };
    let single = |inputs: Value| {
        let app = &app;
        let token = token.clone();
        let id = id.clone();
        async move {
            let res = app
                .post_as(
                    &format!("/api/v1/deployments/{id}/infer"),
                    &token,
                    &json!({ "inputs": inputs }),
                )
                .await;
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };

    // Good and bad items side by side: the bad ones fail alone, in place.
    let res = batch(json!({ "inputs": ["The cat sits on the mat.", "", "A dog runs.", 3] })).await;
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    assert_eq!(
        (out["succeeded"].as_u64(), out["failed"].as_u64()),
        (Some(2), Some(2)),
        "{out:#}"
    );
    let results = out["results"].as_array().unwrap();
    assert_eq!(
        results
            .iter()
            .map(|r| r["index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(results[0]["output"].as_array().unwrap().len(), 384);
    assert!(close(
        &results[0]["output"],
        &single(json!("The cat sits on the mat.")).await
    ));
    assert!(close(
        &results[2]["output"],
        &single(json!("A dog runs.")).await
    ));
    assert_eq!(results[1]["error"]["code"], "validation_failed");
    assert_eq!(
        results[1]["error"]["details"]["fields"][0]["field"],
        "inputs[1]"
    );
    assert_eq!(
        results[1]["error"]["message"],
        "inputs[1]: must be a non-empty string"
    );
    assert_eq!(
        results[3]["error"]["details"]["fields"][0]["field"],
        "inputs[3]"
    );
    assert!(results[0].get("error").is_none() && results[1].get("output").is_none());

    // Similarity items, scored like single calls.
    let item = json!({ "source_sentence": "A man is eating food.",
        "sentences": ["A man is eating a piece of bread.", "A man is riding a horse."] });
    let out: Value =
        batch(json!({ "inputs": [item, { "source_sentence": "x", "sentences": [] }] }))
            .await
            .json()
            .await
            .unwrap();
    let scores = &out["results"][0]["output"];
    assert!(scores[0].as_f64() > scores[1].as_f64(), "{out:#}");
    assert!(close(scores, &single(item.clone()).await));
    assert_eq!(
        out["results"][1]["error"]["details"]["fields"][0]["field"],
        "inputs[1].sentences"
    );

    // Refusing to truncate fails only the long item.
    let long = "word ".repeat(400);
    let out: Value = batch(
        json!({ "inputs": ["short", long, "also short"], "parameters": { "truncate": false } }),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(out["failed"], 1, "{out:#}");
    assert_eq!(out["results"][1]["error"]["code"], "validation_failed");
    assert!(
        out["results"][1]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tokens long")
    );
    assert!(close(
        &out["results"][2]["output"],
        &single(json!("also short")).await
    ));

    // Whole-batch errors.
    assert_error(
        batch(json!({ "inputs": [] })).await,
        422,
        "validation_failed",
    )
    .await;
    let err = assert_error(
        batch(json!({ "inputs": ["a"], "parameters": { "normalize": "yes" } })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        err["error"]["details"]["fields"][0]["field"],
        "parameters.normalize"
    );
    assert_error(
        batch(json!({ "inputs": vec!["a"; 7] })).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_error(
        batch(json!({ "inputs": ["a".repeat(5000)] })).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_error(batch(json!({ "inputs": "a" })).await, 400, "invalid_json").await;
    let res = reqwest::Client::new()
        .post(app.at(&format!("/api/v1/deployments/{id}/batch")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_json").await;
    assert_error(
        app.post_as(
            "/api/v1/deployments/nope/batch",
            &token,
            &json!({ "inputs": ["a"] }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn remote_batches_call_per_item_and_keep_failures_apart() {
    let r = remote("text-classification", &[]).await;
    Mock::given(method("POST"))
        .and(path(r.ep.as_str()))
        .and(wiremock::matchers::body_string_contains("explode"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "error": "boom" })))
        .with_priority(1)
        .mount(&r.server)
        .await;
    r.answer(
        ResponseTemplate::new(200).set_body_json(json!([{ "label": "POSITIVE", "score": 0.7 }])),
        u64::MAX,
        5,
    )
    .await;
    let res = r
        .app
        .post_as(
            &format!("/api/v1/deployments/{}/batch", r.id),
            &r.token,
            &json!({ "inputs": ["fine", "explode", "", "also fine"], "parameters": { "top_k": 1 } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    assert_eq!(
        (out["succeeded"].as_u64(), out["failed"].as_u64()),
        (Some(2), Some(2)),
        "{out:#}"
    );
    assert_eq!(out["results"][0]["output"][0]["label"], "POSITIVE");
    assert_eq!(out["results"][1]["error"]["code"], "upstream_error");
    assert_eq!(out["results"][2]["error"]["code"], "validation_failed");
    assert_eq!(out["results"][3]["output"][0]["score"], 0.7);
    assert_eq!(
        r.upstream_calls().await,
        3,
        "the invalid item never went upstream"
    );
    let sent = r.last_sent().await;
    assert_eq!(sent["parameters"], json!({ "top_k": 1 }));
}

/// A remote feature-extraction deployment: the vectors reach the caller exactly as the
/// upstream wrote them (hfb checks their shape on the bytes and never reformats a
/// number), on the task route, the Hugging Face route, the OpenAI route and in batches;
/// answers of the wrong shape are still 502s.
#[tokio::test]
async fn remote_embeddings_are_relayed_as_written_and_checked() {
    let r = remote("feature-extraction", &[("HFB_BREAKER_FAILURES", "100")]).await;
    let raw =
        |text: &'static str| ResponseTemplate::new(200).set_body_raw(text, "application/json");
    // Two inputs: the answer, number for number, in the upstream's own spelling.
    let two = "[[0.5, -2.5e-3, 1E+2],\n [0, -0.0, 12.25]]";
    Mock::given(method("POST"))
        .and(path(r.ep.as_str()))
        .and(wiremock::matchers::body_string_contains("second"))
        .respond_with(raw(two))
        .with_priority(1)
        .mount(&r.server)
        .await;
    let one = "[[0.125,-7e-5,3]]";
    r.answer(raw(one), u64::MAX, 5).await;

    let res = r.infer(json!({ "inputs": ["first", "second"] })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(&res, "x-hfb-attempts"), "1");
    assert_eq!(res.text().await.unwrap(), two, "relayed byte for byte");

    let res = r
        .app
        .post_as(
            "/models/acme/model",
            &r.token,
            &json!({ "inputs": ["first"] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), one);

    let res = r.embeddings(json!(["first", "second"])).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header_of(&res, "x-hfb-upstream-status"), "200");
    let text = res.text().await.unwrap();
    assert!(
        text.contains("[0.5, -2.5e-3, 1E+2]") && text.contains("[0, -0.0, 12.25]"),
        "the vectors as the upstream wrote them: {text}"
    );
    let answer: Value = serde_json::from_str(&text).expect("the OpenAI answer is JSON");
    assert_eq!(answer["object"], "list");
    assert_eq!(answer["model"], "acme/model");
    assert_eq!(answer["data"][1]["object"], "embedding");
    assert_eq!(answer["data"][1]["index"], 1);
    assert_eq!(answer["data"][0]["embedding"], json!([0.5, -0.0025, 100.0]));
    assert_eq!(answer["data"][1]["embedding"], json!([0, -0.0, 12.25]));
    assert!(answer["usage"]["prompt_tokens"].is_u64(), "{answer}");
    assert_eq!(
        r.last_sent().await,
        json!({ "inputs": ["first", "second"] })
    );

    let res = r
        .app
        .post_as(
            &format!("/api/v1/deployments/{}/batch", r.id),
            &r.token,
            &json!({ "inputs": ["first", "second"] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    assert_eq!(
        out["results"][0]["output"],
        json!([[0.125, -7e-5, 3]]),
        "{out:#}"
    );
    assert_eq!(
        out["results"][1]["output"][1],
        json!([0, -0.0, 12.25]),
        "{out:#}"
    );

    // Wrong shapes, and numbers JSON does not have, are the upstream's fault.
    for (answer, why) in [
        ("[[0.1]]", "expected 2 answers"),
        ("[[0.1], [\"x\"]]", "not a feature-extraction response"),
        ("[[0.1], []]", "not a feature-extraction response"),
        ("[[0.1], [NaN]]", "not JSON"),
    ] {
        r.answer(raw(answer), 1, 1).await;
        let res = r.embeddings(json!(["a", "b"])).await;
        assert_eq!(res.status(), 502, "{answer}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "upstream_error", "{answer}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{answer}: {message}");
    }
    r.expect_metric(
        "hfb_upstream_calls_total",
        r#",outcome="invalid_response""#,
        4,
    )
    .await;
}
