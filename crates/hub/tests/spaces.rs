//! The Spaces client against wiremock standing in for huggingface.co (repo create/delete,
//! preupload, the NDJSON commit API, the runtime routes), and the generated Space app.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hfb_hub::{
    CommitOperation, GRADIO_VERSION, HubClient, HubConfig, HubError, SpaceSdk, SpaceSpec,
    SpaceStage, SpaceTask, SpacesClient, generate_space,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const CREATED: &str = include_str!("fixtures/spaces/created.json");
const PREUPLOAD: &str = include_str!("fixtures/spaces/preupload.json");
const COMMIT: &str = include_str!("fixtures/spaces/commit.json");
const BUILDING: &str = include_str!("fixtures/spaces/runtime_building.json");
const RUNNING: &str = include_str!("fixtures/spaces/runtime_running.json");
const BUILD_ERROR: &str = include_str!("fixtures/spaces/runtime_build_error.json");
const PAUSED: &str = include_str!("fixtures/spaces/runtime_paused.json");
const REQUESTED: &str = include_str!("fixtures/spaces/runtime_requested_hardware.json");
const SLEEP_TIME: &str = include_str!("fixtures/spaces/runtime_sleep_time.json");

const TOKEN: &str = "hf_TESTtokenDoNotLeak123";
const SPACE: &str = "acme/minilm-api";
const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

fn config(server: &MockServer, token: Option<&str>) -> HubConfig {
    HubConfig {
        endpoint: server.uri(),
        token: token.map(str::to_owned),
        timeout: Duration::from_secs(5),
        max_retries: 3,
        max_backoff: Duration::from_millis(20),
        ..HubConfig::default()
    }
}

async fn hub() -> (MockServer, SpacesClient) {
    let server = MockServer::start().await;
    let client = SpacesClient::new(HubClient::new(config(&server, Some(TOKEN))).unwrap());
    (server, client)
}

fn json_body(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
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

fn request_to<'a>(sent: &'a [Request], method: &str, path: &str) -> &'a Request {
    sent.iter()
        .find(|r| r.method.as_str() == method && r.url.path() == path)
        .unwrap_or_else(|| panic!("no {method} {path} among {sent:?}"))
}

// --- deployment flow ---------------------------------------------------------------------

