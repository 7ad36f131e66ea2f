//! The catalog: import, search (text, filters, facets, sort, pages), caching and ETags,
//! model detail with a sanitized card, live fill-in from a (wiremock) Hub, the
//! Hub-compatible routes, and the `hfb catalog import` command.

use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{TestApp, assert_error, spawn_app_with};

const FIXTURE: &str = include_str!("fixtures/hub_models.json");

/// An app with the fixture imported by an operator, offline (no live Hub).
async fn catalog_app(extra: &[(&str, &str)]) -> (TestApp, String) {
    let admin = format!("ops-{}@example.com", uuid::Uuid::new_v4().simple());
    let mut vars = vec![
        ("HFB_ADMIN_EMAILS", admin.as_str()),
        ("HFB_CATALOG_LIVE", "false"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let s = app
        .session_from(
            app.signup_raw(&admin, crate::helpers::PASSWORD, "Ops")
                .await,
        )
        .await;
    let res = app
        .authed(
            reqwest::Method::POST,
            "/api/v1/admin/catalog/import",
            &s.access,
        )
        .header("content-type", "application/json")
        .body(FIXTURE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["received"].as_u64(), report["inserted"].as_u64()),
        (Some(6), Some(6)),
        "{report}"
    );
    (app, s.access)
}

async fn search(app: &TestApp, query: &str) -> Value {
    let res = app.get(&format!("/api/v1/models?{query}")).await;
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn text_search_matches_tokens_and_prefixes() {
    let (app, _) = catalog_app(&[]).await;
    assert_eq!(
        ids(&search(&app, "q=mini").await),
        ["sentence-transformers/all-MiniLM-L6-v2"]
    );
    // Matches the id of one and a tag of the other.
    assert_eq!(search(&app, "q=SENTENCE-trans").await["total"], 2);
    assert_eq!(
        ids(&search(&app, "q=bert%20uncased").await),
        ["google-bert/bert-base-uncased"]
    );
    let none = search(&app, "q=.*%24where(%22").await;
    assert_eq!(none["total"], 0, "operator characters are just text");
}

#[tokio::test]
async fn filters_sort_pages_and_facets() {
    let (app, _) = catalog_app(&[]).await;
    let all = search(&app, "").await;
    assert_eq!(all["total"], 6);
    assert_eq!(
        all["items"][0]["id"], "sentence-transformers/all-MiniLM-L6-v2",
        "most downloaded first"
    );
    let tasks = all["facets"]["tasks"].as_array().unwrap();
    assert_eq!(
        tasks[0],
        json!({"value": "sentence-similarity", "count": 2})
    );

    let body = search(&app, "task=sentence-similarity&sort=likes&direction=asc").await;
    assert_eq!(
        ids(&body),
        [
            "intfloat/multilingual-e5-small",
            "sentence-transformers/all-MiniLM-L6-v2"
        ]
    );
    assert_eq!(search(&app, "license=mit").await["total"], 1);
    assert_eq!(search(&app, "language=de").await["total"], 2);
    assert_eq!(search(&app, "tag=bert&tag=pytorch").await["total"], 3);
    assert_eq!(
        search(&app, "library=transformers&gated=true").await["total"],
        1
    );
    assert_eq!(search(&app, "author=OPENAI").await["total"], 1);

    let p1 = search(&app, "per_page=4&sort=trending").await;
    let p2 = search(&app, "per_page=4&sort=trending&page=2").await;
    assert_eq!(
        (p1["pages"].as_u64(), ids(&p1).len(), ids(&p2).len()),
        (Some(2), 4, 2)
    );
    assert_eq!(p1["items"][0]["id"], "meta-llama/Llama-3.1-8B-Instruct");
    let past = search(&app, "page=9").await;
    assert_eq!((past["total"].as_u64(), ids(&past).len()), (Some(6), 0));
}

#[tokio::test]
async fn bad_search_parameters_are_400s() {
    let (app, _) = catalog_app(&[]).await;
    for query in [
        "sort=best",
        "per_page=1000",
        "page=0",
        "gated=sometimes",
        "task=%24ne",
        "colour=red",
    ] {
        let body = assert_error(
            app.get(&format!("/api/v1/models?{query}")).await,
            400,
            "invalid_query",
        )
        .await;
        assert!(
            body["error"]["details"]["fields"].is_array(),
            "{query}: {body}"
        );
    }
    let long = "x".repeat(201);
    assert_error(
        app.get(&format!("/api/v1/models?q={long}")).await,
        400,
        "invalid_query",
    )
    .await;
    assert_error(
        app.get("/api/v1/models/not..valid/x").await,
        400,
        "invalid_path",
    )
    .await;
}

#[tokio::test]
async fn searches_carry_etags_and_change_when_the_catalog_does() {
    let (app, token) = catalog_app(&[]).await;
    let res = app.get("/api/v1/models?q=bert").await;
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app
        .client
        .get(app.at("/api/v1/models?q=bert"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let more = json!([{"id": "acme/bert-tiny", "pipeline_tag": "fill-mask", "tags": ["bert"], "downloads": 1}]);
    let res = app
        .authed(
            reqwest::Method::POST,
            "/api/v1/admin/catalog/import",
            &token,
        )
        .json(&more)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.at("/api/v1/models?q=bert"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "a catalog change retires the ETag");
    assert_eq!(
        res.json::<Value>().await.unwrap()["total"],
        4,
        "three bert models, then one more"
    );
}

#[tokio::test]
async fn imports_report_bad_entries_and_need_an_operator() {
    let (app, token) = catalog_app(&[]).await;
    let body = json!([{"id": "ok/model"}, {"nope": 1}, {"id": "bad..id/x"}, {"id": "x/y", "downloads": "many"}]);
    let res = app
        .authed(
            reqwest::Method::POST,
            "/api/v1/admin/catalog/import",
            &token,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    let report: Value = res.json().await.unwrap();
    let rejected: Vec<u64> = report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [1, 2, 3], "{report}");
    assert_eq!(report["inserted"], 1);
    let res = app
        .authed(
            reqwest::Method::POST,
            "/api/v1/admin/catalog/import",
            &token,
        )
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "invalid_json").await;

    let (_, someone) = app.signup("not-ops").await;
    let res = app
        .authed(
            reqwest::Method::POST,
            "/api/v1/admin/catalog/import",
            &someone.access,
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_error(res, 403, "forbidden").await;
}

#[tokio::test]
async fn model_detail_offline_has_files_and_metadata() {
    let (app, _) = catalog_app(&[]).await;
    let res = app
        .get("/api/v1/models/sentence-transformers/all-MiniLM-L6-v2")
        .await;
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["model"]["task"], "sentence-similarity");
    assert_eq!(detail["model"]["license"], "apache-2.0");
    assert_eq!(detail["files"].as_array().unwrap().len(), 4);
    assert_eq!(detail["card_metadata"]["license"], "apache-2.0");
    assert!(detail["card_html"].is_null(), "no Hub, no card");
    assert_error(
        app.get("/api/v1/models/nobody/nothing").await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn the_live_hub_fills_gaps_and_its_cards_are_sanitized() {
    let hub = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .and(query_param("search", "whisper large"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "openai/whisper-large-v3", "author": "openai", "pipeline_tag": "automatic-speech-recognition",
             "tags": ["whisper", "license:apache-2.0"], "downloads": 500, "likes": 9}
        ])))
        .expect(1)
        .mount(&hub)
        .await;
    Mock::given(method("GET"))
        .and(path("/openai/whisper-small/raw/main/README.md"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "---\nlicense: apache-2.0\n---\n# Whisper\n<script>alert('x')</script>\n[click](javascript:alert(1))\n",
        ))
        .mount(&hub)
        .await;
    let (app, _) = catalog_app(&[("HFB_CATALOG_LIVE", "true"), ("HF_ENDPOINT", &hub.uri())]).await;
    let found = search(&app, "q=whisper%20large").await;
    assert_eq!(ids(&found), ["openai/whisper-large-v3"]);
    let again = search(&app, "q=whisper%20large").await;
    assert_eq!(
        ids(&again),
        ["openai/whisper-large-v3"],
        "now served locally (the mock expects one call)"
    );

    let detail: Value = app
        .get("/api/v1/models/openai/whisper-small")
        .await
        .json()
        .await
        .unwrap();
    let html = detail["card_html"].as_str().unwrap();
    assert!(html.contains("<h1>Whisper</h1>"), "{html}");
    assert!(
        !html.contains("<script") && !html.contains("javascript:"),
        "{html}"
    );
}

#[tokio::test]
async fn an_unreachable_hub_never_breaks_search() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let (app, _) = catalog_app(&[("HFB_CATALOG_LIVE", "true"), ("HF_ENDPOINT", &endpoint)]).await;
    let body = search(&app, "q=nothing-like-this").await;
    assert_eq!(body["total"], 0);
    assert_eq!(search(&app, "q=mini").await["total"], 1);
}

#[tokio::test]
async fn hub_compatible_listing_paginates_with_link_headers() {
    let (app, _) = catalog_app(&[]).await;
    let res = app
        .get("/api/models?limit=4&sort=downloads&direction=-1")
        .await;
    assert_eq!(res.status(), 200);
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    let first: Vec<Value> = res.json().await.unwrap();
    assert_eq!(first.len(), 4);
    assert_eq!(first[0]["id"], "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(first[0]["modelId"], first[0]["id"]);
    assert!(first[0]["_id"].as_str().unwrap().len() == 24);
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let res = app.client.get(next).send().await.unwrap();
    assert!(!res.headers().contains_key("link"), "last page");
    let second: Vec<Value> = res.json().await.unwrap();
    assert_eq!(second.len(), 2);

    let filtered: Vec<Value> = app
        .get("/api/models?filter=license:mit")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    let searched: Vec<Value> = app
        .get("/api/models?search=llama&pipeline_tag=text-generation")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(searched[0]["gated"], "manual");

    let info: Value = app
        .get("/api/models/sentence-transformers/all-MiniLM-L6-v2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["siblings"][1]["rfilename"], "model.safetensors");
    assert_eq!(info["cardData"]["license"], "apache-2.0");
    let res = app.get("/api/models/nobody/nothing").await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Repository not found"})
    );
}

#[tokio::test]
async fn a_private_catalog_needs_a_signed_in_caller() {
    let (app, token) = catalog_app(&[("HFB_CATALOG_PUBLIC", "false")]).await;
    assert_error(app.get("/api/v1/models").await, 401, "unauthorized").await;
    assert_eq!(app.get_as("/api/v1/models", &token).await.status(), 200);
}

#[tokio::test]
async fn the_cli_imports_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("models.json");
    std::fs::write(&file, FIXTURE).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hfb"))
        .args(["catalog", "import"])
        .arg(&file)
        .env("HFB_DATA_DIR", dir.path())
        .env_remove("MONGODB_URI")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inserted"], 6);
    // A server on the same data dir sees them.
    let app = spawn_app_with(&[
        ("HFB_DATA_DIR", dir.path().to_str().unwrap()),
        ("HFB_CATALOG_LIVE", "false"),
    ])
    .await;
    if std::env::var_os("HFB_TEST_API_MONGODB_URI").is_none() {
        assert_eq!(search(&app, "").await["total"], 6);
    }
}

#[tokio::test]
async fn the_sync_worker_copies_the_most_downloaded_models_and_refreshes_opened_ones() {
    let hub = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .and(query_param("sort", "downloads"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "acme/popular-one", "pipeline_tag": "text-classification", "downloads": 900, "tags": ["license:mit"]},
            {"id": "acme/popular-two", "pipeline_tag": "fill-mask", "downloads": 800}
        ])))
        .mount(&hub)
        .await;
    let app = spawn_app_with(&[
        ("HF_ENDPOINT", &hub.uri()),
        ("HFB_CATALOG_SYNC_INTERVAL_SECS", "1"),
        ("HFB_CATALOG_SYNC_TOP", "2"),
    ])
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let body = search(&app, "sort=downloads").await;
        if body["total"] == 2 {
            assert_eq!(ids(&body), ["acme/popular-one", "acme/popular-two"]);
            assert_eq!(body["items"][0]["source"], "synced");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sync worker never ran: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // A model someone opens is refreshed by the next round.
    Mock::given(method("GET"))
        .and(path("/api/models/acme/popular-two"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "acme/popular-two", "downloads": 800, "likes": 77})),
        )
        .mount(&hub)
        .await;
    assert_eq!(
        app.get("/api/v1/models/acme/popular-two").await.status(),
        200
    );
    let round = hfb_backend::workers::catalog_sync::run_once(&app.state)
        .await
        .unwrap();
    assert_eq!(round.fetched, 3, "top 2 + 1 opened");
    let detail: Value = app
        .get("/api/v1/models/acme/popular-two")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["model"]["likes"], 77);
}
