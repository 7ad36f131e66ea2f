//! The Hub client against wiremock standing in for huggingface.co (fixtures in Hub shapes).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use hfb_hub::{
    Gated, HubClient, HubConfig, HubError, HubModel, HubSort, ListModelsQuery, ModelPage,
};
use serde_json::Value;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PAGE1: &str = include_str!("fixtures/models_page1.json");
const PAGE2: &str = include_str!("fixtures/models_page2.json");
const PAGE3: &str = include_str!("fixtures/models_page3.json");
const BERT: &str = include_str!("fixtures/model_bert.json");
const MINILM: &str = include_str!("fixtures/model_minilm.json");
const LLAMA: &str = include_str!("fixtures/model_llama.json");
const MINILM_CARD: &str = include_str!("fixtures/README_minilm.md");

const TOKEN: &str = "hf_TESTtokenDoNotLeak123";

/// Fast retries so failure paths take milliseconds.
fn config(server: &MockServer) -> HubConfig {
    HubConfig {
        endpoint: server.uri(),
        timeout: Duration::from_secs(5),
        max_retries: 3,
        max_backoff: Duration::from_millis(20),
        ..HubConfig::default()
    }
}

async fn hub() -> (MockServer, HubClient) {
    let server = MockServer::start().await;
    let client = HubClient::new(config(&server)).unwrap();
    (server, client)
}

fn json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn hub_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({ "error": message }))
}

