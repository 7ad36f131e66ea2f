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
    pub state: hfb_backend::state::AppState,
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
    spawn_app_in(tempfile::tempdir().expect("temp dir"), overrides).await
}

/// The all-MiniLM-L6-v2 folder the runtime tests use: `HFB_TEST_MODEL_DIR`, else the one
/// `scripts/test.sh` installs under the workspace's `data/models`.
pub fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("HFB_TEST_MODEL_DIR").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../data/models/sentence-transformers/all-MiniLM-L6-v2")
        },
        PathBuf::from,
    );
    assert!(
        dir.join("model.safetensors").is_file(),
        "the all-MiniLM-L6-v2 model folder is missing at {}: run `bash scripts/test.sh` (it installs it) \
         or set HFB_TEST_MODEL_DIR",
        dir.display()
    );
    dir
}

/// Like [`spawn_app_with`], with all-MiniLM-L6-v2 in the local model store.
pub async fn spawn_app_with_model(overrides: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let owner = data_dir.path().join("models/sentence-transformers");
    std::fs::create_dir_all(&owner).unwrap();
    std::os::unix::fs::symlink(minilm_dir(), owner.join("all-MiniLM-L6-v2")).unwrap();
    spawn_app_in(data_dir, overrides).await
}

/// Starts the server with `data_dir` as its data dir.
pub async fn spawn_app_in(data_dir: TempDir, overrides: &[(&str, &str)]) -> TestApp {
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
        // Tests never reach the internet: the Hub is a closed local port unless a test
        // points HF_ENDPOINT at its wiremock server; the sync worker is off.
        ("HF_ENDPOINT".into(), "http://127.0.0.1:9".into()),
        ("HFB_CATALOG_SYNC_INTERVAL_SECS".into(), "0".into()),
        // Deployments settle fast in tests.
        ("HFB_RECONCILE_INTERVAL_MS".into(), "50".into()),
        ("HFB_RECONCILE_POLL_SECS".into(), "0".into()),
        // Tests sign in many times from one address; rate-limit tests lower these.
        ("HFB_RATE_LIMIT_AUTH_PER_MIN".into(), "100000".into()),
        ("HFB_RATE_LIMIT_PER_MIN".into(), "100000".into()),
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
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        url,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        data_dir,
        state,
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

pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in browser: the access token in memory and the two session cookies.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub csrf: String,
    pub user: serde_json::Value,
}

impl Session {
    pub fn user_id(&self) -> String {
        self.user["id"].as_str().unwrap().to_owned()
    }

    pub fn personal_team(&self) -> String {
        self.user["current_team_id"].as_str().unwrap().to_owned()
    }
}

pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The value of cookie `name` among a response's Set-Cookie headers (with its attributes).
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

impl TestApp {
    pub async fn session_from(&self, res: reqwest::Response) -> Session {
        assert!(
            res.status().is_success(),
            "sign-in failed: {}",
            res.status()
        );
        let refresh = cookie_value(&set_cookie(&res, "hfb_refresh").expect("refresh cookie"));
        let csrf = cookie_value(&set_cookie(&res, "hfb_csrf").expect("csrf cookie"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["csrf_token"], csrf.as_str());
        Session {
            access: body["access_token"].as_str().unwrap().to_owned(),
            refresh,
            csrf,
            user: body["user"].clone(),
        }
    }

    pub async fn signup_raw(&self, email: &str, password: &str, name: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/signup",
            &serde_json::json!({"email": email, "password": password, "display_name": name}),
        )
        .await
    }

    /// Signs up a new user with a unique e-mail.
    pub async fn signup(&self, tag: &str) -> (String, Session) {
        let email = unique_email(tag);
        let res = self.signup_raw(&email, PASSWORD, tag).await;
        assert_eq!(res.status(), 201);
        (email.clone(), self.session_from(res).await)
    }

    pub async fn login_raw(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let res = self.login_raw(email, password).await;
        self.session_from(res).await
    }

    /// A cookie-authenticated call as the browser makes it (cookies, CSRF header, Origin).
    pub fn cookie_call(&self, path: &str, s: &Session) -> reqwest::RequestBuilder {
        self.client
            .post(self.at(path))
            .header(
                "cookie",
                format!("hfb_refresh={}; hfb_csrf={}", s.refresh, s.csrf),
            )
            .header("x-csrf-token", &s.csrf)
            .header("origin", &self.url)
    }

    pub async fn refresh(&self, s: &Session) -> reqwest::Response {
        self.cookie_call("/api/v1/auth/refresh", s)
            .send()
            .await
            .unwrap()
    }

    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.at(path))
            .bearer_auth(token)
    }

    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.authed(reqwest::Method::GET, path, token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_as(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.authed(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.authed(reqwest::Method::DELETE, path, token)
            .send()
            .await
            .unwrap()
    }

    /// Creates an API key and returns (key, id).
    pub async fn create_key(
        &self,
        token: &str,
        scopes: &[&str],
        team: Option<&str>,
    ) -> (String, String) {
        let mut body = serde_json::json!({"name": "test key", "scopes": scopes});
        if let Some(team) = team {
            body["team_id"] = team.into();
        }
        let res = self.post_as("/api/v1/me/api-keys", token, &body).await;
        assert_eq!(res.status(), 201);
        let created: serde_json::Value = res.json().await.unwrap();
        (
            created["key"].as_str().unwrap().to_owned(),
            created["api_key"]["id"].as_str().unwrap().to_owned(),
        )
    }
}
