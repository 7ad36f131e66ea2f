//! Client mistakes get the JSON error shape with the right status, never a 500.

use crate::helpers::{assert_error, spawn_app, spawn_app_with};
use serde_json::json;

const REPORTS: &str = "/api/v1/telemetry/client-errors";

#[tokio::test]
async fn unknown_api_routes_are_json_404s_for_every_method() {
    let app = spawn_app().await;
    for path in ["/api/v1/nope", "/api/nope", "/api", "/api/v2/version"] {
        let body = assert_error(app.get(path).await, 404, "not_found").await;
        assert!(
            body["error"]["message"].as_str().unwrap().contains(path),
            "{body}"
        );
    }
    let res = app
        .client
        .delete(app.at("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "not_found").await;
    let res = app.post_json("/api/anything", &json!({})).await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let app = spawn_app().await;
    let res = app.post_json("/api/v1/version", &json!({})).await;
    assert_error(res, 405, "method_not_allowed").await;
    let res = app.client.delete(app.at("/healthz")).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed").await;
    let res = app.client.get(app.at(REPORTS)).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed").await;
    let res = app.client.put(app.at("/settings")).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn malformed_json_is_a_400_invalid_json() {
    let app = spawn_app().await;
    for body in [&b"{not json"[..], b"", b"[1,2", b"\"just a string\""] {
        let res = app
            .post_raw(REPORTS, "application/json", body.to_vec())
            .await;
        assert_error(res, 400, "invalid_json").await;
    }
    // Wrong types and unknown fields are shape errors too.
    let res = app.post_json(REPORTS, &json!({"message": 42})).await;
    assert_error(res, 400, "invalid_json").await;
    let res = app
        .post_json(REPORTS, &json!({"message": "x", "$where": "1"}))
        .await;
    assert_error(res, 400, "invalid_json").await;
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let res = app
        .post_raw(REPORTS, "text/plain", b"{\"message\":\"x\"}".to_vec())
        .await;
    assert_error(res, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let app = spawn_app_with(&[("HFB_MAX_BODY_BYTES", "4096")]).await;
    let big = json!({ "message": "x".repeat(10_000) });
    let res = app.post_json(REPORTS, &big).await;
    assert_error(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn invalid_fields_are_all_listed_in_a_422() {
    let app = spawn_app().await;
    let res = app
        .post_json(REPORTS, &json!({"message": "   ", "page": "p".repeat(500)}))
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    let fields = body["error"]["details"]["fields"].as_array().unwrap();
    let names: Vec<_> = fields
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["message", "page"], "{body}");
}

#[tokio::test]
async fn a_valid_client_error_report_is_accepted() {
    let app = spawn_app().await;
    let res = app
        .post_json(
            REPORTS,
            &json!({"message": "Could not load models", "code": "network", "page": "/catalog"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({"accepted": true})
    );
}