#[tokio::test]
async fn create_commit_hardware_sleep_then_building_to_running() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/repos/create"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_body(CREATED))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/preupload/main"))
        .respond_with(json_body(PREUPLOAD))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/commit/main"))
        .and(header("content-type", "application/x-ndjson"))
        .respond_with(json_body(COMMIT))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/hardware"))
        .and(body_json(json!({"flavor": "cpu-upgrade"})))
        .respond_with(json_body(REQUESTED))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/sleeptime"))
        .and(body_json(json!({"seconds": 3600})))
        .respond_with(json_body(SLEEP_TIME))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/spaces/acme/minilm-api/runtime"))
        .respond_with(Sequence::new(vec![
            json_body(BUILDING),
            json_body(BUILDING),
            json_body(RUNNING),
        ]))
        .expect(3)
        .mount(&server)
        .await;

    // 1. The repository.
    let mut spec = SpaceSpec::gradio(SPACE);
    spec.variables
        .insert("HFB_DEPLOYMENT".into(), "d-42".into());
    let url = client.create(&spec).await.unwrap();
    assert_eq!(url, "https://huggingface.co/spaces/acme/minilm-api");

    // 2. The generated app, in one commit.
    let app = generate_space(MODEL, None, SpaceTask::FeatureExtraction).unwrap();
    let commit = client
        .commit(
            SPACE,
            None,
            "Deploy sentence-transformers/all-MiniLM-L6-v2 (version 1)",
            "hfb deployment d-42",
            &app.operations(),
        )
        .await
        .unwrap();
    assert_eq!(commit.oid, "9f1c2e8a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e");
    assert_eq!(
        commit.url.as_deref(),
        Some(
            "https://huggingface.co/spaces/acme/minilm-api/commit/9f1c2e8a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e"
        )
    );

    // 3. Hardware and sleep time.
    let runtime = client
        .request_hardware(SPACE, "cpu-upgrade", None)
        .await
        .unwrap();
    assert_eq!(runtime.hardware.as_deref(), Some("cpu-basic"));
    assert_eq!(runtime.requested_hardware.as_deref(), Some("cpu-upgrade"));
    assert_eq!(runtime.stage, SpaceStage::RunningBuilding);
    let runtime = client.set_sleep_time(SPACE, 3600).await.unwrap();
    assert_eq!(runtime.sleep_time_seconds, Some(3600));

    // 4. Poll the runtime until it runs.
    let mut stages = Vec::new();
    loop {
        let runtime = client.runtime(SPACE).await.unwrap();
        stages.push(runtime.stage.clone());
        if !runtime.stage.is_transitional() {
            assert!(runtime.stage.is_running());
            assert_eq!(runtime.hardware.as_deref(), Some("cpu-upgrade"));
            assert_eq!(runtime.domains, ["acme-minilm-api.hf.space"]);
            assert_eq!(runtime.error_message, None);
            break;
        }
        assert_eq!(runtime.hardware, None, "no hardware while building");
        assert!(stages.len() < 10, "never ran: {stages:?}");
    }
    assert_eq!(
        stages,
        [
            SpaceStage::Building,
            SpaceStage::Building,
            SpaceStage::Running
        ]
    );

    // What the Hub received.
    let sent = requests(&server).await;
    for request in &sent {
        assert_eq!(
            request.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}")
        );
    }
    let create: Value =
        serde_json::from_slice(&request_to(&sent, "POST", "/api/repos/create").body).unwrap();
    assert_eq!(
        create,
        json!({
            "name": "minilm-api",
            "organization": "acme",
            "type": "space",
            "private": true,
            "sdk": "gradio",
            "hardware": "cpu-basic",
            "variables": [{"key": "HFB_DEPLOYMENT", "value": "d-42"}]
        })
    );

    let preupload: Value = serde_json::from_slice(
        &request_to(&sent, "POST", "/api/spaces/acme/minilm-api/preupload/main").body,
    )
    .unwrap();
    let files = preupload["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (entry, file) in files.iter().zip(&app.files) {
        assert_eq!(entry["path"], file.path.as_str());
        assert_eq!(entry["size"], file.content.len());
        let sample = BASE64.decode(entry["sample"].as_str().unwrap()).unwrap();
        let want = &file.content.as_bytes()[..file.content.len().min(512)];
        assert_eq!(sample, want, "{}", file.path);
    }

    let commit_request = request_to(&sent, "POST", "/api/spaces/acme/minilm-api/commit/main");
    let body = std::str::from_utf8(&commit_request.body).unwrap();
    assert!(body.ends_with('\n'), "NDJSON ends each line with a newline");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "a header and three files");
    assert_eq!(
        lines[0],
        json!({"key": "header", "value": {
            "summary": "Deploy sentence-transformers/all-MiniLM-L6-v2 (version 1)",
            "description": "hfb deployment d-42"
        }})
    );
    let mut committed = BTreeMap::new();
    for line in &lines[1..] {
        assert_eq!(line["key"], "file");
        assert_eq!(line["value"]["encoding"], "base64");
        let content = BASE64
            .decode(line["value"]["content"].as_str().unwrap())
            .unwrap();
        committed.insert(
            line["value"]["path"].as_str().unwrap().to_owned(),
            String::from_utf8(content).unwrap(),
        );
    }
    let generated: BTreeMap<String, String> = app
        .files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone()))
        .collect();
    assert_eq!(committed, generated);
    assert!(committed["app.py"].contains(MODEL));
}

#[tokio::test]
async fn a_build_error_carries_its_message() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path("/api/spaces/acme/minilm-api/runtime"))
        .respond_with(json_body(BUILD_ERROR))
        .mount(&server)
        .await;

    let runtime = client.runtime(SPACE).await.unwrap();
    assert_eq!(runtime.stage, SpaceStage::BuildError);
    assert!(runtime.stage.is_error());
    let message = runtime.error_message.unwrap();
    assert!(
        message.starts_with("Build failed with exit code: 1"),
        "{message}"
    );
    assert!(message.contains("torch==9.9.9"), "{message}");
    assert_eq!(runtime.raw["stage"], "BUILD_ERROR");
}

