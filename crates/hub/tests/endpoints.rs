//! The Inference Endpoints client against wiremock standing in for
//! `api.endpoints.huggingface.cloud/v2`. Fixtures are endpoint descriptions in the API's
//! shape (`compute`, `model`, `provider`, `status{state,message,url,…}`, `healthRoute`),
//! one per state of a deployment's life.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hfb_hub::{
    EndpointImage, EndpointSpec, EndpointState, EndpointUpdate, EndpointsClient, HubConfig,
    HubError, ScalingMeasure,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PENDING: &str = include_str!("fixtures/endpoints/pending.json");
const INITIALIZING: &str = include_str!("fixtures/endpoints/initializing.json");
const RUNNING: &str = include_str!("fixtures/endpoints/running.json");
const FAILED: &str = include_str!("fixtures/endpoints/failed.json");
const SCALED_TO_ZERO: &str = include_str!("fixtures/endpoints/scaled_to_zero.json");
const PAUSED: &str = include_str!("fixtures/endpoints/paused.json");
const UPDATING: &str = include_str!("fixtures/endpoints/updating.json");
const LIST: &str = include_str!("fixtures/endpoints/list.json");

const TOKEN: &str = "hf_TESTtokenDoNotLeak123";
const NS: &str = "acme";
const NAME: &str = "minilm-prod";
const ENDPOINT_PATH: &str = "/v2/endpoint/acme/minilm-prod";
const URL: &str = "https://x6dk2mh4ztq1jqfe.us-east-1.aws.endpoints.huggingface.cloud";

/// Fast retries so failure paths take milliseconds.
fn config(token: Option<&str>) -> HubConfig {
    HubConfig {
        token: token.map(str::to_owned),
        timeout: Duration::from_secs(5),
        max_retries: 3,
        max_backoff: Duration::from_millis(20),
        ..HubConfig::default()
    }
}

/// The API is served under `/v2`, as the real base URL is.
async fn api() -> (MockServer, EndpointsClient) {
    let server = MockServer::start().await;
    let client =
        EndpointsClient::new(&config(Some(TOKEN)), &format!("{}/v2", server.uri())).unwrap();
    (server, client)
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn api_error(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// Answers the given responses in order, then repeats the last one.
struct Sequence {
    responses: Vec<ResponseTemplate>,
    next: Mutex<usize>,
}

impl Sequence {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        Sequence {
            responses,
            next: Mutex::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut next = self.next.lock().unwrap();
        let i = (*next).min(self.responses.len() - 1);
        *next += 1;
        self.responses[i].clone()
    }
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn minilm_spec() -> EndpointSpec {
    let mut spec = EndpointSpec::cpu(
        NS,
        NAME,
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-embeddings",
    );
    spec.revision = Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf".into());
    spec
}

// --- lifecycle ---------------------------------------------------------------------------

#[tokio::test]
async fn create_then_status_goes_pending_initializing_running() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("content-type", "application/json"))
        .respond_with(json_body(PENDING))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(Sequence::new(vec![
            json_body(PENDING),
            json_body(INITIALIZING),
            json_body(INITIALIZING),
            json_body(RUNNING),
        ]))
        .expect(5)
        .mount(&server)
        .await;

    let created = client.create(&minilm_spec()).await.unwrap();
    assert_eq!(created.name, NAME);
    assert_eq!(created.status.state, EndpointState::Pending);
    assert_eq!(
        created.status.message.as_deref(),
        Some("Endpoint waiting to be scheduled")
    );
    assert_eq!(created.status.url, None);
    assert_eq!(created.repository, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(
        created.revision.as_deref(),
        Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf")
    );
    assert_eq!(created.task.as_deref(), Some("sentence-embeddings"));
    assert_eq!(created.instance_type.as_deref(), Some("intel-spr"));
    assert_eq!(created.instance_size.as_deref(), Some("x2"));
    assert_eq!(created.vendor.as_deref(), Some("aws"));
    assert_eq!(created.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        (created.min_replica, created.max_replica),
        (Some(0), Some(1))
    );
    assert_eq!(created.scale_to_zero_timeout, Some(15));
    assert_eq!(created.health_route.as_deref(), Some("/health"));
    assert_eq!(created.endpoint_type.as_deref(), Some("protected"));
    assert_eq!(
        created.status.created_at.unwrap().to_rfc3339(),
        "2025-03-04T10:21:33.123+00:00"
    );

    // The reconciler polls: one GET per status call.
    let mut seen = Vec::new();
    loop {
        let status = client.status(NS, NAME).await.unwrap();
        seen.push(status.state.clone());
        if !status.state.is_transitional() {
            assert_eq!(status.state, EndpointState::Running);
            assert_eq!(status.url.as_deref(), Some(URL));
            assert_eq!(status.message.as_deref(), Some("Endpoint is running"));
            assert_eq!(status.ready_replicas, Some(1));
            break;
        }
        assert_eq!(status.url, None, "no URL before running");
        assert!(seen.len() < 10, "never reached running: {seen:?}");
    }
    assert_eq!(
        seen,
        [
            EndpointState::Pending,
            EndpointState::Initializing,
            EndpointState::Initializing,
            EndpointState::Running
        ]
    );
    let endpoint = client.get(NS, NAME).await.unwrap();
    assert_eq!(endpoint.raw["status"]["state"], "running");

    let sent = requests(&server).await;
    let create: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        create,
        json!({
            "name": "minilm-prod",
            "type": "protected",
            "compute": {
                "accelerator": "cpu",
                "instanceType": "intel-spr",
                "instanceSize": "x2",
                "scaling": {"minReplica": 0, "maxReplica": 1, "scaleToZeroTimeout": 15}
            },
            "model": {
                "repository": "sentence-transformers/all-MiniLM-L6-v2",
                "revision": "c9745ed1d9f207416be6d2e6f8de32d1f16199bf",
                "framework": "pytorch",
                "task": "sentence-embeddings",
                "image": {"huggingface": {}}
            },
            "provider": {"vendor": "aws", "region": "us-east-1"}
        })
    );
    for request in &sent {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}")
        );
    }
}

