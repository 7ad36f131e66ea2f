//! API keys: shown once, stored hashed, scoped, bounded by the owner's role, revoked at once.

use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_key_is_shown_once_and_works_as_a_bearer_token() {
    let app = spawn_app().await;
    let (_, s) = app.signup("keys").await;
    let res = app
        .post_as(
            "/api/v1/me/api-keys",
            &s.access,
            &json!({"name": "ci", "scopes": ["read", "inference"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with("hfb_") && key.len() == 44, "{key}");
    assert_eq!(created["api_key"]["prefix"], &key[..12]);
    assert_eq!(created["api_key"]["scopes"], json!(["read", "inference"]));

    let list: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/api-keys", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        !serde_json::to_string(&list).unwrap().contains(&key[12..]),
        "the secret is never listed"
    );
    assert!(list[0]["last_used_at"].is_null());

    let teams = app.get_as("/api/v1/teams", key).await;
    assert_eq!(teams.status(), 200);
    let list: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/api-keys", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert!(list[0]["last_used_at"].is_string(), "use is recorded");
    // Keys cannot manage keys or the account.
    assert_error(
        app.get_as("/api/v1/me/api-keys", key).await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .post_as(
            "/api/v1/me/password",
            key,
            &json!({"current_password": "x", "new_password": "y"}),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
}

#[tokio::test]
async fn scopes_are_enforced() {
    let app = spawn_app().await;
    let (_, s) = app.signup("scopes").await;
    let (inference_only, _) = app.create_key(&s.access, &["inference"], None).await;
    let team = s.personal_team();
    let body = assert_error(
        app.get_as(&format!("/api/v1/teams/{team}"), &inference_only)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`read`"),
        "{body}"
    );
    let (read, _) = app.create_key(&s.access, &["read"], None).await;
    assert_eq!(
        app.get_as(&format!("/api/v1/teams/{team}"), &read)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn revoking_a_key_stops_it_at_once() {
    let app = spawn_app().await;
    let (_, s) = app.signup("revoke").await;
    let (key, id) = app.create_key(&s.access, &["read"], None).await;
    assert_eq!(app.get_as("/api/v1/teams", &key).await.status(), 200);
    assert_eq!(
        app.delete_as(&format!("/api/v1/me/api-keys/{id}"), &s.access)
            .await
            .status(),
        204
    );
    assert_error(app.get_as("/api/v1/teams", &key).await, 401, "unauthorized").await;
    assert_error(
        app.delete_as(&format!("/api/v1/me/api-keys/{id}"), &s.access)
            .await,
        404,
        "not_found",
    )
    .await;
    let list: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/api-keys", &s.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["revoked"], true);
}

#[tokio::test]
async fn invalid_key_requests_are_explained() {
    let app = spawn_app().await;
    let (_, s) = app.signup("badkey").await;
    let res = app
        .post_as(
            "/api/v1/me/api-keys",
            &s.access,
            &json!({"name": "", "scopes": [], "expires_in_days": 0}),
        )
        .await;
    let body = assert_error(res, 422, "validation_failed").await;
    assert_eq!(
        body["error"]["details"]["fields"].as_array().unwrap().len(),
        3,
        "{body}"
    );
    let res = app
        .post_as(
            "/api/v1/me/api-keys",
            &s.access,
            &json!({"name": "x", "scopes": ["root"]}),
        )
        .await;
    assert_error(res, 400, "invalid_json").await;
    assert_error(
        app.get_as("/api/v1/teams", "hfb_notarealkeyatallnotarealkeyatall1234")
            .await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_key_can_never_do_more_than_its_owner() {
    let app = spawn_app().await;
    let (_, owner) = app.signup("boss").await;
    let (viewer_email, viewer) = app.signup("viewer").await;
    let team: serde_json::Value = app
        .post_as("/api/v1/teams", &owner.access, &json!({"name": "Research"}))
        .await
        .json()
        .await
        .unwrap();
    let team_id = team["id"].as_str().unwrap();
    let inv: serde_json::Value = app
        .post_as(
            &format!("/api/v1/teams/{team_id}/invitations"),
            &owner.access,
            &json!({"email": viewer_email, "role": "viewer"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let accepted = app
        .post_as(
            &format!("/api/v1/invitations/{}/accept", inv["id"].as_str().unwrap()),
            &viewer.access,
            &json!({}),
        )
        .await;
    assert_eq!(accepted.status(), 200);

    // A viewer cannot mint a key with more than read.
    let res = app
        .post_as(
            "/api/v1/me/api-keys",
            &viewer.access,
            &json!({"name": "x", "scopes": ["read", "deploy"], "team_id": team_id}),
        )
        .await;
    let body = assert_error(res, 403, "forbidden").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deploy"),
        "{body}"
    );
    let (key, _) = app
        .create_key(&viewer.access, &["read"], Some(team_id))
        .await;
    assert_eq!(
        app.get_as(&format!("/api/v1/teams/{team_id}"), &key)
            .await
            .status(),
        200
    );
    // The key acts for its team only.
    let personal = viewer.personal_team();
    assert_error(
        app.get_as(&format!("/api/v1/teams/{personal}"), &key).await,
        404,
        "not_found",
    )
    .await;

    // When the owner of the key leaves the team, the key stops working.
    let res = app
        .delete_as(
            &format!("/api/v1/teams/{team_id}/members/{}", viewer.user_id()),
            &owner.access,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_error(
        app.get_as(&format!("/api/v1/teams/{team_id}"), &key).await,
        401,
        "unauthorized",
    )
    .await;
}