#[tokio::test]
async fn pause_and_restart() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/pause"))
        .respond_with(json_body(PAUSED))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/restart"))
        .and(query_param("factory", "true"))
        .respond_with(json_body(BUILDING))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/restart"))
        .respond_with(json_body(BUILDING))
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(client.pause(SPACE).await.unwrap().stage, SpaceStage::Paused);
    assert_eq!(
        client.restart(SPACE, false).await.unwrap().stage,
        SpaceStage::Building
    );
    assert_eq!(
        client.restart(SPACE, true).await.unwrap().stage,
        SpaceStage::Building
    );
    let sent = requests(&server).await;
    assert_eq!(sent[1].url.query(), None);
    assert_eq!(sent[2].url.query(), Some("factory=true"));
}

#[tokio::test]
async fn hardware_with_a_sleep_time() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/hardware"))
        .and(body_json(
            json!({"flavor": "t4-small", "sleepTimeSeconds": 900}),
        ))
        .respond_with(json_body(REQUESTED))
        .expect(1)
        .mount(&server)
        .await;

    client
        .request_hardware(SPACE, "t4-small", Some(900))
        .await
        .unwrap();
    assert!(matches!(
        client.request_hardware(SPACE, " ", None).await,
        Err(HubError::InvalidArgument(_))
    ));
}

#[tokio::test]
async fn delete_twice_is_fine() {
    let (server, client) = hub().await;
    Mock::given(method("DELETE"))
        .and(path("/api/repos/delete"))
        .and(body_json(
            json!({"name": "minilm-api", "organization": "acme", "type": "space"}),
        ))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(200),
            ResponseTemplate::new(404)
                .insert_header("x-error-code", "RepoNotFound")
                .set_body_json(json!({"error": "Repository not found"})),
        ]))
        .expect(2)
        .mount(&server)
        .await;

    assert!(client.delete(SPACE).await.unwrap());
    assert!(!client.delete(SPACE).await.unwrap());
}

#[tokio::test]
async fn an_existing_space_is_a_conflict() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/repos/create"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "error": "You already created this space repo",
            "url": "https://huggingface.co/spaces/acme/minilm-api"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = client.create(&SpaceSpec::gradio(SPACE)).await.unwrap_err();
    assert_eq!(
        err,
        HubError::Conflict {
            message: "You already created this space repo".into()
        }
    );
}

#[tokio::test]
async fn deletions_and_ignored_files_in_a_commit() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/preupload/refs%2Fpr%2F3"))
        .respond_with(json_body(
            r#"{"files":[{"path":"app.py","uploadMode":"regular","shouldIgnore":false},{"path":"notes.log","uploadMode":"regular","shouldIgnore":true}]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/commit/refs%2Fpr%2F3"))
        .respond_with(json_body(COMMIT))
        .expect(1)
        .mount(&server)
        .await;

    client
        .commit(
            SPACE,
            Some("refs/pr/3"),
            "Switch to text-classification",
            "",
            &[
                CommitOperation::Add {
                    path: "app.py".into(),
                    content: b"print('hi')\n".to_vec(),
                },
                CommitOperation::Add {
                    path: "notes.log".into(),
                    content: b"ignored".to_vec(),
                },
                CommitOperation::Delete {
                    path: "old.py".into(),
                },
            ],
        )
        .await
        .unwrap();

    let sent = requests(&server).await;
    let body = std::str::from_utf8(&sent[1].body).unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[1..],
        [
            json!({"key": "file", "value": {"content": BASE64.encode("print('hi')\n"), "path": "app.py", "encoding": "base64"}}),
            json!({"key": "deletedFile", "value": {"path": "old.py"}}),
        ]
    );
}

