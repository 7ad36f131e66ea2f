//! A trivial upstream for `bench/proxy.sh`: answers inference calls at once and plays the
//! Inference Endpoints API, so hfb can deploy to it and call it on loopback.
//!
//! ```text
//! cargo run --release -p hfb-backend --example bench_upstream -- [--port 0] [--workers 1]
//! ```
//!
//! - `POST /ep/{task}/{name}`: reads the body and answers at once, without an auth check:
//!   for `feature-extraction`, one fixed 384-dimensional vector in a list (the shape of
//!   all-MiniLM-L6-v2's answer to `{"inputs":["..."]}`); for any other task a fixed
//!   text-classification result
//!   (`[{"label":"POSITIVE","score":0.9},{"label":"NEGATIVE","score":0.1}]`).
//! - `POST /v1/embeddings`: the same vector in the OpenAI shape (what an OpenAI-compatible
//!   gateway such as LiteLLM calls).
//! - `/v2/endpoint/{namespace}[/{name}[/{action}]]`: an in-memory Inference Endpoints API.
//!   `POST` creates an endpoint that is `running` at once with
//!   `status.url = http://127.0.0.1:{port}/ep/{task}/{name}`; `GET` reads one (404 when unknown,
//!   as the real API, so hfb takes its create path) or lists them; `PUT` merges an
//!   update; `POST …/pause|resume|scale-to-zero` change the state; `DELETE` removes.
//! - anything else: 404 (point `HF_ENDPOINT` here to keep hfb off the network).
//!
//! Prints `listening on http://127.0.0.1:{port}` once bound (port 0 picks a free port).

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::sync::Mutex;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;
use serde_json::{Map, Value, json};

/// What every inference call gets back.
const ANSWER: &[u8] = br#"[{"label":"POSITIVE","score":0.9},{"label":"NEGATIVE","score":0.1}]"#;
const TIMESTAMP: &str = "2026-01-01T00:00:00Z";
/// The embedding dimension of the feature-extraction answers (all-MiniLM-L6-v2's).
const DIMENSION: usize = 384;

#[derive(Parser)]
#[command(about = "Trivial inference upstream and fake Inference Endpoints API for bench/proxy.sh")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

struct Endpoints {
    /// `http://127.0.0.1:{port}`.
    base: String,
    /// (namespace, name) → the endpoint object.
    items: Mutex<HashMap<(String, String), Value>>,
}