#[tokio::test]
async fn a_full_spec_is_sent_with_scaling_image_env_and_secrets() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(json_body(PENDING))
        .mount(&server)
        .await;

    let mut spec = minilm_spec();
    spec.accelerator = "gpu".into();
    spec.vendor = "gcp".into();
    spec.region = "us-east4".into();
    spec.instance_type = "nvidia-l4".into();
    spec.instance_size = "x1".into();
    spec.min_replica = 1;
    spec.max_replica = 4;
    spec.measure = Some(ScalingMeasure::PendingRequests(8));
    spec.image = EndpointImage::Custom {
        url: "ghcr.io/huggingface/text-embeddings-inference:1.8".into(),
        health_route: Some("/health".into()),
        port: Some(80),
    };
    spec.env.insert("MAX_BATCH_TOKENS".into(), "16384".into());
    spec.secrets.insert("API_KEY".into(), "s3cret".into());
    client.create(&spec).await.unwrap();

    let body: Value = serde_json::from_slice(&requests(&server).await[0].body).unwrap();
    assert_eq!(
        body["compute"],
        json!({
            "accelerator": "gpu",
            "instanceType": "nvidia-l4",
            "instanceSize": "x1",
            "scaling": {"minReplica": 1, "maxReplica": 4, "measure": {"pendingRequests": 8}}
        })
    );
    assert_eq!(
        body["model"]["image"],
        json!({"custom": {"url": "ghcr.io/huggingface/text-embeddings-inference:1.8", "health_route": "/health", "port": 80}})
    );
    assert_eq!(body["model"]["env"], json!({"MAX_BATCH_TOKENS": "16384"}));
    assert_eq!(body["model"]["secrets"], json!({"API_KEY": "s3cret"}));
    assert_eq!(
        body["provider"],
        json!({"vendor": "gcp", "region": "us-east4"})
    );
}

