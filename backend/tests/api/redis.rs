//! Redis as cache: readiness reports it, an outage degrades to the in-process cache and
//! recovers by itself when Redis returns.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::spawn_app_with;

/// A private redis-server on a free port, killed on drop.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (the README's test command installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn cache_check(app: &crate::helpers::TestApp) -> (u16, serde_json::Value) {
    let res = app.get("/readyz").await;
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    let cache = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cache")
        .unwrap()
        .clone();
    (status, cache)
}

#[tokio::test]
async fn the_shared_redis_is_used_and_reported_ready() {
    let url =
        std::env::var("HFB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let app = spawn_app_with(&[("REDIS_URL", &url)]).await;
    let (status, cache) = cache_check(&app).await;
    assert_eq!(status, 200, "{cache}");
    assert_eq!(cache["backend"], "redis");
    assert_eq!(cache["status"], "up");
}

#[tokio::test]
async fn an_unreachable_redis_makes_readyz_503_while_the_api_keeps_serving() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(&[("REDIS_URL", &format!("redis://127.0.0.1:{port}"))]).await;
    let started = Instant::now();
    let (status, cache) = cache_check(&app).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a down Redis must answer fast"
    );
    assert_eq!(status, 503);
    assert_eq!(cache["status"], "down");
    assert!(
        cache["message"]
            .as_str()
            .is_some_and(|m| !m.contains("redis://")),
        "{cache}"
    );
    assert_eq!(app.get("/api/v1/version").await.status(), 200);
    let health = app.get("/api/v1/health").await;
    assert_eq!(
        health.status(),
        200,
        "the app's health route always answers 200"
    );
}

#[tokio::test]
async fn redis_going_away_and_coming_back_recovers_without_a_restart() {
    let mut redis = PrivateRedis::start();
    let app = spawn_app_with(&[("REDIS_URL", &redis.url())]).await;
    assert_eq!(cache_check(&app).await.0, 200);

    redis.kill();
    let (status, cache) = cache_check(&app).await;
    assert_eq!(status, 503, "{cache}");
    assert_eq!(app.get("/api/v1/version").await.status(), 200);

    let _back = PrivateRedis::start_on(redis.port);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, cache) = cache_check(&app).await;
        if status == 200 {
            assert_eq!(cache["status"], "up");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readiness did not recover: {cache}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
