//! SQLite adapter: the embedded default. One file, WAL journal, a small connection pool;
//! every statement runs on a blocking thread through deadpool-sqlite's `interact`.
//! Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_sqlite::rusqlite::{
    self, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, ffi, params,
};
use deadpool_sqlite::{
    Config, Hook, HookError, InteractError, Pool, PoolConfig, Runtime, Timeouts,
};

use crate::catalog::{
    self, FACET_LANGUAGE, FACET_LIBRARY, FACET_LICENSE, FACET_TASK, Prepared, Search,
    prepare_batch, top_values,
};
use crate::{
    ApiKey, ApiKeyRepo, CatalogModel, CatalogPage, CatalogQuery, CatalogRepo, CatalogSort,
    FacetCount, Facets, Invitation, InvitationRepo, Membership, NewApiKey, NewInvitation,
    NewSession, NewTeam, NewUser, RefreshToken, Result, RotateOutcome, Session, SessionRepo, Store,
    StoreError, Team, TeamRepo, TeamRole, UpsertCounts, User, UserRepo, UserUpdate, conflict,
    normalize_email, now_millis, refuse_unacceptable, sort_teams_for_user, truncate_to_millis,
};

mod deployments;

/// Schema migrations, applied in order inside one transaction; `PRAGMA user_version` holds
/// how many have been applied.
///
/// To change the schema, APPEND a new string (never edit or reorder a released one): it runs
/// once on every existing database at the next open, and `user_version` becomes the new length.
const MIGRATIONS: &[&str] = &[
    // 1: users, sessions (one refresh-token family each), refresh tokens.
    r"
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
    ",
    // 2: teams, memberships, invitations, API keys. `created_by` and `invited_by` are plain
    // text, not references: a shared team and the invitations a user sent outlive the user.
    r"
    CREATE TABLE teams (
        id         TEXT PRIMARY KEY NOT NULL,
        name       TEXT NOT NULL,
        slug       TEXT NOT NULL,
        personal   INTEGER NOT NULL CHECK (personal IN (0, 1)),
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX teams_slug ON teams (slug);
    CREATE UNIQUE INDEX teams_personal_created_by ON teams (created_by) WHERE personal = 1;

    CREATE TABLE memberships (
        team_id    TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX memberships_user_id ON memberships (user_id);

    CREATE TABLE invitations (
        id          TEXT PRIMARY KEY NOT NULL,
        team_id     TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        email       TEXT NOT NULL,
        role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        invited_by  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        accepted_at INTEGER,
        revoked_at  INTEGER
    ) STRICT;
    CREATE INDEX invitations_team_id ON invitations (team_id, created_at);
    CREATE INDEX invitations_email ON invitations (email, expires_at);

    CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY NOT NULL,
        user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        team_id      TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        prefix       TEXT NOT NULL,
        key_hash     TEXT NOT NULL,
        scopes       TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER,
        last_used_at INTEGER,
        revoked_at   INTEGER
    ) STRICT;
    CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
    CREATE INDEX api_keys_user_id ON api_keys (user_id, created_at);
    CREATE INDEX api_keys_team_id ON api_keys (team_id, user_id);
    ",
    // 3: the model catalog. `catalog_models` holds one narrow row per model (what filters
    // and sorts read; `id_key` is the lowercased id) and `catalog_docs` the model itself as
    // JSON. Tags and languages have side tables keyed (value, rid) so filters seek instead
    // of scanning; `catalog_fts` (contentless, rowid = rid) indexes the search tokens of
    // id, author and tags, computed by the store (lowercased, split on non-alphanumerics)
    // and space-separated, so the `ascii` tokenizer never splits them differently.
    // `catalog_facets` keeps the facet counts of the whole catalog (the unfiltered search)
    // and `catalog_meta` the model count and the revision; both change in the writing
    // transaction. `fingerprint` (of the whole model) makes re-upserting an unchanged model
    // a no-op, `labels_fingerprint` (of tokens, tags and languages) skips rewriting the side
    // tables when only counters changed, the usual case of a sync. FTS prefix indexes of 1
    // to 12 characters keep prefix queries of common tokens cheap. Sort indexes are (key DESC, id_key): descending pages read them forward
    // (ties by id ascending), ascending pages backward (the exact reverse).
    r"
    CREATE TABLE catalog_models (
        rid         INTEGER PRIMARY KEY,
        id_key      TEXT NOT NULL,
        author_key  TEXT,
        task        TEXT,
        library     TEXT,
        license     TEXT,
        languages   TEXT NOT NULL CHECK (json_valid(languages) AND json_type(languages) = 'array'),
        gated       INTEGER NOT NULL CHECK (gated IN (0, 1)),
        downloads   INTEGER NOT NULL,
        likes       INTEGER NOT NULL,
        trending    REAL NOT NULL,
        created_at  INTEGER,
        updated_at  INTEGER,
        fingerprint TEXT NOT NULL,
        labels_fingerprint TEXT NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX catalog_models_id_key ON catalog_models (id_key);
    CREATE INDEX catalog_models_downloads ON catalog_models (downloads DESC, id_key);
    CREATE INDEX catalog_models_likes ON catalog_models (likes DESC, id_key);
    CREATE INDEX catalog_models_trending ON catalog_models (trending DESC, id_key);
    CREATE INDEX catalog_models_updated_at ON catalog_models (updated_at DESC, id_key);
    CREATE INDEX catalog_models_created_at ON catalog_models (created_at DESC, id_key);
    CREATE INDEX catalog_models_task ON catalog_models (task);
    CREATE INDEX catalog_models_library ON catalog_models (library);
    CREATE INDEX catalog_models_license ON catalog_models (license);
    CREATE INDEX catalog_models_author_key ON catalog_models (author_key);

    CREATE TABLE catalog_docs (
        rid INTEGER PRIMARY KEY REFERENCES catalog_models (rid) ON DELETE CASCADE,
        doc TEXT NOT NULL
    ) STRICT;

    CREATE TABLE catalog_tags (
        tag TEXT NOT NULL,
        rid INTEGER NOT NULL REFERENCES catalog_models (rid) ON DELETE CASCADE,
        PRIMARY KEY (tag, rid)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX catalog_tags_rid ON catalog_tags (rid);

    CREATE TABLE catalog_languages (
        language TEXT NOT NULL,
        rid      INTEGER NOT NULL REFERENCES catalog_models (rid) ON DELETE CASCADE,
        PRIMARY KEY (language, rid)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX catalog_languages_rid ON catalog_languages (rid);

    CREATE VIRTUAL TABLE catalog_fts USING fts5 (
        tokens, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii',
        prefix = '1 2 3 4 5 6 7 8 9 10 11 12'
    );

    CREATE TABLE catalog_facets (
        facet TEXT NOT NULL CHECK (facet IN ('task', 'library', 'license', 'language')),
        value TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (facet, value)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE catalog_meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    INSERT INTO catalog_meta (key, value) VALUES ('revision', 0), ('models', 0);
    ",
    // 4: deployments with their immutable versions and event log. The spec and the
    // target's own state are JSON text; the reconciler's lease lives on the row.
    r"
    CREATE TABLE deployments (
        id                  TEXT PRIMARY KEY NOT NULL,
        team_id             TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
        name                TEXT NOT NULL,
        model_id            TEXT NOT NULL,
        target              TEXT NOT NULL,
        task                TEXT NOT NULL,
        spec                TEXT NOT NULL,
        current_version     INTEGER NOT NULL,
        desired             TEXT NOT NULL,
        generation          INTEGER NOT NULL,
        observed_generation INTEGER NOT NULL,
        observed_version    INTEGER,
        status              TEXT NOT NULL,
        status_message      TEXT,
        target_state        TEXT NOT NULL,
        endpoint_url        TEXT,
        attempts            INTEGER NOT NULL,
        next_attempt_at     INTEGER,
        lease_holder        TEXT,
        lease_until         INTEGER,
        idempotency_key     TEXT,
        request_hash        TEXT,
        created_by          TEXT NOT NULL,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX deployments_team_name ON deployments (team_id, name);
    CREATE UNIQUE INDEX deployments_idempotency ON deployments (team_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL;
    CREATE INDEX deployments_team_created ON deployments (team_id, created_at);
    CREATE INDEX deployments_pending ON deployments (next_attempt_at)
        WHERE observed_generation < generation OR next_attempt_at IS NOT NULL;

    CREATE TABLE deployment_versions (
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        version       INTEGER NOT NULL,
        spec          TEXT NOT NULL,
        created_by    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        note          TEXT NOT NULL,
        PRIMARY KEY (deployment_id, version)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE deployment_events (
        id            TEXT PRIMARY KEY NOT NULL,
        deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
        at            INTEGER NOT NULL,
        actor         TEXT,
        kind          TEXT NOT NULL,
        message       TEXT NOT NULL
    ) STRICT;
    CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, at, id);
    ",
];

/// How long a statement waits for another connection's write lock before `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection, in KiB when negative (SQLite's default is 2 MiB): a catalog
/// search looks up thousands of rows at random, so the catalog's tables and indexes should
/// stay cached (about 50 MB at 100,000 models). Filled only as pages are read. Measured:
/// faster than memory-mapped I/O, which initializes every page again on each access.
const CACHE_SIZE: i64 = -32 * 1024;
/// How long a caller waits for a pooled connection before `Unavailable`.
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// The embedded store. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating it and its parent folders if needed) the database file at `path`,
    /// switches it to WAL and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await.map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create database folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let store = Self::with_config(Config::new(path), None)?;
        let journal_mode = store.init().await?;
        if !journal_mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%journal_mode, path = %path.display(), "SQLite did not switch to WAL");
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            ..store
        })
    }

    /// A private in-memory database for tests: one pooled connection (every connection to
    /// `:memory:` would be a different database), so operations are serialized.
    pub async fn open_in_memory() -> Result<Self> {
        let store = Self::with_config(Config::new(":memory:"), Some(1))?;
        store.init().await?;
        Ok(store)
    }

    /// The database file, `None` for an in-memory store.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version this build migrates to (the number of migrations).
    #[must_use]
    pub fn schema_version() -> u32 {
        u32::try_from(MIGRATIONS.len()).unwrap_or(u32::MAX)
    }

    /// The schema version recorded in the database (`PRAGMA user_version`).
    pub async fn applied_schema_version(&self) -> Result<u32> {
        self.with_conn(|c| {
            c.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
                .db()
        })
        .await
    }

    fn with_config(mut config: Config, max_size: Option<usize>) -> Result<Self> {
        let mut pool_config = PoolConfig::default();
        if let Some(max) = max_size {
            pool_config.max_size = max;
        }
        pool_config.timeouts = Timeouts {
            wait: Some(POOL_TIMEOUT),
            create: Some(POOL_TIMEOUT),
            recycle: Some(POOL_TIMEOUT),
        };
        config.pool = Some(pool_config);
        let pool = config
            .builder(Runtime::Tokio1)
            .map_err(|e| StoreError::Internal(format!("sqlite pool config: {e}")))?
            .post_create(Hook::async_fn(|conn, _| {
                Box::pin(async move {
                    conn.interact(configure_connection)
                        .await
                        .map_err(|e| HookError::message(format!("configure connection: {e}")))?
                        .map_err(HookError::Backend)
                })
            }))
            .build()
            .map_err(|e| StoreError::Internal(format!("sqlite pool: {e}")))?;
        Ok(Self { pool, path: None })
    }

    /// Sets WAL (persistent in the file) and migrates; returns the journal mode in force.
    async fn init(&self) -> Result<String> {
        self.with_conn(|c| {
            let mode = c
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                .db()?;
            migrate(c)?;
            Ok(mode)
        })
        .await
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    async fn with_conn<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = self.pool.get().await.map_err(map_pool_error)?;
        conn.interact(f).await.map_err(|e| match e {
            InteractError::Panic(_) => StoreError::Internal("database task panicked".into()),
            InteractError::Cancelled => StoreError::Unavailable("database task cancelled".into()),
        })?
    }
}

/// Per-connection settings (these are not stored in the database file).
fn configure_connection(c: &mut Connection) -> rusqlite::Result<()> {
    c.busy_timeout(BUSY_TIMEOUT)?;
    c.pragma_update(None, "foreign_keys", true)?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    // Hot reads (sessions, API keys, memberships, deployments) are parsed once per
    // connection, not on every request.
    c.set_prepared_statement_cache_capacity(64);
    c.pragma_update(None, "cache_size", CACHE_SIZE)
}

fn migrate(c: &mut Connection) -> Result<()> {
    let tx = c
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .db()?;
    let applied: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0)).db()?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Internal(format!(
            "database schema version {applied} is newer than this build's {}",
            MIGRATIONS.len()
        )));
    }
    for (index, step) in MIGRATIONS.iter().enumerate().skip(applied) {
        tx.execute_batch(step).db()?;
        let version = u32::try_from(index + 1).unwrap_or(u32::MAX);
        tx.pragma_update(None, "user_version", version).db()?;
        tracing::info!(version = index + 1, "applied SQLite migration");
    }
    tx.commit().db()
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let millis: i64 = row.get(index)?;
    DateTime::from_timestamp_millis(millis)
        .ok_or(rusqlite::Error::IntegralValueOutOfRange(index, millis))
}

