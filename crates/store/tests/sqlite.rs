//! The conformance suite on SQLite (a fresh temp file per case), plus SQLite-only checks:
//! migrations, reopen, WAL, parent folder creation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::DateTime;
use hfb_store::conformance::{self, CASES};
use hfb_store::{
    ApiKeyRepo, CatalogModel, CatalogQuery, CatalogRepo, CatalogSource, NewApiKey, NewTeam,
    NewUser, SqliteStore, Store, TeamRepo, TeamRole, UpsertCounts, UserRepo,
};

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
    team_create_makes_creator_owner,
    team_slug_conflict,
    teams_for_user_order_and_roles,
    add_member_and_duplicate,
    last_owner_protected_on_demote,
    last_owner_protected_on_remove,
    second_owner_allows_demote_and_remove,
    concurrent_owner_changes_keep_an_owner,
    delete_team_cascades,
    invitation_lifecycle,
    invitation_wrong_email_refused,
    invitation_expired_refused,
    invitation_revoked_refused,
    concurrent_accept_single_winner,
    api_key_lifecycle,
    api_key_revoke_only_by_owner,
    api_key_expired_not_usable,
    api_key_touch_updates_last_used,
    revoke_api_keys_for_user_in_team,
    delete_user_removes_teams_and_keys,
    team_injection_inputs_are_literal,
    ping_and_backend,
    catalog_upsert_counts_and_round_trip,
    catalog_get_by_id_case_insensitive,
    catalog_text_search_tokens_and_prefixes,
    catalog_text_special_characters_are_inert,
    catalog_filters_alone_and_combined,
    catalog_sorts_with_id_tie_break,
    catalog_pagination_and_totals,
    catalog_facets_follow_the_query,
    catalog_unfiltered_search,
    catalog_revision_and_delete,
    deployment_create_get_list,
    deployment_idempotency_key,
    deployment_versions_compare_and_set,
    deployment_lease_is_exclusive,
    deployment_observation_is_fenced,
    deployment_events_and_delete,
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