#[tokio::test]
async fn a_failed_endpoint_reports_why() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(json_body(FAILED))
        .mount(&server)
        .await;

    let status = client.status(NS, NAME).await.unwrap();
    assert_eq!(status.state, EndpointState::Failed);
    assert!(status.state.is_failed());
    assert!(!status.state.is_transitional());
    let message = status.message.unwrap();
    assert!(
        message.starts_with("Endpoint failed to start."),
        "{message}"
    );
    assert!(message.contains("OSError"), "{message}");
    assert_eq!(status.url, None);
}

#[tokio::test]
async fn scale_to_zero_and_the_scaled_to_zero_state() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path(format!("{ENDPOINT_PATH}/scale-to-zero")))
        .respond_with(json_body(SCALED_TO_ZERO))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(json_body(SCALED_TO_ZERO))
        .mount(&server)
        .await;

    let endpoint = client.scale_to_zero(NS, NAME).await.unwrap();
    assert_eq!(endpoint.status.state, EndpointState::ScaledToZero);
    let status = client.status(NS, NAME).await.unwrap();
    assert_eq!(status.state, EndpointState::ScaledToZero);
    assert!(status.state.is_available(), "wakes on the next request");
    assert_eq!(status.url.as_deref(), Some(URL), "keeps its URL");
    assert_eq!(status.target_replicas, Some(0));
}

#[tokio::test]
async fn pause_then_resume() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path(format!("{ENDPOINT_PATH}/pause")))
        .respond_with(json_body(PAUSED))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{ENDPOINT_PATH}/resume")))
        .respond_with(json_body(INITIALIZING))
        .expect(1)
        .mount(&server)
        .await;

    let paused = client.pause(NS, NAME).await.unwrap();
    assert_eq!(paused.status.state, EndpointState::Paused);
    assert_eq!(paused.status.message.as_deref(), Some("Endpoint is paused"));
    let resumed = client.resume(NS, NAME).await.unwrap();
    assert_eq!(resumed.status.state, EndpointState::Initializing);
    let sent = requests(&server).await;
    assert!(sent.iter().all(|r| r.method.as_str() == "POST"));
}

#[tokio::test]
async fn resuming_a_running_endpoint_is_not_an_error() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path(format!("{ENDPOINT_PATH}/resume")))
        .respond_with(api_error(
            400,
            json!({"error": "Bad Request", "message": "Endpoint is already running"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(json_body(RUNNING))
        .expect(1)
        .mount(&server)
        .await;

    let endpoint = client.resume(NS, NAME).await.unwrap();
    assert_eq!(endpoint.status.state, EndpointState::Running);
}

#[tokio::test]
async fn update_sends_only_the_changes() {
    let (server, client) = api().await;
    Mock::given(method("PUT"))
        .and(path(ENDPOINT_PATH))
        .and(body_json(json!({
            "compute": {"instanceSize": "x4", "scaling": {"minReplica": 1, "maxReplica": 3}},
            "model": {"revision": "0000000000000000000000000000000000000001"}
        })))
        .respond_with(json_body(UPDATING))
        .expect(1)
        .mount(&server)
        .await;

    let endpoint = client
        .update(
            NS,
            NAME,
            &EndpointUpdate {
                revision: Some("0000000000000000000000000000000000000001".into()),
                instance_size: Some("x4".into()),
                min_replica: Some(1),
                max_replica: Some(3),
                ..EndpointUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(endpoint.status.state, EndpointState::Updating);
    assert_eq!(
        endpoint.revision.as_deref(),
        Some("0000000000000000000000000000000000000001")
    );
    assert_eq!(
        (endpoint.min_replica, endpoint.max_replica),
        (Some(1), Some(3))
    );
    assert_eq!(endpoint.scale_to_zero_timeout, None);

    // Nothing to change: refused without a request.
    let err = client
        .update(NS, NAME, &EndpointUpdate::default())
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::InvalidArgument(_)), "{err:?}");
}

#[tokio::test]
async fn delete_twice_is_fine() {
    let (server, client) = api().await;
    Mock::given(method("DELETE"))
        .and(path(ENDPOINT_PATH))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(200),
            api_error(404, json!({"error": "Endpoint minilm-prod not found"})),
        ]))
        .expect(2)
        .mount(&server)
        .await;

    assert!(client.delete(NS, NAME).await.unwrap());
    assert!(!client.delete(NS, NAME).await.unwrap());
}

