use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_alive_with_a_request_id() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "alive");
}

#[tokio::test]
async fn readyz_reports_each_dependency_on_the_embedded_defaults() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready", "{body}");
    let checks = body["checks"].as_array().unwrap();
    let store = checks.iter().find(|c| c["name"] == "store").unwrap();
    let cache = checks.iter().find(|c| c["name"] == "cache").unwrap();
    let expected_store = if std::env::var_os("HFB_TEST_API_MONGODB_URI").is_some() {
        "mongodb"
    } else {
        "sqlite"
    };
    assert_eq!(store["backend"], expected_store);
    assert_eq!(store["status"], "up");
    assert_eq!(cache["backend"], "memory");
    assert_eq!(cache["status"], "up");
    assert!(body["checked_at"].as_str().unwrap().contains('T'));
}

#[tokio::test]
async fn version_describes_the_server() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/version").await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["name"], "hfb");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["api_version"], "v1");
    assert_eq!(body["environment"], "development");
    assert_eq!(body["instance_id"].as_str().unwrap().len(), 12);
}

#[tokio::test]
async fn a_plain_caller_request_id_is_echoed_and_a_hostile_one_replaced() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.at("/healthz"))
        .header("x-request-id", "lb-1234.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-1234.abc");
    let res = app
        .client
        .get(app.at("/healthz"))
        .header("x-request-id", "bad id\"}{<script>")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
}

#[tokio::test]
async fn data_survives_a_restart_on_the_same_data_dir() {
    // The generated development secrets are kept under the data dir, so a restart keeps
    // sessions valid; the SQLite file is created there too.
    let app = spawn_app().await;
    let dir = app.data_dir.path().display().to_string();
    let secrets = std::fs::read_to_string(app.data_dir.path().join("secrets.env")).unwrap();
    assert!(
        app.data_dir.path().join("hfb.sqlite3").exists()
            || std::env::var_os("HFB_TEST_API_MONGODB_URI").is_some()
    );
    app.stop().await;
    let again = spawn_app_with(&[("HFB_DATA_DIR", &dir)]).await;
    assert_eq!(again.get("/readyz").await.status(), 200);
    assert_eq!(
        std::fs::read_to_string(app.data_dir.path().join("secrets.env")).unwrap(),
        secrets
    );
}