#[tokio::test]
async fn files_the_hub_wants_in_lfs_are_refused_before_committing() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/preupload/main"))
        .respond_with(json_body(
            r#"{"files":[{"path":"model.bin","uploadMode":"lfs","shouldIgnore":false}]}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/spaces/acme/minilm-api/commit/main"))
        .respond_with(json_body(COMMIT))
        .expect(0)
        .mount(&server)
        .await;

    let err = client
        .commit(
            SPACE,
            None,
            "add weights",
            "",
            &[CommitOperation::Add {
                path: "model.bin".into(),
                content: vec![0u8; 2048],
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, HubError::InvalidArgument(ref m) if m.contains("LFS") && m.contains("model.bin")),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_commits_are_refused_without_a_request() {
    let (server, client) = hub().await;
    let add = |path: &str, size: usize| CommitOperation::Add {
        path: path.into(),
        content: vec![b'x'; size],
    };
    let cases = [
        ("acme/minilm-api", "", vec![add("a.py", 1)]),
        ("acme/minilm-api", "msg", vec![]),
        ("acme/minilm-api", "msg", vec![add("../a.py", 1)]),
        ("acme/minilm-api", "msg", vec![add("/abs.py", 1)]),
        (
            "acme/minilm-api",
            "msg",
            vec![add("big.bin", hfb_hub::MAX_COMMIT_FILE_BYTES + 1)],
        ),
        ("no-owner", "msg", vec![add("a.py", 1)]),
    ];
    for (repo, summary, ops) in cases {
        let err = client
            .commit(repo, None, summary, "", &ops)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                HubError::InvalidArgument(_) | HubError::InvalidRepoId(_)
            ),
            "{repo} {summary:?}: {err:?}"
        );
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn without_a_token_the_error_says_one_is_needed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/repos/create"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Invalid username or password."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The Hub hides a Space from anonymous callers behind 401 + RepoNotFound.
    Mock::given(method("GET"))
        .and(path("/api/spaces/acme/minilm-api/runtime"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-error-code", "RepoNotFound")
                .set_body_json(json!({"error": "Repository not found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = SpacesClient::new(HubClient::new(config(&server, None)).unwrap());
    assert!(!client.is_authenticated());

    let err = client.create(&SpaceSpec::gradio(SPACE)).await.unwrap_err();
    assert_eq!(err, HubError::MissingToken);
    assert!(err.to_string().contains("token is required"), "{err}");
    assert_eq!(client.runtime(SPACE).await, Err(HubError::MissingToken));
}

#[tokio::test]
async fn a_read_only_token_is_refused_with_the_hub_message() {
    let (server, client) = hub().await;
    Mock::given(method("POST"))
        .and(path("/api/repos/create"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "error": "You don't have the rights to create a space under the namespace \"acme\""
        })))
        .expect(1)
        .mount(&server)
        .await;

    let err = client.create(&SpaceSpec::gradio(SPACE)).await.unwrap_err();
    assert!(
        matches!(err, HubError::TokenRejected { status: 403, ref message } if message.contains("rights")),
        "{err:?}"
    );
    assert!(err.to_string().contains("write access"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn runtime_is_retried_on_server_errors_and_rate_limits() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path("/api/spaces/acme/minilm-api/runtime"))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(502),
            ResponseTemplate::new(429).insert_header("retry-after", "0"),
            json_body(RUNNING),
        ]))
        .expect(3)
        .mount(&server)
        .await;

    assert_eq!(
        client.runtime(SPACE).await.unwrap().stage,
        SpaceStage::Running
    );
}

// --- the generated app -------------------------------------------------------------------

/// The YAML front matter of a README.
fn front_matter(readme: &str) -> Value {
    let rest = readme
        .strip_prefix("---\n")
        .expect("front matter starts the file");
    let end = rest.find("\n---\n").expect("front matter is closed");
    let yaml: yaml_serde::Value = yaml_serde::from_str(&rest[..end]).unwrap();
    serde_json::to_value(yaml).unwrap()
}

#[test]
fn readme_front_matter_is_valid_space_yaml() {
    for task in SpaceTask::ALL {
        let app = generate_space(
            MODEL,
            Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf"),
            task,
        )
        .unwrap();
        assert_eq!(app.sdk, SpaceSdk::Gradio);
        let readme = app.file("README.md").unwrap();
        let meta = front_matter(readme);
        assert_eq!(meta["sdk"], "gradio", "{task}");
        assert_eq!(meta["sdk_version"], GRADIO_VERSION);
        assert_eq!(meta["python_version"], "3.11");
        assert_eq!(meta["app_file"], "app.py");
        assert_eq!(meta["title"], "all-MiniLM-L6-v2");
        assert_eq!(meta["emoji"], "🤗");
        assert_eq!(meta["models"], json!([MODEL]));
        assert_eq!(meta["pinned"], false);
        assert_eq!(meta["tags"], json!(["hfb", task.as_str()]));
        for color in ["colorFrom", "colorTo"] {
            let c = meta[color].as_str().unwrap();
            assert!(
                [
                    "red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"
                ]
                .contains(&c)
            );
        }
        let short = meta["short_description"].as_str().unwrap();
        assert!(short.chars().count() <= 60, "{short}");
        assert!(short.contains(task.as_str()), "{short}");
        assert!(
            readme.contains(&task.route()),
            "the README shows how to call it"
        );
        assert!(readme.contains("c9745ed1d9f207416be6d2e6f8de32d1f16199bf"));
    }
}

#[test]
fn long_model_names_are_clipped_to_the_hub_limits() {
    let model = format!("acme/{}", "a".repeat(90));
    let app = generate_space(&model, None, SpaceTask::SentenceSimilarity).unwrap();
    let meta = front_matter(app.file("README.md").unwrap());
    assert!(meta["title"].as_str().unwrap().chars().count() <= 30);
    assert!(meta["short_description"].as_str().unwrap().chars().count() <= 60);
    assert_eq!(meta["models"], json!([model]));
}

#[test]
fn the_app_loads_the_model_and_serves_the_task_route() {
    for task in SpaceTask::ALL {
        let app = generate_space(MODEL, None, task).unwrap();
        assert_eq!(app.route, format!("/pipeline/{task}"));
        let source = app.file("app.py").unwrap();
        assert!(
            source.contains(&format!("MODEL_ID = \"{MODEL}\"")),
            "{task}"
        );
        assert!(source.contains("REVISION = None"), "{task}");
        assert!(
            source.contains(&format!("ROUTE = \"/pipeline/{task}\"")),
            "{task}"
        );
        assert!(source.contains("@api.post(ROUTE)"), "{task}");
        assert!(source.contains("@api.get(\"/health\")"), "{task}");
        assert!(
            source.contains("\"GRADIO_SERVER_PORT\", \"7860\""),
            "{task}"
        );
        let loader = match task {
            SpaceTask::FeatureExtraction | SpaceTask::SentenceSimilarity => {
                "SentenceTransformer(MODEL_ID, revision=REVISION)"
            }
            SpaceTask::TextClassification => {
                "pipeline(\"text-classification\", model=MODEL_ID, revision=REVISION)"
            }
            SpaceTask::TextGeneration => {
                "pipeline(\"text-generation\", model=MODEL_ID, revision=REVISION)"
            }
        };
        assert!(source.contains(loader), "{task}: {loader}");
    }
    let pinned = generate_space(MODEL, Some("v1.0"), SpaceTask::FeatureExtraction).unwrap();
    assert!(
        pinned
            .file("app.py")
            .unwrap()
            .contains("REVISION = \"v1.0\"")
    );
}

#[test]
fn requirements_are_pinned() {
    for task in SpaceTask::ALL {
        let app = generate_space(MODEL, None, task).unwrap();
        let requirements = app.file("requirements.txt").unwrap();
        let pins: BTreeMap<&str, &str> = requirements
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                l.split_once("==")
                    .unwrap_or_else(|| panic!("unpinned: {l}"))
            })
            .collect();
        assert_eq!(pins["gradio"], GRADIO_VERSION);
        for needed in ["fastapi", "uvicorn", "transformers", "torch"] {
            assert!(pins.contains_key(needed), "{task}: {needed}");
        }
        assert_eq!(
            pins.contains_key("sentence-transformers"),
            matches!(
                task,
                SpaceTask::FeatureExtraction | SpaceTask::SentenceSimilarity
            ),
            "{task}"
        );
    }
}

/// The generated `app.py` must at least be valid Python: a Space that fails to parse
/// only shows up as a RUNTIME_ERROR minutes after deploying.
#[test]
fn the_app_is_valid_python() {
    let python = std::env::var("HFB_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    for task in SpaceTask::ALL {
        let app = generate_space(MODEL, Some("main"), task).unwrap();
        let mut child = Command::new(&python)
            .args([
                "-c",
                "import ast, sys; ast.parse(sys.stdin.read(), 'app.py')",
            ])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("this test parses the generated app.py with Python 3 and could not run {python:?} ({e}); install python3 or set HFB_PYTHON to a Python 3 interpreter")
            });
        child
            .stdin
            .take()
            .unwrap()
            .write_all(app.file("app.py").unwrap().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{task}: app.py is not valid Python:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
