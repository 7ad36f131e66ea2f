//! SQLite adapter: the embedded default. One file, WAL journal, a small connection pool;
//! every statement runs on a blocking thread through deadpool-sqlite's `interact`.
//! Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

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

use crate::{
    NewSession, NewUser, RefreshToken, Result, RotateOutcome, Session, SessionRepo, Store,
    StoreError, User, UserRepo, UserUpdate, new_id, normalize_email, now_millis,
    truncate_to_millis,
};

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
];

/// How long a statement waits for another connection's write lock before `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
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
    c.pragma_update(None, "synchronous", "NORMAL")
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
                // The only foreign keys point at the owning user/session.
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
        let now = now_millis();
        let user = User {
            id: new_id(),
            email: normalize_email(&new.email),
            display_name: new.display_name,
            password_hash: new.password_hash,
            created_at: now,
            updated_at: now,
        };
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
        // Sessions and their refresh tokens go by ON DELETE CASCADE.
        self.with_conn(move |c| {
            let n = c.execute("DELETE FROM users WHERE id = ?1", [id]).db()?;
            Ok(n > 0)
        })
        .await
    }
}

#[async_trait]
impl SessionRepo for SqliteStore {
    async fn create_session(&self, new: NewSession, first_refresh_hash: &str) -> Result<Session> {
        let now = now_millis();
        let session = Session {
            id: new_id(),
            user_id: new.user_id,
            user_agent: new.user_agent,
            ip: new.ip,
            created_at: now,
            last_used_at: now,
            expires_at: truncate_to_millis(new.expires_at),
            revoked_at: None,
            revoked_reason: None,
        };
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
            c.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
                [id],
                session_row,
            )
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
