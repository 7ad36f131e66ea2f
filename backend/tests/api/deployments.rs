//! Deployments: one-click local deploy of all-MiniLM-L6-v2 with real inference and
//! scale-to-zero, versions and rollback, idempotent create, validation, roles, the
//! Inference Endpoints target against wiremock, and leases across two instances.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{TestApp, assert_error, spawn_app_in, spawn_app_with, spawn_app_with_model};

const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";

async fn create(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_as("/api/v1/deployments", token, &body).await
}

async fn get_deployment(app: &TestApp, token: &str, id: &str) -> Value {
    let res = app
        .get_as(&format!("/api/v1/deployments/{id}"), token)
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Polls until the deployment's status is `status` (panics with the last state after 60 s).
async fn wait_for_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = get_deployment(app, token, id).await;
        if d["deployment"]["status"] == status {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "deployment never reached {status}: {d:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls until version `version` runs.
async fn wait_for_running_version(app: &TestApp, token: &str, id: &str, version: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = get_deployment(app, token, id).await;
        if d["deployment"]["status"] == "running" && d["deployment"]["running_version"] == version {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "version {version} never ran: {d:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Deletes the deployment and polls until it is gone (the reconciler tears it down first).
async fn delete_and_wait_until_gone(app: &TestApp, token: &str, id: &str) {
    let res = app
        .delete_as(&format!("/api/v1/deployments/{id}"), token)
        .await;
    assert_eq!(res.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(60);
    while app
        .get_as(&format!("/api/v1/deployments/{id}"), token)
        .await
        .status()
        != 404
    {
        assert!(Instant::now() < deadline, "never removed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST /v1/embeddings` (OpenAI) with a bearer token.
async fn embeddings(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_as("/v1/embeddings", token, &body).await
}

/// `POST /api/v1/deployments/{id}/{action}` (pause, resume, retry, rollback).
async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> reqwest::Response {
    app.post_as(&format!("/api/v1/deployments/{id}/{action}"), token, &body)
        .await
}

async fn infer(app: &TestApp, token: &str, id: &str, body: Value) -> reqwest::Response {
    app.post_as(&format!("/api/v1/deployments/{id}/infer"), token, &body)
        .await
}

#[tokio::test]
async fn one_click_local_deploy_serves_minilm_and_scales_to_zero() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("deployer").await;
    // The local model is in the catalog, so the task comes from there.
    let res = app
        .get_as(&format!("/api/v1/models/{MINILM}"), &s.access)
        .await;
    assert_eq!(res.status(), 200);
    let model: Value = res.json().await.unwrap();
    assert_eq!(model["model"]["source"], "local");

    let res = create(&app, &s.access, json!({ "model_id": MINILM })).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("location").is_some());
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["target"], "local");
    assert_eq!(created["name"], "all-minilm-l6-v2");
    assert_eq!(created["current_version"], 1);
    assert_eq!(created["spec"]["scaling"]["min_replicas"], 0);
    // The defaults are the ones the targets list announces (a replica per core locally).
    let targets: Value = app
        .get_as("/api/v1/deployments/targets", &s.access)
        .await
        .json()
        .await
        .unwrap();
    let local = targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "local")
        .unwrap();
    assert_eq!(created["spec"]["scaling"], local["default_scaling"]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 8));
    assert_eq!(created["spec"]["scaling"]["max_replicas"], cores);

    let running = wait_for_status(&app, &s.access, &id, "running").await;
    assert_eq!(running["deployment"]["running_version"], 1);
    let kinds: Vec<&str> = running["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"created") && kinds.contains(&"status"),
        "{kinds:?}"
    );

    // Real embeddings: 384 dimensions, normalized like sentence-transformers.
    let res = infer(
        &app,
        &s.access,
        &id,
        json!({ "inputs": "The cat sits on the mat." }),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-hfb-cold-start"], "false");
    let vector: Vec<f32> = res.json().await.unwrap();
    assert_eq!(vector.len(), 384);
    let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
    let res = infer(
        &app,
        &s.access,
        &id,
        json!({ "inputs": { "source_sentence": "A man is eating food.",
            "sentences": ["A man is eating a piece of bread.", "A monkey is playing drums."] } }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let scores: Vec<f32> = res.json().await.unwrap();
    assert!(scores[0] > scores[1], "{scores:?}");

    // Scale-to-zero after one idle second: a new version with that setting.
    let res = app
        .authed(
            reqwest::Method::PATCH,
            &format!("/api/v1/deployments/{id}"),
            &s.access,
        )
        .json(&json!({ "scaling": { "min_replicas": 0, "max_replicas": 1,
            "scale_to_zero_after_secs": 1, "target_concurrency": 4 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["current_version"], 2);
    wait_for_status(&app, &s.access, &id, "scaled_to_zero").await;
    assert!(!app.state.local.is_loaded(&id));

    // The next call loads it again.
    let res = infer(&app, &s.access, &id, json!({ "inputs": ["one", "two"] })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-hfb-cold-start"], "true");
    let vectors: Vec<Vec<f32>> = res.json().await.unwrap();
    assert_eq!(vectors.len(), 2);
    let d = get_deployment(&app, &s.access, &id).await;
    assert_eq!(d["deployment"]["status"], "running");

    // Pause unloads and refuses calls; resume serves again; delete removes it.
    let res = act(&app, &s.access, &id, "pause", json!({})).await;
    assert_eq!(res.status(), 200);
    wait_for_status(&app, &s.access, &id, "paused").await;
    assert_error(
        infer(&app, &s.access, &id, json!({ "inputs": "x" })).await,
        409,
        "conflict",
    )
    .await;
    let res = act(&app, &s.access, &id, "resume", json!({})).await;
    assert_eq!(res.status(), 200);
    wait_for_status(&app, &s.access, &id, "running").await;
    delete_and_wait_until_gone(&app, &s.access, &id).await;
    assert!(!app.state.local.is_loaded(&id));
}

#[tokio::test]
async fn inference_input_errors_are_clear() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("infer-bad").await;
    let created: Value = create(&app, &s.access, json!({ "model_id": MINILM }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    wait_for_status(&app, &s.access, &id, "running").await;
    for (body, field) in [
        (json!({}), "inputs"),
        (json!({ "inputs": "" }), "inputs"),
        (json!({ "inputs": [] }), "inputs"),
        (json!({ "inputs": ["ok", 3] }), "inputs[1]"),
        (
            json!({ "inputs": "x", "parameters": { "normalize": "yes" } }),
            "parameters.normalize",
        ),
        (
            json!({ "inputs": { "source_sentence": "a" } }),
            "inputs.sentences",
        ),
    ] {
        let err = assert_error(
            infer(&app, &s.access, &id, body.clone()).await,
            422,
            "validation_failed",
        )
        .await;
        let fields = err["error"]["details"]["fields"].to_string();
        assert!(fields.contains(field), "{body}: {fields}");
    }
    // Refusing over-long inputs instead of truncating them.
    let long = "word ".repeat(600);
    let err = assert_error(
        infer(
            &app,
            &s.access,
            &id,
            json!({ "inputs": long, "parameters": { "truncate": false } }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err["error"]["message"].as_str().unwrap().contains("tokens"));
    let res = infer(&app, &s.access, &id, json!({ "inputs": long })).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-hfb-truncated"], "1");
    assert_error(
        infer(&app, &s.access, "no-such-id", json!({ "inputs": "x" })).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn versions_rollback_and_compare_and_set() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("versions").await;
    let created: Value = create(
        &app,
        &s.access,
        json!({ "model_id": MINILM, "name": "emb" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let patch = |body: Value| {
        app.authed(
            reqwest::Method::PATCH,
            &format!("/api/v1/deployments/{id}"),
            &s.access,
        )
        .json(&body)
        .send()
    };
    let res = patch(json!({ "env": { "LOG_LEVEL": "debug" }, "expected_version": 1 }))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A change based on a stale version is refused, and says why.
    let err = assert_error(
        patch(json!({ "revision": "v2", "expected_version": 1 }))
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "version_moved");
    // Nothing changed: no new version.
    let same: Value = patch(json!({ "env": { "LOG_LEVEL": "debug" } }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(same["current_version"], 2);
    let res = act(&app, &s.access, &id, "rollback", json!({ "version": 1 })).await;
    assert_eq!(res.status(), 200);
    let rolled: Value = res.json().await.unwrap();
    assert_eq!(rolled["current_version"], 3);
    assert_eq!(rolled["spec"]["env"], json!({}));
    let d = wait_for_running_version(&app, &s.access, &id, 3).await;
    let versions: Vec<u64> = d["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
    assert_eq!(d["versions"][0]["note"], "rollback to v1");
    assert_eq!(d["versions"][1]["spec"]["env"]["LOG_LEVEL"], "debug");
    assert_eq!(d["deployment"]["running_version"], 3);
    assert_error(
        act(&app, &s.access, &id, "rollback", json!({ "version": 9 })).await,
        422,
        "validation_failed",
    )
    .await;
    // Bad scaling is refused with every field named.
    let err = assert_error(
        patch(json!({ "scaling": { "min_replicas": 5, "max_replicas": 2,
            "scale_to_zero_after_secs": 0, "target_concurrency": 0 } }))
        .await
        .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let fields = err["error"]["details"]["fields"].to_string();
    for f in [
        "scaling.min_replicas",
        "scaling.scale_to_zero_after_secs",
        "scaling.target_concurrency",
    ] {
        assert!(fields.contains(f), "{fields}");
    }
}

#[tokio::test]
async fn create_is_idempotent_with_a_key() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("idem").await;
    let send = |key: &str, body: Value| {
        app.authed(reqwest::Method::POST, "/api/v1/deployments", &s.access)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send("key-1", json!({ "model_id": MINILM })).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send("key-1", json!({ "model_id": MINILM })).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let err = assert_error(
        send("key-1", json!({ "model_id": MINILM, "name": "other" }))
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    assert_eq!(err["error"]["details"]["reason"], "idempotency_key_reused");
    // Without a key, the same request makes a second deployment with the next free name.
    let second: Value = create(&app, &s.access, json!({ "model_id": MINILM }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["name"], "all-minilm-l6-v2-2");
    assert_error(
        send(" ", json!({ "model_id": MINILM })).await.unwrap(),
        400,
        "bad_request",
    )
    .await;
    let list: Vec<Value> = app
        .get_as("/api/v1/deployments", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
}

#[tokio::test]
async fn bad_creates_say_what_is_wrong() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("bad-create").await;
    let err = assert_error(
        create(&app, &s.access, json!({ "model_id": "no/such-model" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err.to_string().contains("task"), "{err}");
    let err = assert_error(
        create(
            &app,
            &s.access,
            json!({ "model_id": "no/such-model", "task": "feature-extraction" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err.to_string().contains("hfb models add"), "{err}");
    let err = assert_error(
        create(
            &app,
            &s.access,
            json!({ "model_id": MINILM, "target": "hf-endpoint" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(err.to_string().contains("HUGGING_FACE_API_KEY"), "{err}");
    assert_error(
        create(
            &app,
            &s.access,
            json!({ "model_id": MINILM, "target": "mars" }),
        )
        .await,
        400,
        "invalid_json",
    )
    .await;
    assert_error(
        create(&app, &s.access, json!({ "model_id": "$where/../x" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        create(
            &app,
            &s.access,
            json!({ "model_id": MINILM, "task": "text-generation" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        create(
            &app,
            &s.access,
            json!({ "model_id": MINILM, "name": "Bad Name!" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let targets: Vec<Value> = app
        .get_as("/api/v1/deployments/targets", &s.access)
        .await
        .json()
        .await
        .unwrap();
    let local = targets.iter().find(|t| t["kind"] == "local").unwrap();
    assert_eq!(local["configured"], true);
    let endpoint = targets.iter().find(|t| t["kind"] == "hf-endpoint").unwrap();
    assert_eq!(endpoint["configured"], false);
    assert!(
        endpoint["reason"]
            .as_str()
            .unwrap()
            .contains("HUGGING_FACE_API_KEY")
    );
}

#[tokio::test]
async fn roles_scopes_and_teams_bound_deployments() {
    let app = spawn_app_with_model(&[]).await;
    let (_, owner) = app.signup("dep-owner").await;
    let created: Value = create(&app, &owner.access, json!({ "model_id": MINILM }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    // Another user's team cannot see it.
    let (_, stranger) = app.signup("dep-stranger").await;
    assert_error(
        app.get_as(&format!("/api/v1/deployments/{id}"), &stranger.access)
            .await,
        404,
        "not_found",
    )
    .await;
    let list: Vec<Value> = app
        .get_as("/api/v1/deployments", &stranger.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(list.is_empty());
    // A read-only key can list but not deploy or call.
    let (key, _) = app.create_key(&owner.access, &["read"], None).await;
    let list: Vec<Value> = app
        .get_as("/api/v1/deployments", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_error(
        create(&app, &key, json!({ "model_id": MINILM })).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        infer(&app, &key, id, json!({ "inputs": "x" })).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(app.get("/api/v1/deployments").await, 401, "unauthorized").await;
}

/// A stateful stand-in for the Inference Endpoints API: endpoints exist once created, go
/// `pending` → `initializing` → `running` over successive reads (or `failed`), and every
/// create is counted.
#[derive(Clone, Default)]
struct FakeEndpoints {
    created: Arc<Mutex<Vec<String>>>,
    reads: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    fail: bool,
    /// While false, endpoints stay `initializing`.
    hold: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl FakeEndpoints {
    fn body(name: &str, state: &str, message: Option<&str>) -> Value {
        json!({
            "name": name,
            "type": "protected",
            "model": { "repository": MINILM, "revision": "main", "task": "feature-extraction",
                "framework": "pytorch", "image": { "huggingface": {} }, "env": {}, "secrets": {} },
            "compute": { "accelerator": "cpu", "instanceType": "intel-spr", "instanceSize": "x2",
                "scaling": { "minReplica": 0, "maxReplica": 1, "scaleToZeroTimeout": 15 } },
            "provider": { "vendor": "aws", "region": "us-east-1" },
            "status": { "state": state, "message": message,
                "url": (state == "running").then(|| format!("https://{name}.endpoints.example")),
                "readyReplica": 0, "targetReplica": 1,
                "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z" }
        })
    }
}

impl Respond for FakeEndpoints {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let parts: Vec<&str> = request
            .url
            .path()
            .trim_start_matches('/')
            .split('/')
            .collect();
        match (request.method.as_str(), parts.as_slice()) {
            ("POST", ["v2", "endpoint", _ns]) => {
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                let name = body["name"].as_str().unwrap().to_owned();
                let mut created = self.created.lock().unwrap();
                if created.contains(&name) {
                    return ResponseTemplate::new(409)
                        .set_body_json(json!({ "error": "name taken" }));
                }
                created.push(name.clone());
                ResponseTemplate::new(202).set_body_json(Self::body(&name, "pending", None))
            }
            ("GET", ["v2", "endpoint", _ns, name]) => {
                if !self.created.lock().unwrap().iter().any(|n| n == name) {
                    return ResponseTemplate::new(404)
                        .set_body_json(json!({ "error": "not found" }));
                }
                let mut reads = self.reads.lock().unwrap();
                let n = reads.entry((*name).to_owned()).or_default();
                *n += 1;
                let held = self
                    .hold
                    .as_ref()
                    .is_some_and(|ready| !ready.load(std::sync::atomic::Ordering::SeqCst));
                let body = match (if held { 1 } else { *n }, self.fail) {
                    (1, _) => Self::body(name, "initializing", None),
                    (_, true) => {
                        Self::body(name, "failed", Some("the container crashed: out of memory"))
                    }
                    _ => Self::body(name, "running", None),
                };
                ResponseTemplate::new(200).set_body_json(body)
            }
            ("DELETE", ["v2", "endpoint", _ns, name]) => {
                self.created.lock().unwrap().retain(|n| n != name);
                ResponseTemplate::new(200).set_body_json(json!({}))
            }
            _ => ResponseTemplate::new(500),
        }
    }
}

async fn fake_endpoints_server(fake: FakeEndpoints) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex("^/v2/endpoint/.*"))
        .respond_with(fake)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

fn endpoint_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("HUGGING_FACE_API_KEY", "hf_test_token".to_owned()),
        ("HFB_HF_NAMESPACE", "acme".to_owned()),
        ("HFB_HF_API_ENDPOINT", format!("{}/v2", server.uri())),
    ]
}

#[tokio::test]
async fn inference_endpoint_target_goes_from_pending_to_running_and_is_deleted() {
    let fake = FakeEndpoints::default();
    let server = fake_endpoints_server(fake.clone()).await;
    let env = endpoint_env(&server);
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&overrides).await;
    let (_, s) = app.signup("endpoint").await;
    let res = create(
        &app,
        &s.access,
        json!({ "model_id": MINILM, "target": "hf-endpoint", "task": "feature-extraction" }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["spec"]["instance_type"], "intel-spr");
    let id = created["id"].as_str().unwrap().to_owned();
    let d = wait_for_status(&app, &s.access, &id, "running").await;
    assert!(
        d["deployment"]["endpoint_url"]
            .as_str()
            .unwrap()
            .starts_with("https://"),
        "{d:#}"
    );
    let statuses: Vec<String> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        statuses
            .iter()
            .any(|m| m.starts_with("provisioning") || m.starts_with("initializing")),
        "{statuses:?}"
    );
    assert_eq!(fake.created.lock().unwrap().len(), 1);
    delete_and_wait_until_gone(&app, &s.access, &id).await;
    assert!(
        fake.created.lock().unwrap().is_empty(),
        "the endpoint was deleted upstream"
    );
}

#[tokio::test]
async fn a_failed_endpoint_leaves_a_readable_reason_and_can_be_retried() {
    let fake = FakeEndpoints {
        fail: true,
        ..FakeEndpoints::default()
    };
    let server = fake_endpoints_server(fake.clone()).await;
    let env = endpoint_env(&server);
    let overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = spawn_app_with(&overrides).await;
    let (_, s) = app.signup("endpoint-fail").await;
    let created: Value = create(
        &app,
        &s.access,
        json!({ "model_id": MINILM, "target": "hf-endpoint", "task": "feature-extraction" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let d = wait_for_status(&app, &s.access, &id, "failed").await;
    let message = d["deployment"]["status_message"].as_str().unwrap();
    assert!(message.contains("out of memory"), "{message}");
    assert_eq!(d["deployment"]["reconciling"], false);
    let res = act(&app, &s.access, &id, "retry", json!({})).await;
    assert_eq!(res.status(), 200);
    let retried: Value = res.json().await.unwrap();
    assert_eq!(retried["reconciling"], true);
    wait_for_status(&app, &s.access, &id, "failed").await;
    // Retrying something that did not fail is refused.
    let created: Value = create(
        &app,
        &s.access,
        json!({ "model_id": "a/b", "target": "hf-endpoint", "task": "feature-extraction" }),
    )
    .await
    .json()
    .await
    .unwrap();
    let other = created["id"].as_str().unwrap();
    let res = app
        .post_as(
            &format!("/api/v1/deployments/{other}/retry"),
            &s.access,
            &json!({}),
        )
        .await;
    assert!(
        res.status() == 409 || res.status() == 200,
        "{}",
        res.status()
    );
}

#[tokio::test]
async fn two_instances_never_act_on_one_deployment_at_once() {
    let fake = FakeEndpoints::default();
    let server = fake_endpoints_server(fake.clone()).await;
    let env = endpoint_env(&server);
    let mut overrides: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    overrides.push(("HFB_RECONCILE_INTERVAL_MS", "10"));
    // One SQLite file shared by two servers, as two instances share one database.
    let shared = tempfile::tempdir().unwrap();
    let data = shared.path().display().to_string();
    overrides.push(("HFB_DATA_DIR", &data));
    // On the MongoDB adapter the two servers share one database too.
    let database = format!("hfb_api_lease_{}", uuid::Uuid::new_v4().simple());
    overrides.push(("HFB_MONGODB_DATABASE", &database));
    let a = spawn_app_in(tempfile::tempdir().unwrap(), &overrides).await;
    let b = spawn_app_in(tempfile::tempdir().unwrap(), &overrides).await;
    let (email, s) = a.signup("lease").await;
    let sb = b.login(&email, crate::helpers::PASSWORD).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let app = if i % 2 == 0 { &a } else { &b };
        let token = if i % 2 == 0 { &s.access } else { &sb.access };
        let created: Value = create(
            app,
            token,
            json!({ "model_id": format!("org/model-{i}"), "target": "hf-endpoint", "task": "feature-extraction" }),
        )
        .await
        .json()
        .await
        .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        wait_for_status(&a, &s.access, id, "running").await;
    }
    let created = fake.created.lock().unwrap().clone();
    let unique: HashSet<&String> = created.iter().collect();
    assert_eq!(created.len(), 6, "one create per deployment: {created:?}");
    assert_eq!(unique.len(), 6);
}

/// Reads the address a spawned `hfb serve` logs (JSON logs) from its stdout.
fn wait_for_address(child: &mut std::process::Child) -> String {
    use std::io::BufRead;
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on ".len()..];
            let url: String = rest
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '"')
                .collect();
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return url;
        }
    }
    panic!("hfb did not log its address");
}

fn spawn_hfb(data_dir: &std::path::Path, env: &[(&str, String)]) -> (std::process::Child, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hfb"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HFB_BIND", "127.0.0.1:0")
        .env("HFB_DATA_DIR", data_dir)
        .env("HFB_STATIC_DIR", data_dir.join("dist"))
        .env("HFB_LOG_FORMAT", "json")
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env("HFB_CATALOG_SYNC_INTERVAL_SECS", "0")
        .env("HFB_RATE_LIMIT_AUTH_PER_MIN", "100000")
        .env("HFB_RECONCILE_INTERVAL_MS", "50")
        .env("HFB_RECONCILE_POLL_SECS", "0")
        .env("HFB_RECONCILE_LEASE_SECS", "2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn hfb");
    let url = wait_for_address(&mut child);
    (child, url)
}

#[tokio::test]
async fn a_restart_after_kill_9_finishes_the_deployment() {
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let fake = FakeEndpoints {
        hold: Some(ready.clone()),
        ..FakeEndpoints::default()
    };
    let server = fake_endpoints_server(fake.clone()).await;
    let env = endpoint_env(&server);
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(data.path().join("dist")).unwrap();
    std::fs::write(data.path().join("dist/index.html"), "<!doctype html>").unwrap();
    let client = reqwest::Client::new();

    let (mut first, url) = spawn_hfb(data.path(), &env);
    let res = client
        .post(format!("{url}/api/v1/auth/signup"))
        .json(&json!({ "email": crate::helpers::unique_email("crash"), "password": crate::helpers::PASSWORD, "display_name": "crash" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created: Value = client
        .post(format!("{url}/api/v1/deployments"))
        .bearer_auth(&token)
        .json(&json!({ "model_id": MINILM, "target": "hf-endpoint", "task": "feature-extraction" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let status_at = |url: String| {
        let client = client.clone();
        let token = token.clone();
        let id = id.clone();
        async move {
            let d: Value = client
                .get(format!("{url}/api/v1/deployments/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            d["deployment"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        }
    };
    // Mid-deployment: the endpoint exists and is initializing.
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_at(url.clone()).await != "initializing" {
        assert!(Instant::now() < deadline, "never started provisioning");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.kill().unwrap(); // SIGKILL: no graceful shutdown, the lease stays taken
    first.wait().unwrap();

    ready.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut second, url) = spawn_hfb(data.path(), &env);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status_at(url.clone()).await != "running" {
        assert!(
            Instant::now() < deadline,
            "the restarted server did not finish the deployment"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(
        fake.created.lock().unwrap().len(),
        1,
        "the restart found the endpoint the first run created instead of creating another"
    );
}

fn moto_endpoint() -> String {
    std::env::var("HFB_TEST_LAMBDA_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "HFB_TEST_LAMBDA_ENDPOINT is not set: start moto_server (scripts/test.sh does it through \
             scripts/lib/moto.sh) and export HFB_TEST_LAMBDA_ENDPOINT=http://127.0.0.1:5055 with \
             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set to any value"
        )
    })
}

/// moto routes by the credential scope of the Authorization header and does not check
/// signatures, so the role Lambda needs is one form POST.
async fn moto_role(endpoint: &str) -> String {
    let name = format!("hfb-role-{}", uuid::Uuid::new_v4().simple());
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let res = reqwest::Client::new()
        .post(endpoint)
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .form(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name.as_str()),
            ("AssumeRolePolicyDocument", policy),
        ])
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    text.split("<Arn>")
        .nth(1)
        .and_then(|rest| rest.split("</Arn>").next())
        .unwrap_or_else(|| panic!("CreateRole on moto failed: {text}"))
        .to_owned()
}

#[tokio::test]
async fn lambda_target_creates_updates_and_deletes_the_function_on_moto() {
    let endpoint = moto_endpoint();
    let role = moto_role(&endpoint).await;
    let app = spawn_app_with(&[
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("HFB_LAMBDA_ROLE_ARN", role.as_str()),
        (
            "HFB_LAMBDA_IMAGE_URI",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/hfb-serve:1",
        ),
    ])
    .await;
    let (_, s) = app.signup("lambda").await;
    let res = create(
        &app,
        &s.access,
        json!({ "model_id": MINILM, "target": "aws-lambda", "task": "feature-extraction",
            "scaling": { "min_replicas": 0, "max_replicas": 3, "scale_to_zero_after_secs": 900, "target_concurrency": 1 } }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["spec"]["instance_size"], "2048");
    let id = created["id"].as_str().unwrap().to_owned();
    let d = wait_for_status(&app, &s.access, &id, "running").await;
    let url = d["deployment"]["endpoint_url"].as_str().unwrap_or_default();
    assert!(url.contains("lambda-url"), "{d:#}");

    // The version's manifest is in the artifact store (local folder by default).
    let artifacts = app.data_dir.path().join("artifacts");
    let mut manifests = Vec::new();
    let mut stack = vec![artifacts];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                stack.push(entry.path());
            } else if let Ok(text) = std::fs::read_to_string(entry.path()) {
                manifests.push(text);
            }
        }
    }
    assert!(
        manifests
            .iter()
            .any(|m| m.contains("hfb.deployment/v1") && m.contains(&id)),
        "no manifest for {id} among {} artifacts",
        manifests.len()
    );

    // A new memory size is a new version, applied to the function.
    let res = app
        .authed(
            reqwest::Method::PATCH,
            &format!("/api/v1/deployments/{id}"),
            &s.access,
        )
        .json(&json!({ "instance_size": "1024" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    wait_for_running_version(&app, &s.access, &id, 2).await;
    delete_and_wait_until_gone(&app, &s.access, &id).await;
}

/// A stand-in for the Hub's Spaces API: remembers created Spaces and committed files, and
/// reports `BUILDING` on the first runtime read after a commit, `RUNNING` after.
#[derive(Clone, Default)]
struct FakeSpaces {
    created: Arc<Mutex<Vec<String>>>,
    committed: Arc<Mutex<Vec<String>>>,
    runtime_reads: Arc<Mutex<usize>>,
}

impl Respond for FakeSpaces {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        if method == "POST" && path == "/api/repos/create" {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body["type"], "space", "{body}");
            let name = format!(
                "{}/{}",
                body["organization"].as_str().unwrap_or("acme"),
                body["name"].as_str().unwrap()
            );
            self.created.lock().unwrap().push(name.clone());
            return ResponseTemplate::new(200).set_body_json(
                json!({ "url": format!("https://huggingface.co/spaces/{name}"), "name": name }),
            );
        }
        if method == "DELETE" && path == "/api/repos/delete" {
            self.created.lock().unwrap().clear();
            return ResponseTemplate::new(200).set_body_json(json!({}));
        }
        if method == "POST" && path.contains("/preupload/") {
            return ResponseTemplate::new(200).set_body_json(json!({ "files": [
                { "path": "README.md", "uploadMode": "regular", "shouldIgnore": false },
                { "path": "app.py", "uploadMode": "regular", "shouldIgnore": false },
                { "path": "requirements.txt", "uploadMode": "regular", "shouldIgnore": false } ] }));
        }
        if method == "POST" && path.contains("/commit/") {
            let text = String::from_utf8_lossy(&request.body).to_string();
            self.committed.lock().unwrap().push(text);
            return ResponseTemplate::new(200).set_body_json(json!({ "success": true, "commitOid": "9f1c2e8a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e", "commitUrl": "https://huggingface.co/x" }));
        }
        let runtime = |stage: &str| {
            json!({ "stage": stage, "hardware": { "current": "cpu-basic", "requested": "cpu-basic" },
            "gcTimeout": 900, "domains": [{ "domain": "acme-space.hf.space", "stage": "READY" }] })
        };
        if path.ends_with("/hardware") || path.ends_with("/sleeptime") {
            return ResponseTemplate::new(200).set_body_json(runtime("BUILDING"));
        }
        if method == "GET" && path.ends_with("/runtime") {
            let mut reads = self.runtime_reads.lock().unwrap();
            *reads += 1;
            let stage = if *reads == 1 { "BUILDING" } else { "RUNNING" };
            return ResponseTemplate::new(200).set_body_json(runtime(stage));
        }
        ResponseTemplate::new(404).set_body_json(json!({ "error": format!("{method} {path}") }))
    }
}

#[tokio::test]
async fn space_target_creates_commits_the_app_and_waits_for_running() {
    let fake = FakeSpaces::default();
    let server = MockServer::start().await;
    Mock::given(path_regex("^/api/.*"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let hub = server.uri();
    let app = spawn_app_with(&[
        ("HF_ENDPOINT", hub.as_str()),
        ("HFB_CATALOG_LIVE", "false"),
        ("HUGGING_FACE_API_KEY", "hf_test_token"),
        ("HFB_HF_NAMESPACE", "acme"),
    ])
    .await;
    let (_, s) = app.signup("space").await;
    let res = create(
        &app,
        &s.access,
        json!({ "model_id": MINILM, "target": "hf-space", "task": "sentence-similarity" }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = wait_for_status(&app, &s.access, &id, "running").await;
    let url = d["deployment"]["endpoint_url"].as_str().unwrap();
    assert!(url.starts_with("https://acme-space.hf.space/"), "{url}");
    assert_eq!(fake.created.lock().unwrap().len(), 1);
    let commits = fake.committed.lock().unwrap().clone();
    assert_eq!(commits.len(), 1, "one commit for version 1");
    assert!(commits[0].contains("\"key\":\"header\""), "{}", commits[0]);
    assert!(commits[0].contains("app.py") && commits[0].contains("requirements.txt"));
    delete_and_wait_until_gone(&app, &s.access, &id).await;
    assert!(
        fake.created.lock().unwrap().is_empty(),
        "the Space was deleted"
    );
}

#[tokio::test]
async fn subscribed_websockets_get_their_teams_deployment_updates_only() {
    use futures_util::{SinkExt, StreamExt};
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("ws-dep").await;
    let (_, other) = app.signup("ws-other").await;
    let (mut mine, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let (mut theirs, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let subscribe = |token: &str| {
        tokio_tungstenite::tungstenite::Message::Text(
            json!({ "type": "subscribe", "token": token })
                .to_string()
                .into(),
        )
    };
    mine.send(subscribe(&s.access)).await.unwrap();
    theirs.send(subscribe(&other.access)).await.unwrap();
    // A bad token is refused with a clear error, not a disconnect.
    let (mut bad, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    bad.send(subscribe("not-a-token")).await.unwrap();

    async fn next_of(
        ws: &mut (
                 impl StreamExt<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin
             ),
        kind: &str,
        deadline: Duration,
    ) -> Option<Value> {
        let end = Instant::now() + deadline;
        while Instant::now() < end {
            let Ok(Some(Ok(msg))) =
                tokio::time::timeout(Duration::from_millis(200), ws.next()).await
            else {
                continue;
            };
            if let tokio_tungstenite::tungstenite::Message::Text(text) = msg {
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["type"] == kind {
                    return Some(v);
                }
            }
        }
        None
    }
    assert!(
        next_of(&mut mine, "subscribed", Duration::from_secs(5))
            .await
            .is_some()
    );
    assert!(
        next_of(&mut theirs, "subscribed", Duration::from_secs(5))
            .await
            .is_some()
    );
    let err = next_of(&mut bad, "error", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(err["code"], "unauthorized");

    let created: Value = create(&app, &s.access, json!({ "model_id": MINILM }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let end = Instant::now() + Duration::from_secs(60);
    let mut saw_running = false;
    while Instant::now() < end && !saw_running {
        if let Some(update) = next_of(&mut mine, "deployment", Duration::from_secs(1)).await {
            assert_eq!(update["deployment"]["id"], id);
            saw_running = update["deployment"]["status"] == "running";
        }
    }
    assert!(
        saw_running,
        "the owner's socket saw the deployment reach running"
    );
    assert!(
        next_of(&mut theirs, "deployment", Duration::from_millis(500))
            .await
            .is_none(),
        "another team's socket got nothing"
    );
}

#[tokio::test]
async fn hugging_face_and_openai_compatible_routes_reach_the_teams_deployment() {
    let app = spawn_app_with_model(&[]).await;
    let (_, s) = app.signup("compat").await;
    let (key, _) = app
        .create_key(&s.access, &["read", "inference"], None)
        .await;
    // No deployment yet: a clear 404 in each platform's shape.
    let err = assert_error(
        app.post_as(
            &format!("/models/{MINILM}"),
            &key,
            &json!({ "inputs": "x" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deploy it first")
    );
    let res = embeddings(&app, &key, json!({ "model": MINILM, "input": "x" })).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error", "{body}");

    let created: Value = create(&app, &s.access, json!({ "model_id": MINILM }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    wait_for_status(&app, &s.access, id, "running").await;

    let res = app
        .post_as(
            &format!("/models/{MINILM}"),
            &key,
            &json!({ "inputs": ["a", "b"] }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let vectors: Vec<Vec<f32>> = res.json().await.unwrap();
    assert_eq!((vectors.len(), vectors[0].len()), (2, 384));
    let res = app
        .post_as(
            &format!("/pipeline/sentence-similarity/{MINILM}"),
            &key,
            &json!({ "inputs": { "source_sentence": "hi", "sentences": ["hello", "tax law"] } }),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post_as(
            &format!("/pipeline/text-generation/{MINILM}"),
            &key,
            &json!({ "inputs": "x" }),
        )
        .await;
    assert_error(res, 422, "validation_failed").await;

    let res = embeddings(
        &app,
        &key,
        json!({ "model": "all-minilm-l6-v2", "input": ["one", "two", "three"] }),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    assert_eq!(body["data"][2]["index"], 2);
    assert!(body["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let res = embeddings(&app, &key, json!({ "model": MINILM, "input": 5 })).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "input");
    let res = app
        .client
        .post(app.at("/v1/embeddings"))
        .json(&json!({ "model": MINILM, "input": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["type"],
        "authentication_error"
    );
    let models: Value = app.get_as("/v1/models", &key).await.json().await.unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&MINILM) && ids.contains(&"all-minilm-l6-v2"),
        "{ids:?}"
    );
    // The model page of the web app still loads at the same path as the POST route.
    let res = app.get(&format!("/models/{MINILM}")).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("hfb test app"));

    // Pausing takes the model off the model-named routes at once: the team's cached
    // deployment list (warm from the calls above) is dropped with the change.
    let res = act(&app, &s.access, id, "pause", json!({})).await;
    assert_eq!(res.status(), 200);
    let res = embeddings(&app, &key, json!({ "model": MINILM, "input": "x" })).await;
    assert_eq!(res.status(), 404);
}