fn ids(models: &[HubModel]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

/// Three pages of two models; page N links to page N+1 with a cursor, page 3 has no link.
async fn mount_three_pages(server: &MockServer) {
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .and(query_param_is_missing("cursor"))
        .respond_with(json(PAGE1).insert_header(
            "link",
            format!(r#"<{base}/api/models?limit=2&cursor=cDI>; rel="next""#),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .and(query_param("cursor", "cDI"))
        .respond_with(json(PAGE2).insert_header(
            "link",
            format!(r#"<{base}/api/models?limit=2&cursor=cDM>; rel="next""#),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .and(query_param("cursor", "cDM"))
        .respond_with(json(PAGE3))
        .mount(server)
        .await;
}

// --- query serialization -------------------------------------------------------------

#[tokio::test]
async fn list_models_sends_the_query_the_hub_expects() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .respond_with(json("[]"))
        .mount(&server)
        .await;

    let query = ListModelsQuery {
        search: Some("MiniLM L6".into()),
        author: Some("sentence-transformers".into()),
        filter: vec![
            "sentence-transformers".into(),
            "en".into(),
            "license:apache-2.0".into(),
        ],
        pipeline_tag: Some("sentence-similarity".into()),
        sort: Some(HubSort::Downloads),
        limit: Some(50),
        full: true,
        card_data: true,
        config: true,
        expand: vec![],
    };
    client.list_models(&query).await.unwrap();

    let sent = &requests(&server).await[0];
    let pairs: Vec<(String, String)> = sent.url.query_pairs().into_owned().collect();
    let want: Vec<(String, String)> = [
        ("search", "MiniLM L6"),
        ("author", "sentence-transformers"),
        ("filter", "sentence-transformers"),
        ("filter", "en"),
        ("filter", "license:apache-2.0"),
        ("pipeline_tag", "sentence-similarity"),
        ("sort", "downloads"),
        ("direction", "-1"),
        ("limit", "50"),
        ("full", "true"),
        ("cardData", "true"),
        ("config", "true"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(pairs, want);
    // Colons stay readable and spaces are form-encoded, as the Python client sends them.
    let raw = sent.url.query().unwrap();
    assert!(
        raw.contains("filter=license%3Aapache-2.0") || raw.contains("filter=license:apache-2.0"),
        "{raw}"
    );
    assert!(raw.contains("search=MiniLM+L6"), "{raw}");
}

#[tokio::test]
async fn every_sort_key_and_expand_are_sent_in_hub_spelling() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path("/api/models"))
        .respond_with(json("[]"))
        .mount(&server)
        .await;

    for sort in HubSort::ALL {
        let query = ListModelsQuery {
            sort: Some(sort),
            expand: vec!["downloads".into(), "likes".into(), "gated".into()],
            ..ListModelsQuery::default()
        };
        client.list_models(&query).await.unwrap();
    }
    client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap();

    let sent = requests(&server).await;
    let sorts: Vec<String> = sent[..5]
        .iter()
        .map(|r| {
            let pairs: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
            let expands: Vec<&str> = pairs
                .iter()
                .filter(|(k, _)| k == "expand")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(expands, ["downloads", "likes", "gated"]);
            assert!(pairs.contains(&("direction".into(), "-1".into())));
            assert!(!pairs.iter().any(|(k, _)| k == "full" || k == "cardData"));
            pairs.into_iter().find(|(k, _)| k == "sort").unwrap().1
        })
        .collect();
    assert_eq!(
        sorts,
        [
            "downloads",
            "likes",
            "lastModified",
            "createdAt",
            "trendingScore"
        ]
    );
    assert_eq!(
        sent[5].url.query(),
        None,
        "a default query sends no parameters"
    );
}

// --- pagination ------------------------------------------------------------------------

#[tokio::test]
async fn a_page_carries_its_models_and_the_next_link() {
    let (server, client) = hub().await;
    mount_three_pages(&server).await;

    let page = client
        .list_models(&ListModelsQuery {
            limit: Some(2),
            ..ListModelsQuery::default()
        })
        .await
        .unwrap();

    assert_eq!(
        ids(&page.models),
        [
            "google-bert/bert-base-uncased",
            "sentence-transformers/all-MiniLM-L6-v2"
        ]
    );
    assert_eq!(
        page.next.as_deref(),
        Some(format!("{}/api/models?limit=2&cursor=cDI", server.uri()).as_str())
    );
    let bert = &page.models[0];
    assert_eq!(bert.object_id.as_deref(), Some("621ffdc036468d709f174338"));
    assert_eq!(
        bert.model_id.as_deref(),
        Some("google-bert/bert-base-uncased")
    );
    assert_eq!(bert.downloads, Some(72_376_843));
    assert_eq!(bert.likes, Some(2065));
    assert_eq!(bert.trending_score, Some(12.0));
    assert_eq!(bert.private, Some(false));
    assert_eq!(bert.gated, Gated::Ungated);
    assert_eq!(bert.pipeline_tag.as_deref(), Some("fill-mask"));
    assert_eq!(bert.library_name.as_deref(), Some("transformers"));
    assert_eq!(
        bert.created_at.map(|t| t.to_rfc3339()),
        Some("2022-03-02T23:29:04+00:00".to_owned())
    );
    assert_eq!(bert.license().as_deref(), Some("apache-2.0"));
    assert_eq!(bert.languages(), ["en"]);
    assert_eq!(bert.datasets(), ["bookcorpus", "wikipedia"]);
    assert!(bert.siblings.is_empty() && bert.card_data.is_none());
}

#[tokio::test]
async fn following_next_links_walks_three_pages() {
    let (server, client) = hub().await;
    mount_three_pages(&server).await;

    let mut page = client
        .list_models(&ListModelsQuery {
            limit: Some(2),
            ..ListModelsQuery::default()
        })
        .await
        .unwrap();
    let mut seen = ids(&page.models).join(",");
    let mut pages = 1;
    while let Some(next) = page.next.clone() {
        page = client.list_models_from(&next).await.unwrap();
        seen.push(',');
        seen.push_str(&ids(&page.models).join(","));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        "google-bert/bert-base-uncased,sentence-transformers/all-MiniLM-L6-v2,\
         meta-llama/Llama-3.2-1B,FacebookAI/roberta-base,\
         distilbert/distilbert-base-uncased-finetuned-sst-2-english,gpt2"
    );
    assert_eq!(
        page,
        ModelPage {
            models: page.models.clone(),
            next: None
        }
    );
}

#[tokio::test]
async fn list_all_follows_until_the_link_is_absent() {
    let (server, client) = hub().await;
    mount_three_pages(&server).await;

    let query = ListModelsQuery {
        limit: Some(2),
        sort: Some(HubSort::Downloads),
        ..ListModelsQuery::default()
    };
    let models = client.list_all(&query, 100).await.unwrap();

    assert_eq!(models.len(), 6);
    assert_eq!(models[2].gated, Gated::Manual);
    assert_eq!(
        models[5].id, "gpt2",
        "legacy entries with only modelId get an id"
    );
    assert_eq!(models[5].gated, Gated::Auto, "legacy `gated: true`");
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn list_all_stops_at_max_items() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(path("/api/models"))
        .and(query_param_is_missing("cursor"))
        .respond_with(json(PAGE1).insert_header(
            "link",
            format!(r#"<{base}/api/models?cursor=cDI>; rel="next""#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models"))
        .and(query_param("cursor", "cDI"))
        .respond_with(json(PAGE2).insert_header(
            "link",
            format!(r#"<{base}/api/models?cursor=cDM>; rel="next""#),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models"))
        .and(query_param("cursor", "cDM"))
        .respond_with(json(PAGE3))
        .expect(0)
        .mount(&server)
        .await;
    let client = HubClient::new(config(&server)).unwrap();

    let models = client
        .list_all(
            &ListModelsQuery {
                limit: Some(2),
                ..ListModelsQuery::default()
            },
            3,
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&models),
        [
            "google-bert/bert-base-uncased",
            "sentence-transformers/all-MiniLM-L6-v2",
            "meta-llama/Llama-3.2-1B"
        ]
    );

    assert!(
        client
            .list_all(&ListModelsQuery::default(), 0)
            .await
            .unwrap()
            .is_empty()
    );
    // `expect` counts are verified when the server drops.
}

#[tokio::test]
async fn list_all_asks_for_pages_no_larger_than_needed() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1))
        .mount(&server)
        .await;

    client
        .list_all(&ListModelsQuery::default(), 5)
        .await
        .unwrap();
    client
        .list_all(&ListModelsQuery::default(), 50_000)
        .await
        .unwrap();

    let limits: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "limit")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(limits, ["5", "1000"]);
}

#[tokio::test]
async fn relative_next_links_resolve_against_the_page_url() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .and(query_param_is_missing("cursor"))
        .respond_with(json(PAGE1).insert_header("link", r#"</api/models?cursor=cDI>; rel="next""#))
        .mount(&server)
        .await;
    Mock::given(path("/api/models"))
        .and(query_param("cursor", "cDI"))
        .respond_with(json(PAGE3))
        .mount(&server)
        .await;

    let page = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap();
    assert_eq!(
        page.next.as_deref(),
        Some(format!("{}/api/models?cursor=cDI", server.uri()).as_str())
    );
    let models = client
        .list_all(&ListModelsQuery::default(), 10)
        .await
        .unwrap();
    assert_eq!(models.len(), 4);
}

#[tokio::test]
async fn a_repeated_next_link_does_not_loop() {
    let (server, client) = hub().await;
    let base = server.uri();
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1).insert_header(
            "link",
            format!(r#"<{base}/api/models?cursor=same>; rel="next""#),
        ))
        .mount(&server)
        .await;

    let models = client
        .list_all(&ListModelsQuery::default(), 100)
        .await
        .unwrap();
    assert_eq!(models.len(), 4, "first page, then the linked page once");
    assert_eq!(requests(&server).await.len(), 2);
}

// --- model info and card ---------------------------------------------------------------

#[tokio::test]
async fn model_info_reads_a_full_entry() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path("/api/models/sentence-transformers/all-MiniLM-L6-v2"))
        .respond_with(json(MINILM))
        .expect(1)
        .mount(&server)
        .await;

    let m = client
        .model_info("sentence-transformers/all-MiniLM-L6-v2", None)
        .await
        .unwrap();

    assert_eq!(m.id, "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(m.author.as_deref(), Some("sentence-transformers"));
    assert_eq!(
        m.sha.as_deref(),
        Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf")
    );
    assert_eq!(m.disabled, Some(false));
    assert_eq!(m.trending_score, Some(45.5));
    assert_eq!(m.siblings.len(), 14);
    assert_eq!(m.siblings[1].rfilename, "1_Pooling/config.json");
    assert_eq!(m.siblings[1].size, None);
    assert_eq!(m.parameters(), Some(22_713_728));
    assert_eq!(m.spaces, ["mteb/leaderboard", "Nymbo/Embedding-Playground"]);
    assert_eq!(m.config.as_ref().unwrap()["model_type"], "bert");
    assert_eq!(
        m.card_data.as_ref().unwrap()["pipeline_tag"],
        "sentence-similarity"
    );
    assert_eq!(m.license().as_deref(), Some("apache-2.0"));
    assert_eq!(m.languages(), ["en"]);
    let datasets = m.datasets();
    assert_eq!(
        &datasets[..3],
        [
            "s2orc",
            "ms_marco",
            "sentence-transformers/embedding-training-data"
        ]
    );
    assert!(datasets.contains(&"embedding-data/WikiAnswers".to_owned()));
    assert_eq!(datasets.iter().filter(|d| *d == "ms_marco").count(), 1);
}

#[tokio::test]
async fn model_info_with_file_metadata_and_gating() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models/google-bert/bert-base-uncased"))
        .respond_with(json(BERT))
        .mount(&server)
        .await;
    Mock::given(path("/api/models/meta-llama/Llama-3.2-1B"))
        .respond_with(json(LLAMA))
        .mount(&server)
        .await;

    let bert = client
        .model_info("google-bert/bert-base-uncased", None)
        .await
        .unwrap();
    let weights = bert
        .siblings
        .iter()
        .find(|s| s.rfilename == "model.safetensors")
        .unwrap();
    assert_eq!(weights.size, Some(440_449_768));
    assert_eq!(
        weights.blob_id.as_deref(),
        Some("a7a17d6d844b5de815ccab5f42cad6d24496db3850a2a43d8258221018ce87d2")
    );
    assert_eq!(weights.lfs.as_ref().unwrap()["pointerSize"], 135);
    assert_eq!(bert.downloads_all_time, Some(1_843_567_123));
    assert_eq!(bert.inference.as_deref(), Some("warm"));
    assert_eq!(
        bert.last_modified.map(|t| t.timestamp_millis()),
        Some(1_708_340_772_000)
    );

    let llama = client
        .model_info("meta-llama/Llama-3.2-1B", None)
        .await
        .unwrap();
    assert_eq!(llama.gated, Gated::Manual);
    assert!(llama.gated.is_gated());
    assert_eq!(llama.license().as_deref(), Some("llama3.2"));
    assert_eq!(
        llama.languages(),
        ["en", "de", "fr", "it", "pt", "hi", "es", "th"]
    );
    assert_eq!(llama.parameters(), Some(1_235_814_400));
}

#[tokio::test]
async fn model_info_at_a_revision() {
    let (server, client) = hub().await;
    Mock::given(path(
        "/api/models/google-bert/bert-base-uncased/revision/86b5e0934494bd15c9632b12f734a8a67f723594",
    ))
    .respond_with(json(BERT))
    .expect(1)
    .mount(&server)
    .await;
    Mock::given(path(
        "/api/models/google-bert/bert-base-uncased/revision/refs%2Fpr%2F42",
    ))
    .respond_with(json(BERT))
    .expect(1)
    .mount(&server)
    .await;

    let m = client
        .model_info(
            "google-bert/bert-base-uncased",
            Some("86b5e0934494bd15c9632b12f734a8a67f723594"),
        )
        .await
        .unwrap();
    assert_eq!(
        m.sha.as_deref(),
        Some("86b5e0934494bd15c9632b12f734a8a67f723594")
    );
    // A branch with slashes stays one path segment, as huggingface_hub encodes it.
    client
        .model_info("google-bert/bert-base-uncased", Some("refs/pr/42"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_renamed_repo_is_followed_through_its_redirect() {
    let server = MockServer::start().await;
    Mock::given(path("/api/models/bert-base-uncased"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("location", "/api/models/google-bert/bert-base-uncased")
                .set_body_json(serde_json::json!({"message": "Temporary Redirect"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models/google-bert/bert-base-uncased"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json(BERT))
        .expect(1)
        .mount(&server)
        .await;
    let client = HubClient::new(HubConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    })
    .unwrap();

    let m = client.model_info("bert-base-uncased", None).await.unwrap();
    assert_eq!(m.id, "google-bert/bert-base-uncased");
}

#[tokio::test]
async fn model_card_is_the_raw_readme() {
    let (server, client) = hub().await;
    Mock::given(method("GET"))
        .and(path(
            "/sentence-transformers/all-MiniLM-L6-v2/raw/main/README.md",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string(MINILM_CARD))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(
        "/sentence-transformers/all-MiniLM-L6-v2/raw/v1.0/README.md",
    ))
    .respond_with(ResponseTemplate::new(200).set_body_string("---\nlicense: mit\n---\n# old"))
    .expect(1)
    .mount(&server)
    .await;

    let card = client
        .model_card("sentence-transformers/all-MiniLM-L6-v2", None)
        .await
        .unwrap();
    assert_eq!(card, MINILM_CARD);
    assert!(card.starts_with("---\nlanguage: en\n"));
    let old = client
        .model_card("sentence-transformers/all-MiniLM-L6-v2", Some("v1.0"))
        .await
        .unwrap();
    assert!(old.ends_with("# old"));
}

// --- errors ----------------------------------------------------------------------------

#[tokio::test]
async fn missing_repos_are_not_found_without_retries() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models/acme/missing"))
        .respond_with(hub_error(404, "Repository not found"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/acme/missing/raw/main/README.md"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Entry not found"))
        .expect(1)
        .mount(&server)
        .await;
    // Anonymous requests for a missing (or private) repo get 401 + X-Error-Code.
    Mock::given(path("/api/models/acme/hidden"))
        .respond_with(
            hub_error(401, "Repository Not Found for url")
                .insert_header("x-error-code", "RepoNotFound"),
        )
        .expect(1)
        .mount(&server)
        .await;

    assert_eq!(
        client.model_info("acme/missing", None).await,
        Err(HubError::NotFound)
    );
    assert_eq!(
        client.model_card("acme/missing", None).await,
        Err(HubError::NotFound)
    );
    assert_eq!(
        client.model_info("acme/hidden", None).await,
        Err(HubError::NotFound)
    );
}

#[tokio::test]
async fn gated_or_private_repos_are_unauthorized_without_retries() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models/meta-llama/Llama-3.2-1B"))
        .respond_with(
            hub_error(403, "Access to model meta-llama/Llama-3.2-1B is restricted")
                .insert_header("x-error-code", "GatedRepo"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models/acme/private"))
        .respond_with(hub_error(
            401,
            "Invalid credentials in Authorization header",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client
        .model_info("meta-llama/Llama-3.2-1B", None)
        .await
        .unwrap_err();
    assert_eq!(err, HubError::Unauthorized);
    assert!(!err.is_retryable());
    assert_eq!(
        client.model_info("acme/private", None).await,
        Err(HubError::Unauthorized)
    );
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/api/models"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1))
        .expect(1)
        .mount(&server)
        .await;
    let client = HubClient::new(HubConfig {
        max_backoff: Duration::from_secs(5),
        ..config(&server)
    })
    .unwrap();

    let started = Instant::now();
    let page = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap();
    let waited = started.elapsed();

    assert_eq!(page.models.len(), 2);
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_max_backoff_is_returned_at_once() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .and(query_param("search", "a"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    // The Hub's IETF RateLimit header stands in when Retry-After is missing.
    Mock::given(path("/api/models"))
        .and(query_param("search", "b"))
        .respond_with(ResponseTemplate::new(429).insert_header("ratelimit", r#""api";r=0;t=120"#))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let search = |s: &str| ListModelsQuery {
        search: Some(s.into()),
        ..ListModelsQuery::default()
    };
    assert_eq!(
        client.list_models(&search("a")).await,
        Err(HubError::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        })
    );
    assert_eq!(
        client.list_models(&search("b")).await,
        Err(HubError::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        })
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn rate_limit_without_hint_backs_off_then_gives_up() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .respond_with(hub_error(429, "Too Many Requests"))
        .expect(4)
        .mount(&server)
        .await;

    let err = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap_err();
    assert_eq!(err, HubError::RateLimited { retry_after: None });
    assert!(err.is_retryable());
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models/google-bert/bert-base-uncased"))
        .respond_with(hub_error(503, "Service Unavailable"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/api/models/google-bert/bert-base-uncased"))
        .respond_with(json(BERT))
        .expect(1)
        .mount(&server)
        .await;

    let m = client
        .model_info("google-bert/bert-base-uncased", None)
        .await
        .unwrap();
    assert_eq!(m.id, "google-bert/bert-base-uncased");
}

#[tokio::test]
async fn server_errors_exhaust_retries_into_upstream() {
    let server = MockServer::start().await;
    Mock::given(path("/api/models"))
        .respond_with(hub_error(
            500,
            "Internal Error - We're working hard to fix this as soon as possible!",
        ))
        .expect(3)
        .mount(&server)
        .await;
    let client = HubClient::new(HubConfig {
        max_retries: 2,
        ..config(&server)
    })
    .unwrap();

    let err = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        HubError::Upstream {
            status: 500,
            message: "Internal Error - We're working hard to fix this as soon as possible!".into()
        }
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn client_errors_other_than_429_are_not_retried() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .respond_with(hub_error(
            400,
            "\"expand\" cannot be combined with \"full\"",
        ))
        .expect(1)
        .mount(&server)
        .await;

    let err = client
        .list_models(&ListModelsQuery {
            full: true,
            expand: vec!["likes".into()],
            ..ListModelsQuery::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        HubError::Upstream {
            status: 400,
            message: "\"expand\" cannot be combined with \"full\"".into()
        }
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn malformed_bodies_are_malformed_and_not_retried() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .respond_with(json(r#"[{"id": "a/b", "downloads": 1"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models/a/b"))
        .respond_with(json(r#"{"error": "not a model"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/models/a/html"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .expect(1)
        .mount(&server)
        .await;

    let err = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err:?}");
    assert!(!err.is_retryable());
    let err = client.model_info("a/b", None).await.unwrap_err();
    assert!(
        matches!(err, HubError::Malformed(ref m) if m.contains("id")),
        "{err:?}"
    );
    let err = client.model_info("a/html", None).await.unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn one_unreadable_entry_is_skipped_but_an_unreadable_page_fails() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .and(query_param("search", "mixed"))
        .respond_with(json(
            r#"[{"id": "a/ok", "likes": 1}, {"id": "a/bad", "likes": "many"}, {"likes": 2}]"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/api/models"))
        .and(query_param("search", "bad"))
        .respond_with(json(r#"[{"id": "a/bad", "likes": "many"}]"#))
        .mount(&server)
        .await;
    let search = |s: &str| ListModelsQuery {
        search: Some(s.into()),
        ..ListModelsQuery::default()
    };

    let page = client.list_models(&search("mixed")).await.unwrap();
    assert_eq!(ids(&page.models), ["a/ok"]);
    let err = client.list_models(&search("bad")).await.unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err:?}");
}

#[tokio::test]
async fn slow_answers_time_out_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = HubClient::new(HubConfig {
        timeout: Duration::from_millis(200),
        max_retries: 1,
        ..config(&server)
    })
    .unwrap();

    let started = Instant::now();
    let err = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap_err();
    let took = started.elapsed();

    assert_eq!(err, HubError::Timeout);
    assert!(err.is_retryable());
    assert!(
        took >= Duration::from_millis(400),
        "two attempts of 200 ms, took {took:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn unreachable_hub_is_a_network_error_after_retries() {
    // A port that was just free: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = HubClient::new(HubConfig {
        endpoint: format!("http://127.0.0.1:{port}"),
        token: Some(TOKEN.into()),
        max_retries: 2,
        max_backoff: Duration::from_millis(5),
        ..HubConfig::default()
    })
    .unwrap();

    let err = client.model_info("a/b", None).await.unwrap_err();
    assert!(matches!(err, HubError::Network(_)), "{err:?}");
    assert!(err.is_retryable());
    assert!(!err.to_string().contains(TOKEN));
}

// --- authentication --------------------------------------------------------------------

#[tokio::test]
async fn the_token_is_sent_as_a_bearer() {
    let server = MockServer::start().await;
    Mock::given(path("/api/models"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json(PAGE1))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/google-bert/bert-base-uncased/raw/main/README.md"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string("# card"))
        .expect(1)
        .mount(&server)
        .await;
    let client = HubClient::new(HubConfig {
        token: Some(format!(" {TOKEN}\n")),
        ..config(&server)
    })
    .unwrap();
    assert!(client.is_authenticated());

    client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap();
    client
        .model_card("google-bert/bert-base-uncased", None)
        .await
        .unwrap();
    let ua = requests(&server).await[0]
        .headers
        .get("user-agent")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(ua.starts_with("hfb-hub/"), "{ua}");
}

#[tokio::test]
async fn no_authorization_header_without_a_token() {
    let (server, client) = hub().await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1))
        .mount(&server)
        .await;

    assert!(!client.is_authenticated());
    client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap();
    assert!(
        requests(&server).await[0]
            .headers
            .get("authorization")
            .is_none()
    );
}

#[tokio::test]
async fn the_token_never_goes_to_another_origin() {
    let hub_server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE1).insert_header(
            "link",
            format!(r#"<{}/api/models?cursor=x>; rel="next""#, elsewhere.uri()),
        ))
        .mount(&hub_server)
        .await;
    Mock::given(path("/api/models"))
        .respond_with(json(PAGE3))
        .mount(&elsewhere)
        .await;
    let client = HubClient::new(HubConfig {
        token: Some(TOKEN.into()),
        ..config(&hub_server)
    })
    .unwrap();

    let models = client
        .list_all(&ListModelsQuery::default(), 10)
        .await
        .unwrap();
    assert_eq!(models.len(), 4);
    assert!(
        requests(&hub_server).await[0]
            .headers
            .get("authorization")
            .is_some()
    );
    assert!(
        requests(&elsewhere).await[0]
            .headers
            .get("authorization")
            .is_none()
    );
}

#[tokio::test]
async fn the_token_stays_out_of_debug_output_and_errors() {
    let server = MockServer::start().await;
    // An upstream that echoes the credentials back in its error.
    Mock::given(path("/api/models"))
        .respond_with(hub_error(400, &format!("bad token Bearer {TOKEN}")))
        .mount(&server)
        .await;
    let cfg = HubConfig {
        token: Some(TOKEN.into()),
        ..config(&server)
    };
    let client = HubClient::new(cfg.clone()).unwrap();

    assert!(!format!("{cfg:?}").contains(TOKEN));
    assert!(format!("{cfg:?}").contains("<redacted>"));
    assert!(!format!("{client:?}").contains(TOKEN));
    let err = client
        .list_models(&ListModelsQuery::default())
        .await
        .unwrap_err();
    assert!(!err.to_string().contains(TOKEN), "{err}");
    assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
}

// --- validation ------------------------------------------------------------------------

#[tokio::test]
async fn invalid_repo_ids_are_rejected_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(json(BERT))
        .expect(0)
        .mount(&server)
        .await;
    let client = HubClient::new(config(&server)).unwrap();

    for id in [
        "",
        "../../etc/passwd",
        "owner/../admin",
        "owner/name/extra",
        "owner/na me",
        "owner/name?x=1",
        "owner/name#frag",
        "-owner/name",
        "owner/name.",
        "owner/na--me",
        &format!("owner/{}", "n".repeat(97)),
    ] {
        assert!(
            matches!(
                client.model_info(id, None).await,
                Err(HubError::InvalidRepoId(_))
            ),
            "model_info({id:?})"
        );
        assert!(
            matches!(
                client.model_card(id, Some("main")).await,
                Err(HubError::InvalidRepoId(_))
            ),
            "model_card({id:?})"
        );
    }
    assert!(hfb_hub::validate_repo_id("google-bert/bert-base-uncased").is_ok());
}

#[tokio::test]
async fn a_next_url_that_is_not_http_is_rejected() {
    let (_server, client) = hub().await;
    let err = client
        .list_models_from("file:///etc/passwd")
        .await
        .unwrap_err();
    assert!(matches!(err, HubError::Malformed(_)), "{err:?}");
}

// --- JSON shape ------------------------------------------------------------------------

/// Keys and values of an entry after dropping empty lists (the client leaves those out).
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !matches!(v, Value::Array(a) if a.is_empty()))
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        // Numbers compare as f64: trendingScore reads 12 and writes 12.0.
        Value::Number(n) => serde_json::json!(n.as_f64()),
        other => other.clone(),
    }
}

#[test]
fn hub_models_round_trip_with_the_hub_field_names() {
    let mut entries: Vec<Value> = Vec::new();
    for page in [PAGE1, PAGE2] {
        entries.extend(serde_json::from_str::<Vec<Value>>(page).unwrap());
    }
    for info in [BERT, MINILM, LLAMA] {
        entries.push(serde_json::from_str(info).unwrap());
    }
    assert_eq!(entries.len(), 7);

    for original in entries {
        let model: HubModel = serde_json::from_value(original.clone()).unwrap();
        let written = serde_json::to_value(&model).unwrap();
        assert_eq!(normalized(&written), normalized(&original), "{}", model.id);
        let again: HubModel = serde_json::from_value(written).unwrap();
        assert_eq!(again, model);
    }
}

#[test]
fn a_full_entry_writes_every_hub_field_name() {
    let model: HubModel = serde_json::from_str(BERT).unwrap();
    let written = serde_json::to_value(&model).unwrap();
    let mut keys: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "_id",
            "author",
            "cardData",
            "config",
            "createdAt",
            "disabled",
            "downloads",
            "downloadsAllTime",
            "gated",
            "id",
            "inference",
            "lastModified",
            "library_name",
            "likes",
            "modelId",
            "pipeline_tag",
            "private",
            "safetensors",
            "sha",
            "siblings",
            "spaces",
            "tags",
            "trendingScore",
        ]
    );
    let sibling_keys: Vec<&str> = written["siblings"][4]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(sibling_keys, ["blobId", "lfs", "rfilename", "size"]);
    assert_eq!(written["lastModified"], "2024-02-19T11:06:12.000Z");
}

#[test]
fn legacy_entries_gain_an_id() {
    let page: Vec<HubModel> = serde_json::from_str(PAGE3).unwrap();
    let gpt2 = serde_json::to_value(&page[1]).unwrap();
    assert_eq!(gpt2["id"], "gpt2");
    assert_eq!(gpt2["modelId"], "gpt2");
    assert_eq!(gpt2["gated"], "auto");
}

#[test]
fn gated_reads_false_auto_and_manual() {
    for (raw, want) in [
        ("false", Gated::Ungated),
        ("\"auto\"", Gated::Auto),
        ("\"manual\"", Gated::Manual),
        ("true", Gated::Auto),
    ] {
        let model: HubModel =
            serde_json::from_str(&format!(r#"{{"id": "a/b", "gated": {raw}}}"#)).unwrap();
        assert_eq!(model.gated, want, "{raw}");
        let written = serde_json::to_value(&model).unwrap();
        let expected: Value =
            serde_json::from_str(if raw == "true" { "\"auto\"" } else { raw }).unwrap();
        assert_eq!(written["gated"], expected);
    }
}

#[test]
fn retryable_errors() {
    assert!(HubError::Timeout.is_retryable());
    assert!(HubError::Network("reset".into()).is_retryable());
    assert!(HubError::RateLimited { retry_after: None }.is_retryable());
    assert!(
        HubError::Upstream {
            status: 502,
            message: String::new()
        }
        .is_retryable()
    );
    assert!(
        !HubError::Upstream {
            status: 422,
            message: String::new()
        }
        .is_retryable()
    );
    assert!(!HubError::NotFound.is_retryable());
    assert!(!HubError::Unauthorized.is_retryable());
    assert!(!HubError::Malformed(String::new()).is_retryable());
    assert!(!HubError::InvalidRepoId(String::new()).is_retryable());
    assert!(!HubError::InvalidConfig(String::new()).is_retryable());
}

#[test]
fn config_defaults() {
    let c = HubConfig::default();
    assert_eq!(c.endpoint, "https://huggingface.co");
    assert_eq!(c.token, None);
    assert_eq!(c.timeout, Duration::from_secs(15));
    assert_eq!(c.max_retries, 3);
    assert_eq!(c.max_backoff, Duration::from_secs(30));
}
