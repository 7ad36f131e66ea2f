//! Rate limits: per IP on sign-in routes, per user across instances sharing Redis, and
//! the per-account slow-down after failed logins.

use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, spawn_app_with, unique_email};

fn redis_url() -> String {
    std::env::var("HFB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

#[tokio::test]
async fn sign_in_routes_are_limited_per_address_with_retry_after() {
    let app = spawn_app_with(&[("HFB_RATE_LIMIT_AUTH_PER_MIN", "3")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.login_raw(&unique_email("x"), PASSWORD).await.status(),
            401
        );
    }
    let res = app.login_raw(&unique_email("x"), PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.headers()["ratelimit-limit"], "3");
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    assert!(res.headers().contains_key("ratelimit-reset"));
    assert_error(res, 429, "rate_limited").await;
    // Sign-up shares the budget.
    assert_error(
        app.signup_raw(&unique_email("y"), PASSWORD, "Y").await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn the_per_user_limit_is_shared_by_instances_on_one_redis() {
    let secret = format!(
        "{}-shared-secret-for-two-instances",
        uuid::Uuid::new_v4().simple()
    );
    let redis = redis_url();
    // Both instances share one store: the same SQLite file, or the same MongoDB database.
    let database = format!("hfb_shared_{}", uuid::Uuid::new_v4().simple());
    let vars = [
        ("HFB_MONGODB_DATABASE", database.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("HFB_RATE_LIMIT_PER_MIN", "6"),
        ("JWT_SECRET", secret.as_str()),
        ("JWT_REFRESH_SECRET", secret.as_str()),
    ];
    let a = spawn_app_with(&vars).await;
    let data_dir = a.data_dir.path().display().to_string();
    let mut b_vars = vars.to_vec();
    b_vars.push(("HFB_DATA_DIR", &data_dir));
    let b = spawn_app_with(&b_vars).await;

    let (_, s) = a.signup("shared").await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        statuses.push(app.get_as("/api/v1/me", &s.access).await.status().as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 200, 429, 429],
        "one budget across both instances"
    );
}

#[tokio::test]
async fn failed_logins_slow_one_account_down_but_not_others() {
    let app = spawn_app_with(&[]).await;
    let (email, _) = app.signup("target").await;
    let (other, _) = app.signup("bystander").await;
    for _ in 0..5 {
        assert_eq!(
            app.login_raw(&email, "wrong password here").await.status(),
            401
        );
    }
    // The sixth failure trips the slow-down; then even the right password waits.
    let res = app.login_raw(&email, "wrong password here").await;
    assert_eq!(res.status(), 401);
    let res = app.login_raw(&email, PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 429, "rate_limited").await;
    assert_eq!(
        app.login_raw(&other, PASSWORD).await.status(),
        200,
        "other accounts are unaffected"
    );
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_cors_is_closed_by_default() {
    let app = spawn_app_with(&[]).await;
    for path in ["/", "/api/v1/version", "/api/v1/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(h.contains_key("referrer-policy"));
        assert!(
            !h.contains_key("strict-transport-security"),
            "no HSTS over plain http"
        );
    }
    let res = app
        .client
        .get(app.at("/api/v1/version"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));

    let open = spawn_app_with(&[
        ("HFB_CORS_ORIGINS", "https://studio.example"),
        ("PUBLIC_APP_URL", "https://hfb.example"),
    ])
    .await;
    let res = open
        .client
        .request(reqwest::Method::OPTIONS, open.at("/api/v1/me"))
        .header("origin", "https://studio.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://studio.example"
    );
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let res = open.get("/api/v1/version").await;
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let _ = json!({});
}