fn opt_time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<i64>>(index)? {
        None => Ok(None),
        Some(millis) => DateTime::from_timestamp_millis(millis)
            .map(Some)
            .ok_or(rusqlite::Error::IntegralValueOutOfRange(index, millis)),
    }
}

// Column lists of the row readers below; every query selecting a row uses exactly these.
const USER_COLUMNS: &str = "id, email, display_name, password_hash, created_at, updated_at";
const SESSION_COLUMNS: &str =
    "id, user_id, user_agent, ip, created_at, last_used_at, expires_at, revoked_at, revoked_reason";
const TEAM_COLUMNS: &str = "id, name, slug, personal, created_by, created_at";
const MEMBERSHIP_COLUMNS: &str = "team_id, user_id, role, created_at";
const INVITATION_COLUMNS: &str = "id, team_id, email, role, invited_by, created_at, expires_at, \
     accepted_at, revoked_at";
const API_KEY_COLUMNS: &str = "id, user_id, team_id, name, prefix, key_hash, scopes, created_at, \
     expires_at, last_used_at, revoked_at";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        display_name: r.get(2)?,
        password_hash: r.get(3)?,
        created_at: time_at(r, 4)?,
        updated_at: time_at(r, 5)?,
    })
}

fn session_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        user_id: r.get(1)?,
        user_agent: r.get(2)?,
        ip: r.get(3)?,
        created_at: time_at(r, 4)?,
        last_used_at: time_at(r, 5)?,
        expires_at: time_at(r, 6)?,
        revoked_at: opt_time_at(r, 7)?,
        revoked_reason: r.get(8)?,
    })
}

fn role_at(row: &Row<'_>, index: usize) -> rusqlite::Result<TeamRole> {
    let text: String = row.get(index)?;
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn team_row(r: &Row<'_>) -> rusqlite::Result<Team> {
    Ok(Team {
        id: r.get(0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        personal: r.get(3)?,
        created_by: r.get(4)?,
        created_at: time_at(r, 5)?,
    })
}

fn membership_row(r: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        team_id: r.get(0)?,
        user_id: r.get(1)?,
        role: role_at(r, 2)?,
        created_at: time_at(r, 3)?,
    })
}

fn invitation_row(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: r.get(0)?,
        team_id: r.get(1)?,
        email: r.get(2)?,
        role: role_at(r, 3)?,
        invited_by: r.get(4)?,
        created_at: time_at(r, 5)?,
        expires_at: time_at(r, 6)?,
        accepted_at: opt_time_at(r, 7)?,
        revoked_at: opt_time_at(r, 8)?,
    })
}

fn api_key_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    let scopes: String = r.get(6)?;
    Ok(ApiKey {
        id: r.get(0)?,
        user_id: r.get(1)?,
        team_id: r.get(2)?,
        name: r.get(3)?,
        prefix: r.get(4)?,
        key_hash: r.get(5)?,
        scopes: scopes::decode(&scopes).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, e.into())
        })?,
        created_at: time_at(r, 7)?,
        expires_at: opt_time_at(r, 8)?,
        last_used_at: opt_time_at(r, 9)?,
        revoked_at: opt_time_at(r, 10)?,
    })
}

/// API-key scopes are one TEXT column holding a JSON array of strings (readable with the
/// sqlite3 shell and SQLite's JSON functions), so no extra table or JSON dependency.
mod scopes {
    use std::fmt::Write as _;