#[tokio::test]
async fn list_reads_items() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(json_body(LIST))
        .mount(&server)
        .await;

    let endpoints = client.list(NS).await.unwrap();
    let summary: Vec<(&str, &EndpointState)> = endpoints
        .iter()
        .map(|e| (e.name.as_str(), &e.status.state))
        .collect();
    assert_eq!(
        summary,
        [
            ("minilm-prod", &EndpointState::Running),
            ("bert-classifier", &EndpointState::Paused)
        ]
    );
    assert_eq!(endpoints[1].repository, "google-bert/bert-base-uncased");
}

#[tokio::test]
async fn unknown_states_are_kept() {
    let (server, client) = api().await;
    let mut body: Value = serde_json::from_str(RUNNING).unwrap();
    body["status"]["state"] = json!("migrating");
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;

    let status = client.status(NS, NAME).await.unwrap();
    assert_eq!(status.state, EndpointState::Unknown("migrating".into()));
    assert_eq!(status.state.to_string(), "migrating");
}

#[tokio::test]
async fn a_missing_endpoint_is_not_found() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(api_error(404, json!({"error": "Endpoint not found"})))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(client.status(NS, NAME).await, Err(HubError::NotFound));
}

// --- errors ------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_token_the_error_says_one_is_needed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(api_error(401, json!({"error": "Unauthorized"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = EndpointsClient::new(&config(None), &format!("{}/v2", server.uri())).unwrap();
    assert!(!client.is_authenticated());

    let err = client.create(&minilm_spec()).await.unwrap_err();
    assert_eq!(err, HubError::MissingToken);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("token is required"), "{err}");
    let sent = requests(&server).await;
    assert!(sent[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn a_refused_token_is_reported_without_leaking_it() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(api_error(
            401,
            json!({"error": format!("Invalid credentials in Authorization header: Bearer {TOKEN}")}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/endpoint/other"))
        .respond_with(api_error(
            403,
            json!({"error": "You don't have access to the namespace other"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client.get(NS, NAME).await.unwrap_err();
    let HubError::TokenRejected { status, message } = &err else {
        panic!("expected TokenRejected, got {err:?}");
    };
    assert_eq!(*status, 401);
    assert!(message.contains("Invalid credentials"), "{message}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("token"), "{shown}");

    let err = client.list("other").await.unwrap_err();
    assert!(
        matches!(err, HubError::TokenRejected { status: 403, ref message } if message.contains("namespace other")),
        "{err:?}"
    );
    assert!(!format!("{client:?}").contains(TOKEN));
}

#[tokio::test]
async fn a_taken_name_is_a_conflict_and_not_retried() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(api_error(
            409,
            json!({"error": "Conflict", "message": "An endpoint with the name minilm-prod already exists"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client.create(&minilm_spec()).await.unwrap_err();
    assert_eq!(
        err,
        HubError::Conflict {
            message: "Conflict: An endpoint with the name minilm-prod already exists".into()
        }
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_invalid_spec_carries_the_api_message() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(api_error(
            422,
            json!({"error": "Instance x16 of type intel-spr is not available in aws/us-east-1"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let mut spec = minilm_spec();
    spec.instance_size = "x16".into();
    let err = client.create(&spec).await.unwrap_err();
    assert_eq!(
        err,
        HubError::Invalid {
            status: 422,
            message: "Instance x16 of type intel-spr is not available in aws/us-east-1".into()
        }
    );
    assert!(err.to_string().contains("not available"), "{err}");
}

#[tokio::test]
async fn bad_specs_are_refused_without_a_request() {
    let (server, client) = api().await;
    let mut spec = minilm_spec();
    spec.name = "Not_A_Valid_Name".into();
    assert!(matches!(
        client.create(&spec).await,
        Err(HubError::InvalidArgument(_))
    ));
    let mut spec = minilm_spec();
    spec.min_replica = 3;
    spec.max_replica = 2;
    assert!(matches!(
        client.create(&spec).await,
        Err(HubError::InvalidArgument(_))
    ));
    assert!(matches!(
        client.status("a/b", NAME).await,
        Err(HubError::InvalidArgument(_))
    ));
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn rate_limited_create_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(
            api_error(429, json!({"error": "Too Many Requests"})).insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(json_body(PENDING))
        .expect(1)
        .mount(&server)
        .await;
    let client = EndpointsClient::new(
        &HubConfig {
            max_backoff: Duration::from_secs(5),
            ..config(Some(TOKEN))
        },
        &format!("{}/v2", server.uri()),
    )
    .unwrap();

    let started = Instant::now();
    let endpoint = client.create(&minilm_spec()).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(endpoint.status.state, EndpointState::Pending);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test]
async fn a_long_retry_after_is_returned_at_once() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        client.status(NS, NAME).await,
        Err(HubError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        })
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_upstream_down() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(api_error(502, json!({"error": "Bad Gateway"})))
        .expect(4)
        .mount(&server)
        .await;

    let err = client.status(NS, NAME).await.unwrap_err();
    assert_eq!(
        err,
        HubError::Upstream {
            status: 502,
            message: "Bad Gateway".into()
        }
    );
    assert!(err.is_upstream_down());
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_server_error_then_success_is_invisible() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path(format!("{ENDPOINT_PATH}/pause")))
        .respond_with(Sequence::new(vec![
            api_error(500, json!({"error": "Internal Server Error"})),
            api_error(503, json!({"error": "Service Unavailable"})),
            json_body(PAUSED),
        ]))
        .expect(3)
        .mount(&server)
        .await;

    let endpoint = client.pause(NS, NAME).await.unwrap();
    assert_eq!(endpoint.status.state, EndpointState::Paused);
}

#[tokio::test]
async fn create_is_retried_on_503_but_not_on_500() {
    let (server, client) = api().await;
    Mock::given(method("POST"))
        .and(path("/v2/endpoint/acme"))
        .respond_with(Sequence::new(vec![
            api_error(503, json!({"error": "Service Unavailable"})),
            json_body(PENDING),
            // A 500 may come after the endpoint was created: sending it again could
            // create a second one or a spurious conflict, so it is returned.
            api_error(500, json!({"error": "Internal Server Error"})),
            json_body(PENDING),
        ]))
        .expect(3)
        .mount(&server)
        .await;

    client.create(&minilm_spec()).await.unwrap();
    let err = client.create(&minilm_spec()).await.unwrap_err();
    assert!(
        matches!(err, HubError::Upstream { status: 500, .. }),
        "{err:?}"
    );
    assert!(err.is_upstream_down());
}

#[tokio::test]
async fn an_unreachable_api_is_a_network_error() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = EndpointsClient::new(&config(Some(TOKEN)), &format!("http://{addr}/v2")).unwrap();

    let err = client.create(&minilm_spec()).await.unwrap_err();
    assert!(matches!(err, HubError::Network(_)), "{err:?}");
    assert!(err.is_upstream_down());
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn malformed_answers_are_malformed() {
    let (server, client) = api().await;
    Mock::given(method("GET"))
        .and(path(ENDPOINT_PATH))
        .respond_with(json_body(r#"{"name": "minilm-prod"}"#))
        .mount(&server)
        .await;

    let err = client.status(NS, NAME).await.unwrap_err();
    assert!(
        matches!(err, HubError::Malformed(ref m) if m.contains("status")),
        "{err:?}"
    );
}

#[test]
fn the_client_base_is_configurable() {
    let client = EndpointsClient::new(&config(None), hfb_hub::DEFAULT_ENDPOINTS_API).unwrap();
    assert_eq!(
        client.api_base(),
        "https://api.endpoints.huggingface.cloud/v2"
    );
    assert!(matches!(
        EndpointsClient::new(&config(None), "not a url"),
        Err(HubError::InvalidConfig(_))
    ));
}
