//! Accounts: sign-up, sign-in, refresh rotation and reuse detection, CSRF, profile,
//! password change, sessions, deletion, and inert injection attempts.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, set_cookie, spawn_app, unique_email};

#[tokio::test]
async fn the_whole_account_life_cycle_works() {
    let app = spawn_app().await;
    let email = unique_email("Life.Cycle");
    let res = app
        .signup_raw(
            &format!("  {}  ", email.to_uppercase()),
            PASSWORD,
            "Ada Lovelace",
        )
        .await;
    assert_eq!(res.status(), 201);
    let refresh_cookie = set_cookie(&res, "hfb_refresh").unwrap();
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=2592000",
    ] {
        assert!(
            refresh_cookie.contains(attr),
            "{attr} missing: {refresh_cookie}"
        );
    }
    assert!(
        !refresh_cookie.contains("Secure"),
        "plain http in tests: {refresh_cookie}"
    );
    assert!(
        !set_cookie(&res, "hfb_csrf").unwrap().contains("HttpOnly"),
        "the app must read the CSRF cookie"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let session = app.session_from(res).await;
    assert_eq!(
        session.user["email"],
        email.to_lowercase(),
        "e-mails are normalized"
    );
    assert_eq!(session.user["teams"][0]["role"], "owner");
    assert_eq!(session.user["teams"][0]["personal"], true);

    let me: serde_json::Value = app
        .get_as("/api/v1/me", &session.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["display_name"], "Ada Lovelace");

    let again = app.login(&email.to_uppercase(), PASSWORD).await;
    assert_ne!(again.access, session.access);

    let res = app
        .cookie_call("/api/v1/auth/logout", &again)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        set_cookie(&res, "hfb_refresh")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_error(app.refresh(&again).await, 401, "unauthorized").await;
    assert_error(
        app.get_as("/api/v1/me", &again.access).await,
        401,
        "unauthorized",
    )
    .await;
    // The first session is untouched.
    assert_eq!(
        app.get_as("/api/v1/me", &session.access).await.status(),
        200
    );
}

#[tokio::test]
async fn sign_up_explains_every_invalid_field_and_refuses_duplicates() {
    let app = spawn_app().await;
    let res = app.signup_raw("not-an-email", "short", "").await;
    let body = assert_error(res, 422, "validation_failed").await;
    let fields: Vec<_> = body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "display_name", "password"], "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least 10"),
        "{body}"
    );

    let (email, _) = app.signup("dupe").await;
    let res = app
        .signup_raw(&email.to_uppercase(), PASSWORD, "Other")
        .await;
    assert_error(res, 409, "conflict").await;
}

