//! The conformance suite on MongoDB, against the server at `HFB_TEST_MONGODB_URI`
//! (SecantusDB here: `secantusd-py --port 27018 --storage-path :memory:`), in a fresh
//! database per run that is dropped at the end.
//!
//! Without the variable: fails under `CI`, otherwise prints a loud SKIPPED line.
//! Tests needing what only a real `mongod` has (text indexes, real time-series
//! collections) must also call [`require_real_mongodb`] (`HFB_TEST_MONGODB_REAL=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hfb_store::conformance;
use hfb_store::{MongoStore, NewTeam, NewUser, Store, StoreError, TeamRepo, UserRepo, conflict};

const URI_VAR: &str = "HFB_TEST_MONGODB_URI";
const REAL_VAR: &str = "HFB_TEST_MONGODB_REAL";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// The test server URI, or `None` after a loud SKIPPED line (panics under CI).
fn mongodb_uri(test: &str) -> Option<String> {
    match std::env::var(URI_VAR) {
        Ok(uri) if !uri.trim().is_empty() => Some(uri),
        _ if in_ci() => panic!(
            "{URI_VAR} is not set but CI is: start a MongoDB wire-protocol server \
             (e.g. `secantusd-py --port 27018 --storage-path :memory:`) and export \
             {URI_VAR}=mongodb://127.0.0.1:27018"
        ),
        _ => {
            loud(&format!(
                "SKIPPED: set {URI_VAR} (e.g. mongodb://127.0.0.1:27018) to run {test}"
            ));
            None
        }
    }
}

/// Gate for tests that need a real MongoDB server (text indexes, time-series collections):
/// true only with `HFB_TEST_MONGODB_REAL=1`; otherwise prints a loud SKIPPED line.
/// Usage: `let Some(uri) = mongodb_uri("x") else { return }; if !require_real_mongodb("x") { return }`.
#[allow(dead_code)] // no real-server-only test exists yet; use this for the first one
fn require_real_mongodb(test: &str) -> bool {
    if std::env::var(REAL_VAR).is_ok_and(|v| v == "1") {
        return true;
    }
    loud(&format!(
        "SKIPPED: {test} needs a real MongoDB server: set {REAL_VAR}=1 with {URI_VAR} pointing at one"
    ));
    false
}

/// Writes to the real stderr: `eprintln!` would be swallowed by the test harness's capture.
fn loud(line: &str) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n**************** {line} ****************\n"
    );
}

fn fresh_database_name() -> String {
    format!("hfb_test_{}", uuid::Uuid::now_v7().simple())
}

/// Runs `body` with a store on a fresh database, and drops the database even if it panics.
async fn with_fresh_database<F, Fut>(uri: &str, body: F)
where
    F: FnOnce(Arc<MongoStore>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let store = Arc::new(
        MongoStore::connect(uri, &fresh_database_name())
            .await
            .expect("connect to the test MongoDB"),
    );
    let outcome = tokio::spawn(body(store.clone())).await;
    store.drop_database().await.expect("drop the test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_suite_on_mongodb() {
    let Some(uri) = mongodb_uri("conformance_suite_on_mongodb") else {
        return;
    };
    with_fresh_database(&uri, |store| async move {
        assert_eq!(store.backend(), "mongodb");
        conformance::run_all(store).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_keeps_data_and_indexes() {
    let Some(uri) = mongodb_uri("reconnect_keeps_data_and_indexes") else {
        return;
    };
    let uri2 = uri.clone();
    with_fresh_database(&uri, |store| async move {
        let user = store
            .create_user(NewUser {
                email: "Again@Example.test".into(),
                display_name: "again".into(),
                password_hash: "h".into(),
            })
            .await
            .expect("create_user");
        // A second connect re-creates the indexes (idempotent) and sees the same data.
        let second = MongoStore::connect(&uri2, store.database_name())
            .await
            .expect("second connect");
        assert_eq!(
            second
                .user_by_email("again@example.test")
                .await
                .expect("lookup"),
            Some(user.clone())
        );
        let dup = second
            .create_user(NewUser {
                email: "AGAIN@example.test".into(),
                display_name: "dup".into(),
                password_hash: "h".into(),
            })
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(_))),
            "unique index still enforced after reconnect: {dup:?}"
        );
        let team = |name: &str, slug: &str, personal: bool| NewTeam {
            name: name.into(),
            slug: slug.into(),
            personal,
            created_by: user.id.clone(),
        };
        store
            .create_team(team("Mine", "mine", true))
            .await
            .expect("create_team");
        let third = MongoStore::connect(&uri2, store.database_name())
            .await
            .expect("third connect");
        for (attempt, expected) in [
            (team("Again", "mine", false), conflict::TEAM_SLUG_TAKEN),
            (
                team("Second personal", "mine-2", true),
                conflict::PERSONAL_TEAM_EXISTS,
            ),
        ] {
            let result = third.create_team(attempt).await;
            assert_eq!(
                result.map(|_| ()),
                Err(StoreError::Conflict(expected.into())),
                "team indexes still enforced after reconnect"
            );
        }
    })
    .await;
}

/// Needs no server: nothing listens on port 1.
#[tokio::test]
async fn unreachable_server_is_unavailable_quickly_without_leaking_credentials() {
    let started = Instant::now();
    let result = MongoStore::connect(
        "mongodb://hfb:s3cret-pw@127.0.0.1:1/?authSource=admin",
        "hfb",
    )
    .await;
    let elapsed = started.elapsed();
    let Err(StoreError::Unavailable(message)) = result else {
        panic!(
            "an unreachable server must be Unavailable, got {:?}",
            result.map(|_| ())
        );
    };
    assert!(
        elapsed < Duration::from_secs(6),
        "answered in {elapsed:?}, expected about 2 s"
    );
    assert!(
        !message.contains("s3cret"),
        "error leaks the password: {message}"
    );
}

#[tokio::test]
async fn invalid_uri_is_internal_without_echo() {
    let result = MongoStore::connect("mongodb://hfb:s3cret-pw@/nohost", "hfb").await;
    let Err(e) = result else {
        panic!("a malformed URI must fail");
    };
    assert!(matches!(e, StoreError::Internal(_)), "got {e:?}");
    assert!(
        !e.to_string().contains("s3cret"),
        "error leaks the password: {e}"
    );
}
