//! The OpenAPI document covers every route and the reference page renders it.

use crate::helpers::spawn_app;

#[tokio::test]
async fn openapi_json_documents_every_route() {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), 200);
    let spec: serde_json::Value = res.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );
    assert_eq!(spec["info"]["title"], "hfb API");
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/ws", "get"),
        ("/api/v1/version", "get"),
        ("/api/v1/health", "get"),
        ("/api/v1/telemetry/client-errors", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the spec"
        );
    }
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
    // The documented routes all answer (none is a dangling entry).
    for path in ["/healthz", "/readyz", "/api/v1/version", "/api/v1/health"] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn the_reference_page_and_its_assets_are_served() {
    let app = spawn_app().await;
    let page = app.get("/api/docs").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/docs/app.js") && html.contains("/api/docs/style.css"));
    let js = app.get("/api/docs/app.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("/api/openapi.json"));
    assert_eq!(app.get("/api/docs/style.css").await.status(), 200);
}