    pub(super) fn encode(scopes: &[String]) -> String {
        let mut out = String::from("[");
        for (i, scope) in scopes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            for c in scope.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if u32::from(c) < 0x20 => {
                        let _ = write!(out, "\\u{:04x}", u32::from(c));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push(']');
        out
    }

    /// Parses a JSON array of strings (any valid JSON spelling of one, not just ours).
    pub(super) fn decode(text: &str) -> Result<Vec<String>, String> {
        let bad = |what: &str| format!("scopes column is not a JSON array of strings: {what}");
        let mut chars = text.trim().chars().peekable();
        let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            while chars.next_if(|c| c.is_ascii_whitespace()).is_some() {}
        };
        if chars.next() != Some('[') {
            return Err(bad("no opening bracket"));
        }
        let mut scopes = Vec::new();
        skip_ws(&mut chars);
        if chars.next_if_eq(&']').is_some() {
            skip_ws(&mut chars);
            return match chars.next() {
                None => Ok(scopes),
                Some(_) => Err(bad("trailing characters")),
            };
        }
        loop {
            skip_ws(&mut chars);
            if chars.next() != Some('"') {
                return Err(bad("element is not a string"));
            }
            let mut scope = String::new();
            loop {
                match chars.next().ok_or_else(|| bad("unterminated string"))? {
                    '"' => break,
                    '\\' => match chars.next().ok_or_else(|| bad("unterminated escape"))? {
                        '"' => scope.push('"'),
                        '\\' => scope.push('\\'),
                        '/' => scope.push('/'),
                        'b' => scope.push('\u{8}'),
                        'f' => scope.push('\u{c}'),
                        'n' => scope.push('\n'),
                        'r' => scope.push('\r'),
                        't' => scope.push('\t'),
                        'u' => {
                            let high = hex4(&mut chars).ok_or_else(|| bad("bad \\u escape"))?;
                            let code = if (0xD800..0xDC00).contains(&high) {
                                if chars.next() != Some('\\') || chars.next() != Some('u') {
                                    return Err(bad("lone surrogate"));
                                }
                                let low = hex4(&mut chars).ok_or_else(|| bad("bad \\u escape"))?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return Err(bad("lone surrogate"));
                                }
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                high
                            };
                            scope.push(char::from_u32(code).ok_or_else(|| bad("lone surrogate"))?);
                        }
                        _ => return Err(bad("unknown escape")),
                    },
                    c => scope.push(c),
                }
            }
            scopes.push(scope);
            skip_ws(&mut chars);
            match chars.next() {
                Some(',') => {}
                Some(']') => break,
                _ => return Err(bad("expected , or ]")),
            }
        }
        skip_ws(&mut chars);
        match chars.next() {
            None => Ok(scopes),
            Some(_) => Err(bad("trailing characters")),
        }
    }

    fn hex4(chars: &mut impl Iterator<Item = char>) -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            value = value * 16 + chars.next()?.to_digit(16)?;
        }
        Some(value)
    }

    #[cfg(test)]
    mod tests {
        use super::{decode, encode};

        #[test]
        fn round_trips_any_strings() {
            let cases: Vec<Vec<String>> = vec![
                vec![],
                vec![String::new()],
                vec!["read".into(), "inference:write".into()],
                vec![
                    "a,b".into(),
                    "\"]".into(),
                    "\\".into(),
                    "x\ny\t\u{1}".into(),
                ],
                vec![
                    "Zoë 日本語 🚀".into(),
                    "' OR 1=1 --".into(),
                    "{\"$ne\":null}".into(),
                ],
            ];
            for scopes in cases {
                let text = encode(&scopes);
                assert_eq!(decode(&text), Ok(scopes.clone()), "{text}");
            }
        }

        #[test]
        fn decodes_other_json_spellings_and_rejects_garbage() {
            assert_eq!(
                decode(" [ \"a\" , \"\\u00e9\\ud83d\\ude80\\/\" ] "),
                Ok(vec!["a".into(), "é🚀/".into()])
            );
            for bad in [
                "",
                "[",
                "[1]",
                "[\"a\"",
                "[\"a\",]",
                "[]x",
                "[\"\\ud800\"]",
                "{}",
            ] {
                assert!(decode(bad).is_err(), "{bad:?}");
            }
        }
    }
}

/// Maps rusqlite results into `StoreError`s.
trait SqlResultExt<T> {
    fn db(self) -> Result<T>;
}

impl<T> SqlResultExt<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(map_sql_error)
    }
}

fn map_sql_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.as_deref().unwrap_or_default();
        match failure.code {
            ErrorCode::ConstraintViolation => match failure.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    return StoreError::Conflict(conflict_message(message));
                }
                // Every foreign key points at the owning user, session or team.
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return StoreError::NotFound,
                _ => {}
            },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Unavailable("database is busy".into());
            }
            ErrorCode::CannotOpen
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::PermissionDenied => {
                return StoreError::Unavailable(format!("sqlite: {e}"));
            }
            _ => {}
        }
    }
    StoreError::Internal(format!("sqlite: {e}"))
}

fn conflict_message(sqlite_message: &str) -> String {
    if sqlite_message.contains("users.email") {
        "email already registered".into()
    } else if sqlite_message.contains("refresh_tokens.hash") {
        "refresh token already exists".into()
    } else if sqlite_message.contains("teams.slug") {
        conflict::TEAM_SLUG_TAKEN.into()
    } else if sqlite_message.contains("teams.created_by") {
        conflict::PERSONAL_TEAM_EXISTS.into()
    } else if sqlite_message.contains("memberships.team_id") {
        conflict::ALREADY_MEMBER.into()
    } else if sqlite_message.contains("api_keys.key_hash") {
        conflict::API_KEY_EXISTS.into()
    } else if sqlite_message.contains("deployments.team_id, deployments.name") {
        conflict::DEPLOYMENT_NAME_TAKEN.into()
    } else {
        "duplicate key".into()
    }
}

fn map_pool_error(e: deadpool_sqlite::PoolError) -> StoreError {
    use deadpool_sqlite::PoolError;
    match e {
        PoolError::Timeout(kind) => {
            StoreError::Unavailable(format!("sqlite connection pool timeout ({kind:?})"))
        }
        PoolError::Backend(e) => match map_sql_error(e) {
            StoreError::Internal(m) => StoreError::Unavailable(m),
            other => other,
        },
        PoolError::Closed => StoreError::Unavailable("sqlite pool closed".into()),
        PoolError::PostCreateHook(e) => {
            StoreError::Unavailable(format!("sqlite connection setup: {e}"))
        }
        PoolError::NoRuntimeSpecified => StoreError::Internal("sqlite pool has no runtime".into()),
    }
}

