//! The server serves the built web app with deep links, caching rules and compression.

use crate::helpers::{HASHED_JS, INDEX_HTML, assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_root_and_deep_links_serve_index_html_uncached() {
    let app = spawn_app().await;
    for path in ["/", "/settings", "/catalog/some/deep/link", "/index.html"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(res.text().await.unwrap(), INDEX_HTML, "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_cached_for_a_year_and_others_for_an_hour() {
    let app = spawn_app().await;
    let res = app.get(&format!("/{HASHED_JS}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let res = app.get("/robots.txt").await;
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.at(&format!("/{HASHED_JS}")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let res = app
        .client
        .get(app.at("/api/v1/nope"))
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_missing_asset_file_under_api_is_never_the_web_app() {
    let app = spawn_app().await;
    assert_error(app.get("/api/hfb-frontend.js").await, 404, "not_found").await;
}

#[tokio::test]
async fn without_a_built_web_app_the_server_says_how_to_build_it() {
    let app = spawn_app_with(&[("HFB_STATIC_DIR", "/nonexistent-hfb-dist")]).await;
    let res = app.get("/deployments").await;
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("not built"));
    // The API keeps working.
    assert_eq!(app.get("/api/v1/version").await.status(), 200);
}