/// Migration 1 exactly as released (applied migrations are frozen, so this copy stays valid).
const SCHEMA_V1: &str = r"
    CREATE TABLE users (
        id            TEXT PRIMARY KEY NOT NULL,
        email         TEXT NOT NULL,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX users_email ON users (email);

    CREATE TABLE sessions (
        id             TEXT PRIMARY KEY NOT NULL,
        user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        user_agent     TEXT,
        ip             TEXT,
        created_at     INTEGER NOT NULL,
        last_used_at   INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL,
        revoked_at     INTEGER,
        revoked_reason TEXT
    ) STRICT;
    CREATE INDEX sessions_user_id ON sessions (user_id, created_at);

    CREATE TABLE refresh_tokens (
        hash       TEXT PRIMARY KEY NOT NULL,
        session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        issued_at  INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    ) STRICT;
    CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
";

#[tokio::test]
async fn upgrade_from_schema_v1_keeps_users_and_adds_teams() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v1.sqlite3");
    {
        let conn = deadpool_sqlite::rusqlite::Connection::open(&path).expect("open raw sqlite");
        conn.execute_batch(SCHEMA_V1).expect("schema v1");
        conn.pragma_update(None, "user_version", 1)
            .expect("set version");
        conn.execute(
            "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at)
             VALUES ('legacy-user', 'old@example.test', 'Old', 'h', 1700000000000, 1700000000000)",
            [],
        )
        .expect("a v1 user");
    }
    let store = SqliteStore::open(&path).await.expect("open upgrades");
    assert_eq!(
        store.applied_schema_version().await.expect("version"),
        SqliteStore::schema_version(),
        "pending migrations ran"
    );
    assert!(SqliteStore::schema_version() >= 2);
    let user = store
        .user_by_email("old@example.test")
        .await
        .expect("lookup")
        .expect("the v1 user survives the upgrade");
    let team = store
        .create_team(NewTeam {
            name: "Old's team".into(),
            slug: "old".into(),
            personal: true,
            created_by: user.id.clone(),
        })
        .await
        .expect("teams work on an upgraded database");
    assert_eq!(
        store.teams_for_user(&user.id).await.expect("teams"),
        vec![(team.clone(), TeamRole::Owner)]
    );
    store
        .create_api_key(NewApiKey {
            user_id: user.id.clone(),
            team_id: team.id.clone(),
            name: "k".into(),
            prefix: "hfb_k".into(),
            key_hash: "hash-k".into(),
            scopes: vec!["read".into(), "a\"b".into()],
            expires_at: None,
        })
        .await
        .expect("create_api_key");
    drop(store);

    // Scopes are a JSON array that SQLite itself can read.
    let conn = deadpool_sqlite::rusqlite::Connection::open(&path).expect("open raw sqlite");
    let (count, second): (i64, String) = conn
        .query_row(
            "SELECT json_array_length(scopes), scopes ->> '$[1]' FROM api_keys WHERE key_hash = 'hash-k'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("raw scopes");
    assert_eq!((count, second.as_str()), (2, "a\"b"));
}

fn catalog_model(id: &str, i: i64) -> CatalogModel {
    let pick = |list: &[&str]| list[usize::try_from(i).unwrap() % list.len()].to_owned();
    CatalogModel {
        id: id.into(),
        author: id.split_once('/').map(|(owner, _)| owner.to_owned()),
        task: (i % 5 != 0).then(|| pick(&["fill-mask", "text-generation", "translation"])),
        library: (i % 7 != 0).then(|| pick(&["transformers", "peft", "gguf", "timm"])),
        languages: (0..i % 4)
            .map(|k| pick(&["en", "fr", "de"][usize::try_from(k).unwrap()..]))
            .collect(),
        license: (i % 3 != 0).then(|| pick(&["mit", "apache-2.0"])),
        tags: (0..1 + i % 5)
            .map(|k| format!("tag-{}", (i + k) % 9))
            .collect(),
        downloads: i * 37 % 101,
        downloads_all_time: None,
        likes: i % 13,
        trending_score: f64::from(u32::try_from(i % 17).unwrap()) / 4.0,
        created_at: DateTime::from_timestamp_millis(1_600_000_000_000 + i * 1000),
        updated_at: None,
        gated: if i % 6 == 0 { "manual" } else { "false" }.into(),
        private: false,
        sha: None,
        files: vec![],
        card_data: None,
        source: CatalogSource::Synced,
        synced_at: DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
    }
}

/// Rows of `sql` (two columns: text, integer), sorted.
fn rows(conn: &deadpool_sqlite::rusqlite::Connection, sql: &str) -> Vec<(String, i64)> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    let mut rows: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    rows.sort();
    rows
}

