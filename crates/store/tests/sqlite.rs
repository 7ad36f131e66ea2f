//! The conformance suite on SQLite (a fresh temp file per case), plus SQLite-only checks:
//! migrations, reopen, WAL, parent folder creation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use hfb_store::conformance::{self, CASES};
use hfb_store::{NewUser, SqliteStore, Store, UserRepo};

async fn fresh() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("hfb.sqlite3"))
        .await
        .expect("open sqlite");
    (dir, Arc::new(store))
}

macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (_dir, store) = fresh().await;
                conformance::$name(store).await;
            }
        )*

        #[test]
        fn every_conformance_case_is_wired() {
            let wired: BTreeSet<&str> = [$(stringify!($name)),*].into_iter().collect();
            let all: BTreeSet<&str> = CASES.iter().map(|(name, _)| *name).collect();
            assert_eq!(wired, all, "tests/sqlite.rs must list every conformance case");
        }
    };
}

conformance_tests!(
    create_and_get_user,
    duplicate_email_conflicts,
    update_user_fields,
    update_user_email_conflict,
    update_unknown_user_not_found,
    delete_user_cascades,
    create_session_and_list_newest_first,
    create_session_unknown_user_not_found,
    rotate_happy_path,
    rotate_reuse_already_used,
    rotate_on_revoked_session,
    rotate_not_found,
    concurrent_rotation_single_winner,
    revoke_one_session,
    revoke_all_except_current,
    injection_inputs_are_literal,
    unicode_round_trip,
    ping_and_backend,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_on_one_shared_database() {
    let (_dir, store) = fresh().await;
    conformance::run_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_in_memory() {
    let store = SqliteStore::open_in_memory()
        .await
        .expect("in-memory store");
    conformance::run_all(Arc::new(store)).await;
}

#[tokio::test]
async fn migrations_are_idempotent_and_data_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested/deeper/hfb.sqlite3");
    let store = SqliteStore::open(&path)
        .await
        .expect("first open creates parent folders");
    assert!(path.exists(), "database file created");
    assert_eq!(store.path(), Some(path.as_path()));
    assert_eq!(
        store.applied_schema_version().await.expect("version"),
        SqliteStore::schema_version(),
        "all migrations applied"
    );
    assert!(SqliteStore::schema_version() >= 1);
    let user = store
        .create_user(NewUser {
            email: "Persist@Example.test".into(),
            display_name: "Persisted".into(),
            password_hash: "h".into(),
        })
        .await
        .expect("create_user");
    drop(store);

    let reopened = SqliteStore::open(&path).await.expect("second open");
    assert_eq!(
        reopened.applied_schema_version().await.expect("version"),
        SqliteStore::schema_version(),
        "reopening does not re-run or skip migrations"
    );
    assert_eq!(
        reopened
            .user_by_email("persist@example.test")
            .await
            .expect("lookup"),
        Some(user),
        "data survives reopen"
    );
    let third = SqliteStore::open(&path)
        .await
        .expect("open while another pool is open");
    third.ping().await.expect("ping");
    assert_eq!(third.backend(), "sqlite");
}

#[tokio::test]
async fn uses_wal_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wal.sqlite3");
    let store = SqliteStore::open(&path).await.expect("open");
    store.ping().await.expect("ping");
    store
        .create_user(NewUser {
            email: "wal@example.test".into(),
            display_name: "w".into(),
            password_hash: "h".into(),
        })
        .await
        .expect("write");
    assert!(
        dir.path().join("wal.sqlite3-wal").exists(),
        "a -wal file exists while the database is open in WAL mode"
    );
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("future.sqlite3");
    {
        // Raw access, bypassing the store (integration tests may use the crate's dependencies).
        let conn = deadpool_sqlite::rusqlite::Connection::open(&path).expect("open raw sqlite");
        conn.pragma_update(None, "user_version", 999)
            .expect("set version");
    }
    let result = SqliteStore::open(&path).await;
    assert!(
        matches!(result, Err(hfb_store::StoreError::Internal(ref m)) if m.contains("newer")),
        "a database from a newer build is refused, got {:?}",
        result.map(|_| ())
    );
}