#[async_trait]
impl UserRepo for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User> {
        let user = new.into_record();
        let row = user.clone();
        self.with_conn(move |c| {
            c.execute(
                "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    row.id,
                    row.email,
                    row.display_name,
                    row.password_hash,
                    ms(row.created_at),
                    ms(row.updated_at)
                ],
            )
            .db()
        })
        .await?;
        Ok(user)
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                [id],
                user_row,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email = normalize_email(email);
        self.with_conn(move |c| {
            c.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"),
                [email],
                user_row,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn update_user(&self, id: &str, update: UserUpdate) -> Result<User> {
        let id = id.to_owned();
        let email = update.email.as_deref().map(normalize_email);
        let now = ms(now_millis());
        // One statement: atomic without an explicit transaction.
        self.with_conn(move |c| {
            c.query_row(
                &format!(
                    "UPDATE users SET
                        display_name = COALESCE(?2, display_name),
                        email = COALESCE(?3, email),
                        password_hash = COALESCE(?4, password_hash),
                        updated_at = ?5
                     WHERE id = ?1
                     RETURNING {USER_COLUMNS}"
                ),
                params![id, update.display_name, email, update.password_hash, now],
                user_row,
            )
            .optional()
            .db()?
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn delete_user(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        // Sessions, refresh tokens, memberships and API keys go by ON DELETE CASCADE, and so
        // does everything in the personal team.
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            tx.execute(
                "DELETE FROM teams WHERE created_by = ?1 AND personal = 1",
                [&id],
            )
            .db()?;
            let n = tx.execute("DELETE FROM users WHERE id = ?1", [&id]).db()?;
            tx.commit().db()?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create_session(&self, new: NewSession, first_refresh_hash: &str) -> Result<Session> {
        let session = new.into_record();
        let s = session.clone();
        let hash = first_refresh_hash.to_owned();
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            tx.execute(
                "INSERT INTO sessions (id, user_id, user_agent, ip, created_at, last_used_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s.id,
                    s.user_id,
                    s.user_agent,
                    s.ip,
                    ms(s.created_at),
                    ms(s.last_used_at),
                    ms(s.expires_at)
                ],
            )
            .db()?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash, s.id, ms(s.created_at), ms(s.expires_at)],
            )
            .db()?;
            tx.commit().db()
        })
        .await?;
        Ok(session)
    }

    async fn session_by_id(&self, id: &str) -> Result<Option<Session>> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(&format!(
                "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"
            ))
            .db()?
            .query_row([id], session_row)
            .optional()
            .db()
        })
        .await
    }

    async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshToken>> {
        let hash = hash.to_owned();
        self.with_conn(move |c| {
            c.query_row(
                "SELECT hash, session_id, issued_at, expires_at, used_at
                 FROM refresh_tokens WHERE hash = ?1",
                [hash],
                |r| {
                    Ok(RefreshToken {
                        hash: r.get(0)?,
                        session_id: r.get(1)?,
                        issued_at: time_at(r, 2)?,
                        expires_at: time_at(r, 3)?,
                        used_at: opt_time_at(r, 4)?,
                    })
                },
            )
            .optional()
            .db()
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        session_id: &str,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expires_at: DateTime<Utc>,
    ) -> Result<RotateOutcome> {
        let (session_id, old_hash, new_hash) = (
            session_id.to_owned(),
            old_hash.to_owned(),
            new_hash.to_owned(),
        );
        let (now, new_expires_at) = (ms(now), ms(new_expires_at));
        self.with_conn(move |c| {
            // IMMEDIATE takes the write lock first, so the checks below cannot go stale.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let revoked_at: Option<Option<i64>> = tx
                .query_row(
                    "SELECT revoked_at FROM sessions WHERE id = ?1",
                    [&session_id],
                    |r| r.get(0),
                )
                .optional()
                .db()?;
            match revoked_at {
                None => return Ok(RotateOutcome::NotFound),
                Some(Some(_)) => return Ok(RotateOutcome::SessionRevoked),
                Some(None) => {}
            }
            // Compare-and-set: only an unused token of this session is consumed.
            let consumed = tx
                .execute(
                    "UPDATE refresh_tokens SET used_at = ?3
                     WHERE hash = ?1 AND session_id = ?2 AND used_at IS NULL",
                    params![old_hash, session_id, now],
                )
                .db()?;
            if consumed == 0 {
                let exists = tx
                    .query_row(
                        "SELECT 1 FROM refresh_tokens WHERE hash = ?1 AND session_id = ?2",
                        [&old_hash, &session_id],
                        |_| Ok(()),
                    )
                    .optional()
                    .db()?
                    .is_some();
                return Ok(if exists {
                    RotateOutcome::AlreadyUsed
                } else {
                    RotateOutcome::NotFound
                });
            }
            tx.execute(
                "INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![new_hash, session_id, now, new_expires_at],
            )
            .db()?;
            tx.execute(
                "UPDATE sessions SET last_used_at = ?2, expires_at = ?3 WHERE id = ?1",
                params![session_id, now, new_expires_at],
            )
            .db()?;
            tx.commit().db()?;
            Ok(RotateOutcome::Rotated)
        })
        .await
    }

    async fn list_sessions_for_user(&self, user_id: &str) -> Result<Vec<Session>> {
        let user_id = user_id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1
                     ORDER BY created_at DESC, id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([user_id], session_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn revoke_session(&self, id: &str, reason: &str, now: DateTime<Utc>) -> Result<bool> {
        let (id, reason, now) = (id.to_owned(), reason.to_owned(), ms(now));
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET revoked_at = ?2, revoked_reason = ?3
                     WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, now, reason],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn revoke_sessions_for_user(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let (user_id, except, reason, now) = (
            user_id.to_owned(),
            except.map(str::to_owned),
            reason.to_owned(),
            ms(now),
        );
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE sessions SET revoked_at = ?3, revoked_reason = ?4
                     WHERE user_id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR id <> ?2)",
                    params![user_id, except, now, reason],
                )
                .db()?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }
}

fn last_owner() -> StoreError {
    StoreError::Conflict(conflict::LAST_OWNER.into())
}

fn conflict_error(message: &str) -> StoreError {
    StoreError::Conflict(message.into())
}

fn count_owners(c: &Connection, team_id: &str) -> Result<i64> {
    c.query_row(
        "SELECT COUNT(*) FROM memberships WHERE team_id = ?1 AND role = 'owner'",
        [team_id],
        |r| r.get(0),
    )
    .db()
}

fn membership_of(c: &Connection, team_id: &str, user_id: &str) -> Result<Option<Membership>> {
    c.prepare_cached(&format!(
        "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE team_id = ?1 AND user_id = ?2"
    ))
    .db()?
    .query_row([team_id, user_id], membership_row)
    .optional()
    .db()
}

#[async_trait]
impl TeamRepo for SqliteStore {
    async fn create_team(&self, new: NewTeam) -> Result<Team> {
        let team = new.into_record();
        let t = team.clone();
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            tx.execute(
                "INSERT INTO teams (id, name, slug, personal, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    t.id,
                    t.name,
                    t.slug,
                    t.personal,
                    t.created_by,
                    ms(t.created_at)
                ],
            )
            .db()?;
            // The foreign key on user_id answers NotFound for an unknown creator.
            tx.execute(
                "INSERT INTO memberships (team_id, user_id, role, created_at)
                 VALUES (?1, ?2, 'owner', ?3)",
                params![t.id, t.created_by, ms(t.created_at)],
            )
            .db()?;
            tx.commit().db()
        })
        .await?;
        Ok(team)
    }

    async fn team_by_id(&self, id: &str) -> Result<Option<Team>> {
        let id = id.to_owned();
        self.with_conn(move |c| {
            c.query_row(
                &format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = ?1"),
                [id],
                team_row,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        let slug = slug.to_owned();
        self.with_conn(move |c| {
            c.query_row(
                &format!("SELECT {TEAM_COLUMNS} FROM teams WHERE slug = ?1"),
                [slug],
                team_row,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn teams_for_user(&self, user_id: &str) -> Result<Vec<(Team, TeamRole)>> {
        let user_id = user_id.to_owned();
        let mut teams = self
            .with_conn(move |c| {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT t.id, t.name, t.slug, t.personal, t.created_by, t.created_at, m.role
                         FROM memberships m JOIN teams t ON t.id = m.team_id
                         WHERE m.user_id = ?1",
                    )
                    .db()?;
                let rows = stmt
                    .query_map([user_id], |r| Ok((team_row(r)?, role_at(r, 6)?)))
                    .db()?;
                rows.collect::<rusqlite::Result<Vec<_>>>().db()
            })
            .await?;
        // Sorted here rather than in SQL so both adapters order names the same way.
        sort_teams_for_user(&mut teams);
        Ok(teams)
    }

    async fn membership(&self, team_id: &str, user_id: &str) -> Result<Option<Membership>> {
        let (team_id, user_id) = (team_id.to_owned(), user_id.to_owned());
        self.with_conn(move |c| membership_of(c, &team_id, &user_id))
            .await
    }

    async fn list_members(&self, team_id: &str) -> Result<Vec<Membership>> {
        let team_id = team_id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {MEMBERSHIP_COLUMNS} FROM memberships WHERE team_id = ?1
                     ORDER BY created_at, user_id"
                ))
                .db()?;
            let rows = stmt.query_map([team_id], membership_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn add_member(&self, team_id: &str, user_id: &str, role: TeamRole) -> Result<Membership> {
        let membership = Membership {
            team_id: team_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            created_at: now_millis(),
        };
        let m = membership.clone();
        // Foreign keys answer NotFound, the primary key Conflict: one statement, no race.
        self.with_conn(move |c| {
            c.execute(
                "INSERT INTO memberships (team_id, user_id, role, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![m.team_id, m.user_id, m.role.as_str(), ms(m.created_at)],
            )
            .db()
        })
        .await?;
        Ok(membership)
    }

    async fn set_member_role(
        &self,
        team_id: &str,
        user_id: &str,
        role: TeamRole,
    ) -> Result<Membership> {
        let (team_id, user_id) = (team_id.to_owned(), user_id.to_owned());
        self.with_conn(move |c| {
            // IMMEDIATE takes the write lock first, so the owner count cannot go stale.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let current = membership_of(&tx, &team_id, &user_id)?.ok_or(StoreError::NotFound)?;
            if current.role == TeamRole::Owner
                && role != TeamRole::Owner
                && count_owners(&tx, &team_id)? <= 1
            {
                return Err(last_owner());
            }
            tx.execute(
                "UPDATE memberships SET role = ?3 WHERE team_id = ?1 AND user_id = ?2",
                params![team_id, user_id, role.as_str()],
            )
            .db()?;
            tx.commit().db()?;
            Ok(Membership { role, ..current })
        })
        .await
    }

    async fn remove_member(&self, team_id: &str, user_id: &str) -> Result<bool> {
        let (team_id, user_id) = (team_id.to_owned(), user_id.to_owned());
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let Some(current) = membership_of(&tx, &team_id, &user_id)? else {
                return Ok(false);
            };
            if current.role == TeamRole::Owner && count_owners(&tx, &team_id)? <= 1 {
                return Err(last_owner());
            }
            let n = tx
                .execute(
                    "DELETE FROM memberships WHERE team_id = ?1 AND user_id = ?2",
                    [&team_id, &user_id],
                )
                .db()?;
            tx.commit().db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn delete_team(&self, team_id: &str) -> Result<bool> {
        let team_id = team_id.to_owned();
        // Memberships, invitations and API keys go by ON DELETE CASCADE.
        self.with_conn(move |c| {
            let n = c
                .execute("DELETE FROM teams WHERE id = ?1", [team_id])
                .db()?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl InvitationRepo for SqliteStore {
    async fn create_invitation(&self, new: NewInvitation) -> Result<Invitation> {
        let invitation = new.into_record();
        let i = invitation.clone();
        self.with_conn(move |c| {
            // The checks and the insert share the write lock: no duplicate pending invitation.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let member = tx
                .query_row(
                    "SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
                     WHERE m.team_id = ?1 AND u.email = ?2",
                    [&i.team_id, &i.email],
                    |_| Ok(()),
                )
                .optional()
                .db()?;
            if member.is_some() {
                return Err(conflict_error(conflict::ALREADY_MEMBER));
            }
            let pending = tx
                .query_row(
                    "SELECT 1 FROM invitations
                     WHERE team_id = ?1 AND email = ?2 AND accepted_at IS NULL
                       AND revoked_at IS NULL AND expires_at > ?3",
                    params![i.team_id, i.email, ms(i.created_at)],
                    |_| Ok(()),
                )
                .optional()
                .db()?;
            if pending.is_some() {
                return Err(conflict_error(conflict::INVITATION_PENDING));
            }
            // The foreign key on team_id answers NotFound for an unknown team.
            tx.execute(
                "INSERT INTO invitations (id, team_id, email, role, invited_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    i.id,
                    i.team_id,
                    i.email,
                    i.role.as_str(),
                    i.invited_by,
                    ms(i.created_at),
                    ms(i.expires_at)
                ],
            )
            .db()?;
            tx.commit().db()
        })
        .await?;
        Ok(invitation)
    }

    async fn invitation_by_id(&self, id: &str) -> Result<Option<Invitation>> {
        let id = id.to_owned();
        self.with_conn(move |c| invitation_by_id(c, &id)).await
    }

    async fn invitations_for_team(&self, team_id: &str) -> Result<Vec<Invitation>> {
        let team_id = team_id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {INVITATION_COLUMNS} FROM invitations WHERE team_id = ?1
                     ORDER BY created_at DESC, id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([team_id], invitation_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn pending_invitations_for_email(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>> {
        let (email, now) = (normalize_email(email), ms(now));
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {INVITATION_COLUMNS} FROM invitations
                     WHERE email = ?1 AND expires_at > ?2
                       AND accepted_at IS NULL AND revoked_at IS NULL
                     ORDER BY created_at DESC, id DESC"
                ))
                .db()?;
            let rows = stmt.query_map(params![email, now], invitation_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn accept_invitation(
        &self,
        id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Membership> {
        let (id, user_id, now) = (id.to_owned(), user_id.to_owned(), truncate_to_millis(now));
        let created_at = now_millis();
        self.with_conn(move |c| {
            // Judged and applied under the write lock: one acceptance, ever.
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let invitation = invitation_by_id(&tx, &id)?.ok_or(StoreError::NotFound)?;
            let email: String = tx
                .query_row("SELECT email FROM users WHERE id = ?1", [&user_id], |r| {
                    r.get(0)
                })
                .optional()
                .db()?
                .ok_or(StoreError::NotFound)?;
            refuse_unacceptable(&invitation, &email, now)?;
            let membership = Membership {
                team_id: invitation.team_id,
                user_id,
                role: invitation.role,
                created_at,
            };
            tx.execute(
                "INSERT INTO memberships (team_id, user_id, role, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    membership.team_id,
                    membership.user_id,
                    membership.role.as_str(),
                    ms(membership.created_at)
                ],
            )
            .db()?;
            tx.execute(
                "UPDATE invitations SET accepted_at = ?2 WHERE id = ?1",
                params![id, ms(now)],
            )
            .db()?;
            tx.commit().db()?;
            Ok(membership)
        })
        .await
    }

    async fn revoke_invitation(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let (id, now) = (id.to_owned(), ms(now));
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE invitations SET revoked_at = ?2
                     WHERE id = ?1 AND accepted_at IS NULL AND revoked_at IS NULL",
                    params![id, now],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }
}

fn invitation_by_id(c: &Connection, id: &str) -> Result<Option<Invitation>> {
    c.query_row(
        &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = ?1"),
        [id],
        invitation_row,
    )
    .optional()
    .db()
}

#[async_trait]
impl ApiKeyRepo for SqliteStore {
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey> {
        let key = new.into_record();
        let k = key.clone();
        // Foreign keys answer NotFound, the unique hash index Conflict.
        self.with_conn(move |c| {
            c.execute(
                "INSERT INTO api_keys
                    (id, user_id, team_id, name, prefix, key_hash, scopes, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    k.id,
                    k.user_id,
                    k.team_id,
                    k.name,
                    k.prefix,
                    k.key_hash,
                    scopes::encode(&k.scopes),
                    ms(k.created_at),
                    k.expires_at.map(ms)
                ],
            )
            .db()
        })
        .await?;
        Ok(key)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let hash = hash.to_owned();
        self.with_conn(move |c| {
            c.prepare_cached(&format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"
            ))
            .db()?
            .query_row([hash], api_key_row)
            .optional()
            .db()
        })
        .await
    }

    async fn list_api_keys_for_user(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        let user_id = user_id.to_owned();
        self.with_conn(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = ?1
                     ORDER BY created_at DESC, id DESC"
                ))
                .db()?;
            let rows = stmt.query_map([user_id], api_key_row).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()
        })
        .await
    }

    async fn revoke_api_key(&self, id: &str, user_id: &str, now: DateTime<Utc>) -> Result<bool> {
        let (id, user_id, now) = (id.to_owned(), user_id.to_owned(), ms(now));
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE api_keys SET revoked_at = ?3
                     WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL",
                    params![id, user_id, now],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn touch_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let (id, now) = (id.to_owned(), ms(now));
        // No write at all when a later (or the same) use is already recorded.
        self.with_conn(move |c| {
            c.execute(
                "UPDATE api_keys SET last_used_at = ?2
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
                params![id, now],
            )
            .db()
            .map(|_| ())
        })
        .await
    }

    async fn revoke_api_keys_for_user_in_team(
        &self,
        user_id: &str,
        team_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let (user_id, team_id, now) = (user_id.to_owned(), team_id.to_owned(), ms(now));
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "UPDATE api_keys SET revoked_at = ?3
                     WHERE user_id = ?1 AND team_id = ?2 AND revoked_at IS NULL",
                    params![user_id, team_id, now],
                )
                .db()?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------
// The model catalog.
// ---------------------------------------------------------------------------------------

/// More distinct filter tags than this would exceed SQLite's parameter limit; such a query
/// matches nothing (no model carries that many tags).
const MAX_FILTER_TAGS: usize = 10_000;

/// Facet count changes of one write transaction, applied once at the end.
#[derive(Default)]
struct FacetDeltas(HashMap<(&'static str, String), i64>);

impl FacetDeltas {
    fn add(&mut self, row: &FacetValues, sign: i64) {
        let singles = [
            (FACET_TASK, &row.task),
            (FACET_LIBRARY, &row.library),
            (FACET_LICENSE, &row.license),
        ];
        for (facet, value) in singles {
            if let Some(value) = value {
                *self.0.entry((facet, value.clone())).or_default() += sign;
            }
        }
        for language in &row.languages {
            *self
                .0
                .entry((FACET_LANGUAGE, language.clone()))
                .or_default() += sign;
        }
    }

    fn apply(self, tx: &Connection) -> Result<()> {
        let mut negative = false;
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO catalog_facets (facet, value, count) VALUES (?1, ?2, ?3)
                 ON CONFLICT (facet, value) DO UPDATE SET count = count + excluded.count",
            )
            .db()?;
        for ((facet, value), delta) in self.0 {
            if delta != 0 {
                negative |= delta < 0;
                upsert.execute(params![facet, value, delta]).db()?;
            }
        }
        if negative {
            tx.execute("DELETE FROM catalog_facets WHERE count <= 0", [])
                .db()?;
        }
        Ok(())
    }
}

/// The facet values of one stored model (languages distinct).
struct FacetValues {
    task: Option<String>,
    library: Option<String>,
    license: Option<String>,
    languages: Vec<String>,
}

fn decode_languages(json: &str) -> Result<Vec<String>> {
    if json == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(json)
        .map_err(|e| StoreError::Internal(format!("sqlite: catalog languages column: {e}")))
}

fn encode_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Internal(format!("to JSON: {e}")))
}

fn bump_meta(tx: &Connection, key: &str, delta: i64) -> Result<()> {
    if delta != 0 {
        tx.execute(
            "UPDATE catalog_meta SET value = value + ?2 WHERE key = ?1",
            params![key, delta],
        )
        .db()?;
    }
    Ok(())
}

fn meta_value(c: &Connection, key: &str) -> Result<u64> {
    let value: Option<i64> = c
        .query_row(
            "SELECT value FROM catalog_meta WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    Ok(value.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
}

/// The stored row of a model.
struct StoredModel {
    rid: i64,
    fingerprint: String,
    labels_fingerprint: String,
    facets: FacetValues,
}

fn stored_model(c: &Connection, key: &str) -> Result<Option<StoredModel>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT rid, fingerprint, labels_fingerprint, task, library, license, languages
             FROM catalog_models WHERE id_key = ?1",
        )
        .db()?;
    let row = stmt
        .query_row([key], |r| {
            Ok((
                StoredModel {
                    rid: r.get(0)?,
                    fingerprint: r.get(1)?,
                    labels_fingerprint: r.get(2)?,
                    facets: FacetValues {
                        task: r.get(3)?,
                        library: r.get(4)?,
                        license: r.get(5)?,
                        languages: Vec::new(),
                    },
                },
                r.get::<_, String>(6)?,
            ))
        })
        .optional()
        .db()?;
    row.map(|(mut stored, languages)| {
        stored.facets.languages = decode_languages(&languages)?;
        Ok(stored)
    })
    .transpose()
}

/// Writes a batch in the caller's transaction; returns the counts.
fn upsert_batch(tx: &Connection, batch: &[Prepared]) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    let mut deltas = FacetDeltas::default();
    for p in batch {
        let m = &p.model;
        let languages = encode_json(&p.languages)?;
        let columns = params![
            p.author_key,
            m.task,
            m.library,
            m.license,
            languages,
            m.is_gated(),
            m.downloads,
            m.likes,
            m.trending_score,
            m.created_at.map(ms),
            m.updated_at.map(ms),
            p.fingerprint,
            p.key,
            p.labels_fingerprint,
        ];
        let (rid, rewrite_labels) = match stored_model(tx, &p.key)? {
            Some(old) if old.fingerprint == p.fingerprint => continue,
            Some(old) => {
                deltas.add(&old.facets, -1);
                tx.prepare_cached(
                    "UPDATE catalog_models SET author_key = ?1, task = ?2, library = ?3,
                        license = ?4, languages = ?5, gated = ?6, downloads = ?7, likes = ?8,
                        trending = ?9, created_at = ?10, updated_at = ?11, fingerprint = ?12,
                        labels_fingerprint = ?14
                     WHERE id_key = ?13",
                )
                .db()?
                .execute(columns)
                .db()?;
                let rewrite = old.labels_fingerprint != p.labels_fingerprint;
                if rewrite {
                    for sql in [
                        "DELETE FROM catalog_tags WHERE rid = ?1",
                        "DELETE FROM catalog_languages WHERE rid = ?1",
                        "DELETE FROM catalog_fts WHERE rowid = ?1",
                    ] {
                        tx.prepare_cached(sql).db()?.execute([old.rid]).db()?;
                    }
                }
                counts.updated += 1;
                (old.rid, rewrite)
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO catalog_models (author_key, task, library, license, languages,
                        gated, downloads, likes, trending, created_at, updated_at, fingerprint,
                        id_key, labels_fingerprint)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .db()?
                .execute(columns)
                .db()?;
                counts.inserted += 1;
                (tx.last_insert_rowid(), true)
            }
        };
        tx.prepare_cached(
            "INSERT INTO catalog_docs (rid, doc) VALUES (?1, ?2)
             ON CONFLICT (rid) DO UPDATE SET doc = excluded.doc",
        )
        .db()?
        .execute(params![rid, p.json])
        .db()?;
        if rewrite_labels {
            let mut add_tag = tx
                .prepare_cached("INSERT INTO catalog_tags (tag, rid) VALUES (?1, ?2)")
                .db()?;
            for tag in &p.tags {
                add_tag.execute(params![tag, rid]).db()?;
            }
            let mut add_language = tx
                .prepare_cached("INSERT INTO catalog_languages (language, rid) VALUES (?1, ?2)")
                .db()?;
            for language in &p.languages {
                add_language.execute(params![language, rid]).db()?;
            }
            tx.prepare_cached("INSERT INTO catalog_fts (rowid, tokens) VALUES (?1, ?2)")
                .db()?
                .execute(params![rid, p.tokens.join(" ")])
                .db()?;
        }
        deltas.add(
            &FacetValues {
                task: m.task.clone(),
                library: m.library.clone(),
                license: m.license.clone(),
                languages: p.languages.clone(),
            },
            1,
        );
    }
    deltas.apply(tx)?;
    bump_meta(
        tx,
        "models",
        i64::try_from(counts.inserted).unwrap_or(i64::MAX),
    )?;
    if counts.inserted + counts.updated > 0 {
        bump_meta(tx, "revision", 1)?;
    }
    Ok(counts)
}

/// FxHash (as in rustc): facet values are few and short, SipHash's flood resistance is not
/// needed for counting them, and hashing is a large part of a facet pass.
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0_u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<V> = HashMap<Vec<u8>, V, std::hash::BuildHasherDefault<FxHasher>>;

/// Counts facet values over matched rows, reading the raw column bytes.
#[derive(Default)]
struct FacetCounter {
    tasks: FxMap<u64>,
    libraries: FxMap<u64>,
    licenses: FxMap<u64>,
    /// By the `languages` column (a JSON array): the same few sets repeat, so each
    /// distinct one is parsed once, at the end.
    language_sets: FxMap<u64>,
    total: u64,
}

fn bump_bytes(map: &mut FxMap<u64>, value: Option<&[u8]>) {
    let Some(value) = value else { return };
    if let Some(count) = map.get_mut(value) {
        *count += 1;
    } else {
        map.insert(value.to_vec(), 1);
    }
}

impl FacetCounter {
    fn add(
        &mut self,
        task: Option<&[u8]>,
        library: Option<&[u8]>,
        license: Option<&[u8]>,
        languages: Option<&[u8]>,
    ) {
        self.total += 1;
        bump_bytes(&mut self.tasks, task);
        bump_bytes(&mut self.libraries, library);
        bump_bytes(&mut self.licenses, license);
        bump_bytes(&mut self.language_sets, languages.filter(|l| *l != b"[]"));
    }

    fn facets(self) -> Result<Facets> {
        let text = |map: FxMap<u64>| -> Result<Vec<FacetCount>> {
            let counts = map
                .into_iter()
                .map(|(value, count)| {
                    String::from_utf8(value)
                        .map(|value| (value, count))
                        .map_err(|e| StoreError::Internal(format!("sqlite: facet value: {e}")))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(top_values(counts))
        };
        let mut languages: HashMap<String, u64> = HashMap::new();
        for (set, count) in self.language_sets {
            let set = std::str::from_utf8(&set)
                .map_err(|e| StoreError::Internal(format!("sqlite: facet value: {e}")))?;
            for language in decode_languages(set)? {
                *languages.entry(language).or_default() += count;
            }
        }
        Ok(Facets {
            tasks: text(self.tasks)?,
            libraries: text(self.libraries)?,
            licenses: text(self.licenses)?,
            languages: top_values(languages),
        })
    }
}

/// The column of a sort key.
fn sort_column(sort: CatalogSort) -> &'static str {
    match sort {
        CatalogSort::Downloads => "downloads",
        CatalogSort::Likes => "likes",
        CatalogSort::Trending => "trending",
        CatalogSort::Updated => "updated_at",
        CatalogSort::Created => "created_at",
    }
}

/// `ORDER BY` of a search: the key, then the id in the opposite direction (see
/// [`CatalogQuery`]), which the (key DESC, id_key) indexes serve in both directions.
fn order_by(sort: CatalogSort, descending: bool) -> String {
    let column = sort_column(sort);
    if descending {
        format!("{column} DESC, id_key ASC")
    } else {
        format!("{column} ASC, id_key DESC")
    }
}

/// A sort key value as SQLite orders it (NULL first); trending scores are finite.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SortValue {
    Int(Option<i64>),
    Real(f64),
}

impl SortValue {
    fn read(row: &Row<'_>, index: usize, sort: CatalogSort) -> rusqlite::Result<Self> {
        Ok(match sort {
            CatalogSort::Trending => Self::Real(row.get(index)?),
            _ => Self::Int(row.get(index)?),
        })
    }

    fn cmp(self, other: Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.cmp(&b),
            (Self::Real(a), Self::Real(b)) => a.total_cmp(&b),
            (Self::Int(_), Self::Real(_)) => std::cmp::Ordering::Less,
            (Self::Real(_), Self::Int(_)) => std::cmp::Ordering::Greater,
        }
    }
}

/// Page order of two models: `Less` when `a` comes first. Descending: key descending, id
/// ascending; ascending is the exact reverse.
fn page_order(
    a: (SortValue, &[u8]),
    b: (SortValue, &[u8]),
    descending: bool,
) -> std::cmp::Ordering {
    let descending_order = b.0.cmp(a.0).then_with(|| a.1.cmp(b.1));
    if descending {
        descending_order
    } else {
        descending_order.reverse()
    }
}

/// One candidate of the page; ordered by page order (the heap's top is the last one).
struct Candidate {
    value: SortValue,
    /// UTF-8 bytes: byte order is SQLite's BINARY collation (and `str` order).
    id_key: Box<[u8]>,
    rid: i64,
    descending: bool,
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        page_order(
            (self.value, &self.id_key),
            (other.value, &other.id_key),
            self.descending,
        )
    }
}

/// Keeps the first `keep` models in page order out of a stream, allocating only for
/// those that make it in.
struct TopModels {
    keep: usize,
    heap: std::collections::BinaryHeap<Candidate>,
    descending: bool,
}

impl TopModels {
    fn new(keep: usize, descending: bool) -> Self {
        Self {
            keep,
            heap: std::collections::BinaryHeap::with_capacity(keep.min(4096)),
            descending,
        }
    }

    fn offer(&mut self, value: SortValue, id_key: &[u8], rid: i64) {
        if self.keep == 0 {
            return;
        }
        if self.heap.len() == self.keep {
            let Some(last) = self.heap.peek() else { return };
            if page_order((value, id_key), (last.value, &last.id_key), self.descending)
                != std::cmp::Ordering::Less
            {
                return;
            }
            self.heap.pop();
        }
        self.heap.push(Candidate {
            value,
            id_key: id_key.into(),
            rid,
            descending: self.descending,
        });
    }

    /// The rids in page order.
    fn into_rids(self) -> Vec<i64> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| c.rid)
            .collect()
    }
}

/// The `WHERE` of a filtered search and its parameters. Every value is a bound parameter;
/// the FTS5 expression is built from tokens that are alphanumeric by construction.
fn conditions(s: &Search) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if !s.tokens.is_empty() {
        let expression = s
            .tokens
            .iter()
            .map(|t| format!("\"{t}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        clauses.push("rid IN (SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?)".into());
        values.push(Value::Text(expression));
    }
    for (column, value) in [
        ("task", &s.task),
        ("library", &s.library),
        ("license", &s.license),
        ("author_key", &s.author_key),
    ] {
        if let Some(value) = value {
            clauses.push(format!("{column} = ?"));
            values.push(Value::Text(value.clone()));
        }
    }
    if let Some(language) = &s.language {
        clauses.push("rid IN (SELECT rid FROM catalog_languages WHERE language = ?)".into());
        values.push(Value::Text(language.clone()));
    }
    match s.tags.as_slice() {
        [] => {}
        [tag] => {
            clauses.push("rid IN (SELECT rid FROM catalog_tags WHERE tag = ?)".into());
            values.push(Value::Text(tag.clone()));
        }
        tags => {
            let marks = vec!["?"; tags.len()].join(", ");
            clauses.push(format!(
                "rid IN (SELECT rid FROM catalog_tags WHERE tag IN ({marks})
                         GROUP BY rid HAVING count(*) = {})",
                tags.len()
            ));
            values.extend(tags.iter().cloned().map(Value::Text));
        }
    }
    if let Some(gated) = s.gated {
        clauses.push("gated = ?".into());
        values.push(Value::Integer(i64::from(gated)));
    }
    (clauses.join(" AND "), values)
}

fn model_doc(c: &Connection, rid: i64) -> Result<CatalogModel> {
    let doc: String = c
        .prepare_cached("SELECT doc FROM catalog_docs WHERE rid = ?1")
        .db()?
        .query_row([rid], |r| r.get(0))
        .db()?;
    serde_json::from_str(&doc)
        .map_err(|e| StoreError::Internal(format!("sqlite: malformed catalog document: {e}")))
}

fn stored_facets(c: &Connection) -> Result<Facets> {
    let mut stmt = c
        .prepare_cached(
            "SELECT value, count FROM catalog_facets WHERE facet = ?1 AND count > 0
             ORDER BY count DESC, value LIMIT ?2",
        )
        .db()?;
    let mut read = |facet: &str| -> Result<Vec<FacetCount>> {
        let rows = stmt
            .query_map(
                params![facet, i64::try_from(Facets::MAX_VALUES).unwrap_or(i64::MAX)],
                |r| {
                    Ok(FacetCount {
                        value: r.get(0)?,
                        count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    })
                },
            )
            .db()?;
        rows.collect::<rusqlite::Result<Vec<_>>>().db()
    };
    Ok(Facets {
        tasks: read(FACET_TASK)?,
        libraries: read(FACET_LIBRARY)?,
        licenses: read(FACET_LICENSE)?,
        languages: read(FACET_LANGUAGE)?,
    })
}

/// The page of an unfiltered search (parameters: limit, offset), read from a sort index.
fn unfiltered_page_sql(s: &Search) -> String {
    format!(
        "SELECT rid FROM catalog_models ORDER BY {} LIMIT ?1 OFFSET ?2",
        order_by(s.sort, s.descending)
    )
}

/// Every row a filtered search matches, with what the facets and the page need:
/// rid, sort key, id_key, task, library, license, languages.
fn matched_rows_sql(s: &Search) -> (String, Vec<rusqlite::types::Value>) {
    let (conditions, values) = conditions(s);
    let sql = format!(
        "SELECT rid, {}, id_key, task, library, license, languages
         FROM catalog_models WHERE {conditions}",
        sort_column(s.sort)
    );
    (sql, values)
}

/// A search reads one snapshot. Unfiltered: the page from a sort index, total and facets
/// from the maintained counts. Filtered: one pass over the matched rows (found through
/// FTS5, the side tables or the filter indexes) counts the total and the facets and keeps
/// the page's rows in a bounded heap; then the page's documents are read by rid.
fn search_catalog(c: &mut Connection, s: &Search) -> Result<CatalogPage> {
    if s.tags.len() > MAX_FILTER_TAGS {
        return Ok(CatalogPage::default());
    }
    // One read transaction: items, total and facets come from the same snapshot.
    let tx = c.transaction().db()?;
    let (rids, total, facets) = if s.matches_all() {
        let page = [i64::from(s.limit), i64::from(s.offset)];
        let rids = if s.limit == 0 {
            Vec::new()
        } else {
            let mut stmt = tx.prepare_cached(&unfiltered_page_sql(s)).db()?;
            let rows = stmt.query_map(page, |r| r.get::<_, i64>(0)).db()?;
            rows.collect::<rusqlite::Result<Vec<_>>>().db()?
        };
        (rids, meta_value(&tx, "models")?, stored_facets(&tx)?)
    } else {
        // One pass over the matched rows gives the total, the facets and the page.
        let (sql, values) = matched_rows_sql(s);
        let mut counter = FacetCounter::default();
        let keep = usize::try_from(u64::from(s.offset) + u64::from(s.limit)).unwrap_or(usize::MAX);
        let mut top = TopModels::new(if s.limit == 0 { 0 } else { keep }, s.descending);
        let mut stmt = tx.prepare_cached(&sql).db()?;
        let mut rows = stmt.query(rusqlite::params_from_iter(values.iter())).db()?;
        while let Some(r) = rows.next().db()? {
            let bytes = |i: usize| -> Result<Option<&[u8]>> {
                r.get_ref(i)
                    .and_then(|v| v.as_bytes_or_null().map_err(Into::into))
                    .db()
            };
            counter.add(bytes(3)?, bytes(4)?, bytes(5)?, bytes(6)?);
            top.offer(
                SortValue::read(r, 1, s.sort).db()?,
                bytes(2)?.unwrap_or_default(),
                r.get(0).db()?,
            );
        }
        drop(rows);
        drop(stmt);
        let offset = usize::try_from(s.offset).unwrap_or(usize::MAX);
        let rids = top.into_rids().into_iter().skip(offset).collect();
        let total = counter.total;
        (rids, total, counter.facets()?)
    };
    let items = rids
        .into_iter()
        .map(|rid| model_doc(&tx, rid))
        .collect::<Result<Vec<_>>>()?;
    tx.commit().db()?;
    Ok(CatalogPage {
        items,
        total,
        facets,
    })
}

#[async_trait]
impl CatalogRepo for SqliteStore {
    async fn upsert_models(&self, models: &[CatalogModel]) -> Result<UpsertCounts> {
        let batch = prepare_batch(models)?;
        if batch.is_empty() {
            return Ok(UpsertCounts::default());
        }
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let counts = upsert_batch(&tx, &batch)?;
            tx.commit().db()?;
            Ok(counts)
        })
        .await
    }

    async fn catalog_model(&self, id: &str) -> Result<Option<CatalogModel>> {
        let key = catalog::key(id);
        self.with_conn(move |c| {
            let rid: Option<i64> = c
                .prepare_cached("SELECT rid FROM catalog_models WHERE id_key = ?1")
                .db()?
                .query_row([key], |r| r.get(0))
                .optional()
                .db()?;
            rid.map(|rid| model_doc(c, rid)).transpose()
        })
        .await
    }

    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage> {
        let search = Search::new(query);
        self.with_conn(move |c| search_catalog(c, &search)).await
    }

    async fn catalog_count(&self) -> Result<u64> {
        self.with_conn(|c| meta_value(c, "models")).await
    }

    async fn delete_catalog_model(&self, id: &str) -> Result<bool> {
        let key = catalog::key(id);
        self.with_conn(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .db()?;
            let Some(StoredModel {
                rid, facets: old, ..
            }) = stored_model(&tx, &key)?
            else {
                return Ok(false);
            };
            tx.execute("DELETE FROM catalog_fts WHERE rowid = ?1", [rid])
                .db()?;
            // Tags, languages and the document go by ON DELETE CASCADE.
            tx.execute("DELETE FROM catalog_models WHERE rid = ?1", [rid])
                .db()?;
            let mut deltas = FacetDeltas::default();
            deltas.add(&old, -1);
            deltas.apply(&tx)?;
            bump_meta(&tx, "models", -1)?;
            bump_meta(&tx, "revision", 1)?;
            tx.commit().db()?;
            Ok(true)
        })
        .await
    }

    async fn catalog_revision(&self) -> Result<u64> {
        self.with_conn(|c| meta_value(c, "revision")).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_conn(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).db())
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod catalog_plans {
    //! The catalog's SQL uses its indexes: no full scan of a catalog table for a search
    //! that has a text, tag, language or column condition, and no sorting for an
    //! unfiltered page.
    use super::*;

    fn plan(c: &Connection, sql: &str, values: &[rusqlite::types::Value]) -> String {
        let mut stmt = c
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), |r| {
                r.get::<_, String>(3)
            })
            .expect("plan rows");
        rows.map(|r| r.expect("plan row"))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    fn schema() -> Connection {
        let mut c = Connection::open_in_memory().expect("in-memory database");
        migrate(&mut c).expect("migrate");
        c
    }

    fn search(query: CatalogQuery) -> Search {
        Search::new(&query)
    }

    #[test]
    fn filtered_searches_seek() {
        let c = schema();
        let cases = [
            (
                CatalogQuery {
                    text: Some("mini lm".into()),
                    ..CatalogQuery::default()
                },
                "catalog_fts VIRTUAL TABLE INDEX",
            ),
            (
                CatalogQuery {
                    tags: vec!["a".into()],
                    ..CatalogQuery::default()
                },
                "SEARCH catalog_tags USING PRIMARY KEY (tag=?)",
            ),
            (
                CatalogQuery {
                    tags: vec!["a".into(), "b".into(), "c".into()],
                    ..CatalogQuery::default()
                },
                "SEARCH catalog_tags USING PRIMARY KEY (tag=?)",
            ),
            (
                CatalogQuery {
                    language: Some("en".into()),
                    ..CatalogQuery::default()
                },
                "SEARCH catalog_languages USING PRIMARY KEY (language=?)",
            ),
            (
                CatalogQuery {
                    task: Some("fill-mask".into()),
                    ..CatalogQuery::default()
                },
                "USING INDEX catalog_models_task (task=?)",
            ),
            (
                CatalogQuery {
                    library: Some("peft".into()),
                    ..CatalogQuery::default()
                },
                "USING INDEX catalog_models_library (library=?)",
            ),
            (
                CatalogQuery {
                    license: Some("mit".into()),
                    ..CatalogQuery::default()
                },
                "USING INDEX catalog_models_license (license=?)",
            ),
            (
                CatalogQuery {
                    author: Some("Org".into()),
                    ..CatalogQuery::default()
                },
                "USING INDEX catalog_models_author_key (author_key=?)",
            ),
        ];
        for (query, expected) in cases {
            let (sql, values) = matched_rows_sql(&search(query.clone()));
            let plan = plan(&c, &sql, &values);
            assert!(plan.contains(expected), "{query:?}: {plan}");
            for table in ["catalog_models", "catalog_tags", "catalog_languages"] {
                assert!(
                    !plan.contains(&format!("SCAN {table}")),
                    "{query:?} scans {table}: {plan}"
                );
            }
        }
    }

    #[test]
    fn unfiltered_pages_read_a_sort_index() {
        let c = schema();
        for sort in CatalogSort::ALL {
            for descending in [true, false] {
                let sql = unfiltered_page_sql(&search(CatalogQuery {
                    sort,
                    descending,
                    ..CatalogQuery::default()
                }));
                let values = [
                    rusqlite::types::Value::Integer(20),
                    rusqlite::types::Value::Integer(0),
                ];
                let plan = plan(&c, &sql, &values);
                let index = format!("catalog_models_{}", sort_column(sort));
                assert!(plan.contains(&index), "{sort:?} {descending}: {plan}");
                assert!(
                    !plan.contains("TEMP B-TREE"),
                    "{sort:?} {descending}: {plan}"
                );
            }
        }
    }

    #[test]
    fn page_order_is_reversible() {
        use std::cmp::Ordering;
        let a = (SortValue::Int(Some(5)), "a".as_bytes());
        let b = (SortValue::Int(Some(5)), "b".as_bytes());
        let none = (SortValue::Int(None), "c".as_bytes());
        assert_eq!(
            page_order(a, b, true),
            Ordering::Less,
            "ties by id ascending"
        );
        assert_eq!(page_order(a, b, false), Ordering::Greater);
        assert_eq!(
            page_order(none, a, true),
            Ordering::Greater,
            "NULL last descending"
        );
        assert_eq!(
            page_order(none, a, false),
            Ordering::Less,
            "NULL first ascending"
        );
        let mut top = TopModels::new(2, true);
        for (value, id, rid) in [(1, "x", 1), (3, "y", 2), (3, "a", 3), (2, "z", 4)] {
            top.offer(SortValue::Int(Some(value)), id.as_bytes(), rid);
        }
        assert_eq!(top.into_rids(), vec![3, 2]);
    }
}