impl Endpoints {
    fn items(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Value>> {
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `endpoint` with a `status` in `state` and the inference URL on this server (which
    /// names the endpoint's task, so calls get an answer of that task's shape).
    fn with_status(&self, mut endpoint: Value, name: &str, state: &str) -> Value {
        let task = endpoint["model"]["task"]
            .as_str()
            .unwrap_or("text-classification")
            .to_owned();
        endpoint["status"] = json!({
            "state": state,
            "message": format!("endpoint is {state}"),
            "url": format!("{}/ep/{task}/{name}", self.base),
            "readyReplica": 1,
            "targetReplica": 1,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        });
        endpoint
    }
}

/// The fixed answers, made once.
struct Answers {
    /// `[[f32; DIMENSION]]`: feature-extraction of one input.
    vectors: web::Bytes,
    /// `POST /v1/embeddings` in the OpenAI shape.
    openai: web::Bytes,
}

impl Answers {
    fn new() -> Self {
        // A fixed, unit-length-ish vector with varied digits (JSON size as a real one).
        let vector: Vec<f64> = (0..DIMENSION)
            .map(|i| ((i as f64 * 0.7).sin() * 0.05 * 1e6).round() / 1e6)
            .collect();
        let openai = json!({
            "object": "list",
            "data": [{ "object": "embedding", "index": 0, "embedding": vector }],
            "model": "bench-embed",
            "usage": { "prompt_tokens": 9, "total_tokens": 9 },
        });
        Self {
            vectors: json!([vector]).to_string().into(),
            openai: openai.to_string().into(),
        }
    }
}

fn json_answer(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(body)
}

async fn infer(_body: web::Bytes) -> HttpResponse {
    json_answer(web::Bytes::from_static(ANSWER))
}

async fn feature_extraction(answers: web::Data<Answers>, _body: web::Bytes) -> HttpResponse {
    json_answer(answers.vectors.clone())
}

async fn openai_embeddings(answers: web::Data<Answers>, _body: web::Bytes) -> HttpResponse {
    json_answer(answers.openai.clone())
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

fn not_found() -> HttpResponse {
    error(StatusCode::NOT_FOUND, "not found")
}

/// Copies the keys of `patch` into `into`, recursing into objects (how `PUT` merges).
fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(into), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(into.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (into, patch) => *into = patch.clone(),
    }
}

async fn create(
    api: web::Data<Endpoints>,
    namespace: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Ok(Value::Object(spec)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not a JSON object");
    };
    let Some(name) = spec.get("name").and_then(Value::as_str).map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "name is required");
    };
    let key = (namespace.into_inner(), name.clone());
    let mut items = api.items();
    if items.contains_key(&key) {
        return error(StatusCode::CONFLICT, "an endpoint with this name exists");
    }
    let endpoint = api.with_status(Value::Object(spec), &name, "running");
    items.insert(key, endpoint.clone());
    HttpResponse::Ok().json(endpoint)
}

async fn list(api: web::Data<Endpoints>, namespace: web::Path<String>) -> HttpResponse {
    let namespace = namespace.into_inner();
    let items: Vec<Value> = api
        .items()
        .iter()
        .filter(|((ns, _), _)| *ns == namespace)
        .map(|(_, e)| e.clone())
        .collect();
    HttpResponse::Ok().json(json!({ "items": items }))
}

async fn get(api: web::Data<Endpoints>, path: web::Path<(String, String)>) -> HttpResponse {
    match api.items().get(&path.into_inner()) {
        Some(endpoint) => HttpResponse::Ok().json(endpoint),
        None => not_found(),
    }
}

async fn update(
    api: web::Data<Endpoints>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let Ok(patch @ Value::Object(_)) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not a JSON object");
    };
    let key = path.into_inner();
    let mut items = api.items();
    let Some(endpoint) = items.get_mut(&key) else {
        return not_found();
    };
    merge(endpoint, &patch);
    *endpoint = api.with_status(endpoint.take(), &key.1, "running");
    HttpResponse::Ok().json(endpoint.clone())
}

async fn action(
    api: web::Data<Endpoints>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (namespace, name, what) = path.into_inner();
    let state = match what.as_str() {
        "pause" => "paused",
        "resume" => "running",
        "scale-to-zero" => "scaledToZero",
        _ => return not_found(),
    };
    let mut items = api.items();
    let Some(endpoint) = items.get_mut(&(namespace, name.clone())) else {
        return not_found();
    };
    *endpoint = api.with_status(endpoint.take(), &name, state);
    HttpResponse::Ok().json(endpoint.clone())
}

async fn delete(api: web::Data<Endpoints>, path: web::Path<(String, String)>) -> HttpResponse {
    match api.items().remove(&path.into_inner()) {
        Some(_) => HttpResponse::Ok().json(Value::Object(Map::new())),
        None => not_found(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    let addr = listener.local_addr()?;
    let api = web::Data::new(Endpoints {
        base: format!("http://{addr}"),
        items: Mutex::new(HashMap::new()),
    });
    let answers = web::Data::new(Answers::new());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(api.clone())
            .app_data(answers.clone())
            .route(
                "/ep/feature-extraction/{tail:.*}",
                web::post().to(feature_extraction),
            )
            .route("/ep/{tail:.*}", web::post().to(infer))
            .route("/v1/embeddings", web::post().to(openai_embeddings))
            .service(
                web::scope("/v2/endpoint")
                    .route("/{namespace}", web::post().to(create))
                    .route("/{namespace}", web::get().to(list))
                    .route("/{namespace}/{name}", web::get().to(get))
                    .route("/{namespace}/{name}", web::put().to(update))
                    .route("/{namespace}/{name}", web::delete().to(delete))
                    .route("/{namespace}/{name}/{action}", web::post().to(action)),
            )
            .default_service(web::to(|| async { not_found() }))
    })
    .workers(args.workers.max(1))
    .listen(listener)?
    .run();
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    server.await
}
