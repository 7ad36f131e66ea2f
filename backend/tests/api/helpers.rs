//! `spawn_app()`: the real server on port 0 with its own data dir and a small built web app.

use std::collections::HashMap;
use std::path::PathBuf;

use hfb_backend::config::Settings;
use hfb_backend::startup::Application;
use tempfile::TempDir;

pub const HASHED_JS: &str = "hfb-frontend-0123456789abcdef.js";
pub const INDEX_HTML: &str = "<!doctype html><title>hfb test app</title><div id=app></div>";

pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub data_dir: TempDir,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub fn ws_url(&self) -> String {
        format!("{}/api/ws", self.url.replacen("http://", "ws://", 1))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.at(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(self.at(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// Test settings: port 0, one worker, fast heartbeats, a fresh data dir, embedded store
/// and cache. `overrides` adds or replaces variables (an empty value unsets one).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let dist = data_dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), INDEX_HTML).unwrap();
    std::fs::write(dist.join(HASHED_JS), "console.log('hfb');".repeat(200)).unwrap();
    std::fs::write(dist.join("robots.txt"), "User-agent: *\n").unwrap();

    let mut vars: HashMap<String, String> = HashMap::from([
        ("HFB_BIND".into(), "127.0.0.1:0".into()),
        ("HFB_DATA_DIR".into(), data_dir.path().display().to_string()),
        ("HFB_STATIC_DIR".into(), path_str(dist)),
        ("HFB_WORKERS".into(), "1".into()),
        ("HFB_WS_HEARTBEAT_MS".into(), "200".into()),
        ("HFB_SHUTDOWN_TIMEOUT_SECS".into(), "1".into()),
    ]);
    if let Ok(uri) = std::env::var("HFB_TEST_API_MONGODB_URI") {
        // Lets CI run the whole API suite on the MongoDB adapter too.
        vars.insert("MONGODB_URI".into(), uri);
        vars.insert(
            "HFB_MONGODB_DATABASE".into(),
            format!("hfb_api_{}", uuid::Uuid::new_v4().simple()),
        );
    }
    for (k, v) in overrides {
        vars.insert((*k).into(), (*v).into());
    }
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    if std::env::var_os("HFB_TEST_LOG").is_some() {
        hfb_backend::telemetry::init(&settings);
    }
    let app = Application::build(settings).await.expect("build app");
    let url = app.url();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        url,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        data_dir,
        handle,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

fn path_str(p: PathBuf) -> String {
    p.display().to_string()
}

/// Asserts the API error shape and returns the body.
pub async fn assert_error(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(
        res.status().as_u16(),
        status,
        "status for expected code {code}"
    );
    let header_id = res
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("x-request-id header");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "error bodies are JSON"
    );
    let body: serde_json::Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["error"]["request_id"], header_id.as_str(), "{body}");
    body
}