#[tokio::test]
async fn wrong_passwords_and_unknown_accounts_get_the_same_answer() {
    let app = spawn_app().await;
    let (email, _) = app.signup("wrong").await;
    let a = assert_error(
        app.login_raw(&email, "not the password at all").await,
        401,
        "unauthorized",
    )
    .await;
    let b = assert_error(
        app.login_raw(&unique_email("nobody"), PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(a["error"]["message"], b["error"]["message"]);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_session() {
    let app = spawn_app().await;
    let (_, first) = app.signup("rotate").await;
    let res = app.refresh(&first).await;
    assert_eq!(res.status(), 200);
    let second = app.session_from(res).await;
    assert_ne!(second.refresh, first.refresh, "the refresh token rotates");
    assert_eq!(app.get_as("/api/v1/me", &second.access).await.status(), 200);

    // Someone replays the old token: the whole family dies, including the newest token.
    let body = assert_error(app.refresh(&first).await, 401, "unauthorized").await;
    assert_eq!(body["error"]["details"]["reason"], "reused");
    assert_error(app.refresh(&second).await, 401, "unauthorized").await;
    assert_error(
        app.get_as("/api/v1/me", &second.access).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn refresh_needs_the_csrf_token_and_our_origin() {
    let app = spawn_app().await;
    let (_, s) = app.signup("csrf").await;
    let cookie = format!("hfb_refresh={}; hfb_csrf={}", s.refresh, s.csrf);
    let url = app.at("/api/v1/auth/refresh");
    let cases = [
        app.client
            .post(&url)
            .header("cookie", &cookie)
            .header("origin", &app.url),
        app.client
            .post(&url)
            .header("cookie", &cookie)
            .header("origin", &app.url)
            .header("x-csrf-token", "wrong"),
        app.client
            .post(&url)
            .header("cookie", &cookie)
            .header("x-csrf-token", &s.csrf),
        app.client
            .post(&url)
            .header("cookie", &cookie)
            .header("x-csrf-token", &s.csrf)
            .header("origin", "https://evil.example"),
    ];
    for request in cases {
        let body = assert_error(request.send().await.unwrap(), 403, "forbidden").await;
        assert_eq!(body["error"]["details"]["reason"], "csrf");
    }
    // Nothing was consumed by the refused attempts.
    assert_eq!(app.refresh(&s).await.status(), 200);
}

#[tokio::test]
async fn bad_bearer_tokens_are_refused() {
    let app = spawn_app().await;
    let (_, s) = app.signup("bearer").await;
    for header in [
        "Bearer garbage",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
        &format!("Bearer {}x", s.access),
    ] {
        let res = app
            .client
            .get(app.at("/api/v1/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_error(res, 401, "unauthorized").await;
    }
    assert_error(app.get("/api/v1/me").await, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_password_change_signs_out_every_other_session() {
    let app = spawn_app().await;
    let (email, a) = app.signup("pw").await;
    let b = app.login(&email, PASSWORD).await;
    let new_password = "a brand new passphrase 42";

    let res = app
        .post_as(
            "/api/v1/me/password",
            &a.access,
            &json!({"current_password": "nope nope nope", "new_password": new_password}),
        )
        .await;
    assert_error(res, 403, "forbidden").await;
    let res = app
        .post_as(
            "/api/v1/me/password",
            &a.access,
            &json!({"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"}),
        )
        .await;
    assert_error(res, 422, "validation_failed").await;

    let res = app
        .post_as(
            "/api/v1/me/password",
            &a.access,
            &json!({"current_password": PASSWORD, "new_password": new_password}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["sessions_revoked"],
        1
    );
    assert_error(
        app.get_as("/api/v1/me", &b.access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(app.refresh(&b).await, 401, "unauthorized").await;
    assert_eq!(app.get_as("/api/v1/me", &a.access).await.status(), 200);
    assert_error(app.login_raw(&email, PASSWORD).await, 401, "unauthorized").await;
    app.login(&email, new_password).await;
}

#[tokio::test]
async fn profile_changes_and_email_changes_need_the_password() {
    let app = spawn_app().await;
    let (_, s) = app.signup("profile").await;
    let (taken, _) = app.signup("taken").await;
    let patch = |body: serde_json::Value| {
        app.authed(Method::PATCH, "/api/v1/me", &s.access)
            .json(&body)
            .send()
    };

    let res = patch(json!({"display_name": "Grace Hopper"}))
        .await
        .unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["display_name"],
        "Grace Hopper"
    );
    let new_email = unique_email("moved");
    assert_error(
        patch(json!({"email": new_email})).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        patch(json!({"email": new_email, "current_password": "wrong wrong wrong"}))
            .await
            .unwrap(),
        403,
        "forbidden",
    )
    .await;
    assert_error(
        patch(json!({"email": taken, "current_password": PASSWORD}))
            .await
            .unwrap(),
        409,
        "conflict",
    )
    .await;
    let res = patch(json!({"email": new_email, "current_password": PASSWORD}))
        .await
        .unwrap();
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["email"],
        new_email
    );
    app.login(&new_email, PASSWORD).await;
}

#[tokio::test]
async fn sessions_can_be_listed_and_revoked() {
    let app = spawn_app().await;
    let (email, a) = app.signup("sessions").await;
    let b = app.login(&email, PASSWORD).await;
    let c = app.login(&email, PASSWORD).await;
    let list: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/sessions", &a.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.iter().all(|s| s["ip"] == "127.0.0.1"));

    let me: serde_json::Value = app
        .get_as("/api/v1/me/sessions", &b.access)
        .await
        .json()
        .await
        .unwrap();
    let b_id = me
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.delete_as(&format!("/api/v1/me/sessions/{b_id}"), &a.access)
            .await
            .status(),
        204
    );
    assert_error(
        app.get_as("/api/v1/me", &b.access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_error(
        app.delete_as(&format!("/api/v1/me/sessions/{b_id}"), &a.access)
            .await,
        404,
        "not_found",
    )
    .await;

    let res = app.delete_as("/api/v1/me/sessions", &a.access).await;
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["revoked"], 1);
    assert_error(
        app.get_as("/api/v1/me", &c.access).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(app.get_as("/api/v1/me", &a.access).await.status(), 200);

    // Another user cannot revoke these sessions.
    let (_, other) = app.signup("other").await;
    let list: Vec<serde_json::Value> = app
        .get_as("/api/v1/me/sessions", &a.access)
        .await
        .json()
        .await
        .unwrap();
    let a_id = list[0]["id"].as_str().unwrap();
    assert_error(
        app.delete_as(&format!("/api/v1/me/sessions/{a_id}"), &other.access)
            .await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_it() {
    let app = spawn_app().await;
    let (email, s) = app.signup("delete").await;
    let res = app
        .authed(Method::DELETE, "/api/v1/me", &s.access)
        .json(&json!({"password": "not it at all"}))
        .send()
        .await;
    assert_error(res.unwrap(), 403, "forbidden").await;
    let res = app
        .authed(Method::DELETE, "/api/v1/me", &s.access)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await;
    assert_eq!(res.unwrap().status(), 204);
    assert_error(app.login_raw(&email, PASSWORD).await, 401, "unauthorized").await;
    assert_error(
        app.get_as("/api/v1/me", &s.access).await,
        401,
        "unauthorized",
    )
    .await;
    // The address is free again.
    assert_eq!(app.signup_raw(&email, PASSWORD, "Back").await.status(), 201);
}

#[tokio::test]
async fn injection_shaped_input_is_inert() {
    let app = spawn_app().await;
    // Operators where strings belong are type errors, not queries.
    for email in [json!({"$ne": null}), json!({"$gt": ""}), json!(["a@b.c"])] {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_error(res, 400, "invalid_json").await;
    }
    for email in [
        "' OR '1'='1' --@x.com",
        "a@b.c'; DROP TABLE users; --",
        "$where@x.com",
    ] {
        let res = app.login_raw(email, "' OR '1'='1").await;
        assert!(
            matches!(res.status().as_u16(), 401 | 422),
            "{email}: {}",
            res.status()
        );
    }
    let name = "Robert'); DROP TABLE users;-- {\"$gt\":\"\"}";
    let email = unique_email("bobby");
    let s = app
        .session_from(app.signup_raw(&email, PASSWORD, name).await)
        .await;
    assert_eq!(s.user["display_name"], name, "stored literally");
    let (_, other) = app.signup("still-there").await;
    assert_eq!(app.get_as("/api/v1/me", &other.access).await.status(), 200);
}