/// After inserts, label changes, counter-only changes, re-spellings and deletes, the
/// maintained tables (facet counts, model count, tags, languages, search index) agree
/// with what a recount from the stored documents gives.
#[tokio::test]
async fn catalog_maintained_tables_match_a_recount() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("catalog.sqlite3");
    let store = SqliteStore::open(&path).await.expect("open");
    let models: Vec<CatalogModel> = (0..120)
        .map(|i| catalog_model(&format!("org-{}/model-{i}", i % 11), i))
        .collect();
    store.upsert_models(&models).await.expect("insert");
    // Labels change for some, only counters for others, the spelling of the id for a few.
    let changed: Vec<CatalogModel> = models
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(i, m)| {
            let i = i64::try_from(i).unwrap();
            if i % 4 == 0 {
                CatalogModel {
                    id: m.id.to_uppercase(),
                    ..catalog_model(&m.id, i + 1)
                }
            } else {
                CatalogModel {
                    downloads: m.downloads + 1,
                    ..m.clone()
                }
            }
        })
        .collect();
    let counts = store.upsert_models(&changed).await.expect("update");
    assert_eq!((counts.inserted, counts.updated), (0, 60));
    for m in models.iter().step_by(3) {
        assert!(store.delete_catalog_model(&m.id).await.expect("delete"));
    }
    let remaining = store.catalog_count().await.expect("count");
    assert_eq!(remaining, 80);
    let page = store
        .search_catalog(&CatalogQuery::default())
        .await
        .expect("unfiltered search");
    drop(store);

    let conn = deadpool_sqlite::rusqlite::Connection::open(&path).expect("open raw sqlite");
    let maintained = |facet: &str| {
        rows(
            &conn,
            &format!("SELECT value, count FROM catalog_facets WHERE facet = '{facet}'"),
        )
    };
    for (facet, field) in [
        ("task", "task"),
        ("library", "library"),
        ("license", "license"),
    ] {
        assert_eq!(
            maintained(facet),
            rows(
                &conn,
                &format!(
                    "SELECT doc ->> '$.{field}', count(*) FROM catalog_docs
                     WHERE doc ->> '$.{field}' IS NOT NULL GROUP BY 1"
                )
            ),
            "{facet} counts"
        );
    }
    assert_eq!(
        maintained("language"),
        rows(
            &conn,
            "SELECT value, count(DISTINCT rid) FROM catalog_docs, json_each(doc, '$.languages')
             GROUP BY value"
        ),
        "language counts, once per model"
    );
    assert_eq!(
        rows(
            &conn,
            "SELECT 'models', value FROM catalog_meta WHERE key = 'models'"
        ),
        vec![("models".to_owned(), i64::try_from(remaining).unwrap())]
    );
    for (table, docs) in [
        ("catalog_models", "SELECT count(*) FROM catalog_docs"),
        (
            "catalog_tags",
            "SELECT count(*) FROM (SELECT DISTINCT rid, value FROM catalog_docs,
             json_each(doc, '$.tags'))",
        ),
        (
            "catalog_languages",
            "SELECT count(*) FROM (SELECT DISTINCT rid, value FROM catalog_docs,
             json_each(doc, '$.languages'))",
        ),
    ] {
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect("count") };
        assert_eq!(
            count(&format!("SELECT count(*) FROM {table}")),
            count(docs),
            "{table} rows"
        );
    }
    let stale: i64 = conn
        .query_row(
            "SELECT count(*) FROM catalog_tags t JOIN catalog_docs d ON d.rid = t.rid
             WHERE NOT EXISTS (SELECT 1 FROM json_each(d.doc, '$.tags') j WHERE j.value = t.tag)",
            [],
            |r| r.get(0),
        )
        .expect("stale tags");
    assert_eq!(stale, 0, "no tag row outlives its model's tags");
    let indexed: i64 = conn
        .query_row(
            "SELECT count(*) FROM catalog_fts WHERE catalog_fts MATCH '\"org\"*'",
            [],
            |r| r.get(0),
        )
        .expect("fts count");
    assert_eq!(
        indexed,
        i64::try_from(remaining).unwrap(),
        "one search row per model"
    );
    let facet_total: u64 = page.facets.tasks.iter().map(|f| f.count).sum();
    let with_task: i64 = conn
        .query_row(
            "SELECT count(*) FROM catalog_models WHERE task IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(facet_total, u64::try_from(with_task).unwrap());
}

#[tokio::test]
async fn catalog_and_revision_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("catalog.sqlite3");
    let store = SqliteStore::open(&path).await.expect("open");
    assert_eq!(store.catalog_revision().await.expect("revision"), 0);
    let model = catalog_model("org/persisted", 4);
    store
        .upsert_models(std::slice::from_ref(&model))
        .await
        .expect("upsert");
    let revision = store.catalog_revision().await.expect("revision");
    assert!(revision > 0);
    drop(store);
    let reopened = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(
        reopened.catalog_revision().await.expect("revision"),
        revision,
        "the revision is persisted"
    );
    assert_eq!(
        reopened.catalog_model("ORG/PERSISTED").await.expect("get"),
        Some(model.clone())
    );
    let found = reopened
        .search_catalog(&CatalogQuery {
            text: Some("persist".into()),
            ..CatalogQuery::default()
        })
        .await
        .expect("search");
    assert_eq!(found.items, vec![model]);
    assert_eq!(
        reopened
            .upsert_models(&[catalog_model("org/persisted", 4)])
            .await
            .expect("upsert"),
        UpsertCounts::default(),
        "unchanged after reopen"
    );
}
