//! MongoDB adapter: collections `users`, `sessions`, `refresh_tokens` with string `_id`s
//! (a refresh token's `_id` is its hash). Filters are built with `doc!` from typed values
//! only, so user input is always a BSON string and never an operator.
//!
//! No multi-document transactions: they need a replica set, and a standalone `mongod` is a
//! supported deployment. Atomicity comes from single-document conditional updates instead.

use std::future::IntoFuture;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};

use crate::{
    NewSession, NewUser, RefreshToken, Result, RotateOutcome, Session, SessionRepo, Store,
    StoreError, User, UserRepo, UserUpdate, new_id, normalize_email, now_millis,
    truncate_to_millis,
};

/// Server selection and TCP connect timeouts unless the URI sets them: an unreachable
/// server answers `Unavailable` in about this long instead of the driver's 30 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Upper bound for one database operation, so a silent network drop cannot hang a request.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// MongoDB's duplicate key error.
const DUPLICATE_KEY: i32 = 11000;

/// The MongoDB store. Cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
    users: Collection<Document>,
    sessions: Collection<Document>,
    tokens: Collection<Document>,
}

impl MongoStore {
    /// Connects and creates the indexes (idempotent). Fails with `Unavailable` within a few
    /// seconds when the server is unreachable; never echoes the URI in errors.
    pub async fn connect(uri: &str, database: &str) -> Result<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(|e| match *e.kind {
            ErrorKind::DnsResolve { .. } => {
                StoreError::Unavailable("mongodb: DNS resolution of the URI failed".into())
            }
            _ => StoreError::Internal("mongodb: invalid connection URI".into()),
        })?;
        options
            .server_selection_timeout
            .get_or_insert(CONNECT_TIMEOUT);
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.app_name.get_or_insert_with(|| "hfb".into());
        let client = Client::with_options(options)
            .map_err(|e| StoreError::Internal(format!("mongodb client: {}", e.kind)))?;
        let db = client.database(database);
        let store = Self {
            users: db.collection("users"),
            sessions: db.collection("sessions"),
            tokens: db.collection("refresh_tokens"),
            client,
            db,
        };
        store.create_indexes().await?;
        Ok(store)
    }

    /// The database this store uses.
    #[must_use]
    pub fn database_name(&self) -> &str {
        self.db.name()
    }

    /// Drops the whole database (for tests that create one per run).
    pub async fn drop_database(&self) -> Result<()> {
        op(self.db.drop()).await
    }

    /// Closes the connection pool (optional: dropping the store also releases it).
    pub async fn shutdown(self) {
        self.client.shutdown().await;
    }

    async fn create_indexes(&self) -> Result<()> {
        let index = |keys: Document, name: &str, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(unique.then_some(true))
                        .build(),
                )
                .build()
        };
        op(self
            .users
            .create_index(index(doc! { "email": 1 }, "users_email", true)))
        .await?;
        op(self.sessions.create_index(index(
            doc! { "user_id": 1, "created_at": -1 },
            "sessions_user_id",
            false,
        )))
        .await?;
        op(self.tokens.create_index(index(
            doc! { "session_id": 1 },
            "refresh_tokens_session_id",
            false,
        )))
        .await?;
        op(self.tokens.create_index(index(
            doc! { "user_id": 1 },
            "refresh_tokens_user_id",
            false,
        )))
        .await?;
        Ok(())
    }
}

/// Runs one driver operation with a deadline and maps its error.
async fn op<T>(action: impl IntoFuture<Output = mongodb::error::Result<T>>) -> Result<T> {
    match tokio::time::timeout(OPERATION_TIMEOUT, action.into_future()).await {
        Ok(result) => result.map_err(map_mongo_error),
        Err(_) => Err(StoreError::Unavailable(format!(
            "mongodb: operation timed out after {} s",
            OPERATION_TIMEOUT.as_secs()
        ))),
    }
}

fn map_mongo_error(e: mongodb::error::Error) -> StoreError {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) if w.code == DUPLICATE_KEY => {
            StoreError::Conflict(conflict_message(&w.message))
        }
        ErrorKind::Command(c) if c.code == DUPLICATE_KEY => {
            StoreError::Conflict(conflict_message(&c.message))
        }
        // Shutdown/step-down/not-primary/interrupted/time-limit: the server is transiently unable.
        ErrorKind::Command(c)
            if [91, 189, 10107, 11600, 11602, 13435, 13436, 50].contains(&c.code) =>
        {
            StoreError::Unavailable(format!("mongodb: {} ({})", c.code_name, c.code))
        }
        ErrorKind::Command(c) => StoreError::Internal(format!(
            "mongodb command failed: {} ({})",
            c.code_name, c.code
        )),
        ErrorKind::ServerSelection { .. } => StoreError::Unavailable(
            "mongodb: no reachable server (server selection timed out)".into(),
        ),
        ErrorKind::Io(io) => StoreError::Unavailable(format!("mongodb: i/o error ({})", io.kind())),
        ErrorKind::ConnectionPoolCleared { .. } => {
            StoreError::Unavailable("mongodb: connection pool cleared".into())
        }
        ErrorKind::Authentication { .. } => {
            StoreError::Unavailable("mongodb: authentication failed".into())
        }
        ErrorKind::DnsResolve { .. } => {
            StoreError::Unavailable("mongodb: DNS resolution failed".into())
        }
        ErrorKind::Shutdown => StoreError::Unavailable("mongodb: client shut down".into()),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => {
            StoreError::Unavailable(format!("mongodb: write concern failed: {}", w.code_name))
        }
        other => StoreError::Internal(format!("mongodb: {other}")),
    }
}

/// The server's message names the index and echoes the key value: keep only which rule.
fn conflict_message(server_message: &str) -> String {
    if server_message.contains("email") {
        "email already registered".into()
    } else if server_message.contains("refresh_tokens") {
        "refresh token already exists".into()
    } else {
        "duplicate key".into()
    }
}

fn bdate(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(t)
}

fn opt_string(s: Option<String>) -> Bson {
    s.map_or(Bson::Null, Bson::String)
}

fn bad_document(collection: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("mongodb: malformed {collection} document: {e}"))
}

fn get_string(d: &Document, key: &str, collection: &str) -> Result<String> {
    d.get_str(key)
        .map(str::to_owned)
        .map_err(|e| bad_document(collection, e))
}

fn get_time(d: &Document, key: &str, collection: &str) -> Result<DateTime<Utc>> {
    d.get_datetime(key)
        .map(|t| t.to_chrono())
        .map_err(|e| bad_document(collection, e))
}

fn get_opt_string(d: &Document, key: &str, collection: &str) -> Result<Option<String>> {
    match d.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad_document(
            collection,
            format!("{key} has type {:?}", other.element_type()),
        )),
    }
}

fn get_opt_time(d: &Document, key: &str, collection: &str) -> Result<Option<DateTime<Utc>>> {
    match d.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(t)) => Ok(Some(t.to_chrono())),
        Some(other) => Err(bad_document(
            collection,
            format!("{key} has type {:?}", other.element_type()),
        )),
    }
}

fn user_from(d: &Document) -> Result<User> {
    Ok(User {
        id: get_string(d, "_id", "users")?,
        email: get_string(d, "email", "users")?,
        display_name: get_string(d, "display_name", "users")?,
        password_hash: get_string(d, "password_hash", "users")?,
        created_at: get_time(d, "created_at", "users")?,
        updated_at: get_time(d, "updated_at", "users")?,
    })
}

fn session_from(d: &Document) -> Result<Session> {
    Ok(Session {
        id: get_string(d, "_id", "sessions")?,
        user_id: get_string(d, "user_id", "sessions")?,
        user_agent: get_opt_string(d, "user_agent", "sessions")?,
        ip: get_opt_string(d, "ip", "sessions")?,
        created_at: get_time(d, "created_at", "sessions")?,
        last_used_at: get_time(d, "last_used_at", "sessions")?,
        expires_at: get_time(d, "expires_at", "sessions")?,
        revoked_at: get_opt_time(d, "revoked_at", "sessions")?,
        revoked_reason: get_opt_string(d, "revoked_reason", "sessions")?,
    })
}

fn token_from(d: &Document) -> Result<RefreshToken> {
    Ok(RefreshToken {
        hash: get_string(d, "_id", "refresh_tokens")?,
        session_id: get_string(d, "session_id", "refresh_tokens")?,
        issued_at: get_time(d, "issued_at", "refresh_tokens")?,
        expires_at: get_time(d, "expires_at", "refresh_tokens")?,
        used_at: get_opt_time(d, "used_at", "refresh_tokens")?,
    })
}

fn token_doc(
    hash: &str,
    session_id: &str,
    user_id: &str,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Document {
    // user_id is denormalized so deleting a user removes its tokens in one statement.
    doc! {
        "_id": hash,
        "session_id": session_id,
        "user_id": user_id,
        "issued_at": bdate(issued_at),
        "expires_at": bdate(expires_at),
        "used_at": Bson::Null,
    }
}

#[async_trait]
impl UserRepo for MongoStore {
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
        // The unique index on email decides; a duplicate fails with E11000 -> Conflict.
        op(self.users.insert_one(doc! {
            "_id": &user.id,
            "email": &user.email,
            "display_name": &user.display_name,
            "password_hash": &user.password_hash,
            "created_at": bdate(user.created_at),
            "updated_at": bdate(user.updated_at),
        }))
        .await?;
        Ok(user)
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>> {
        op(self.users.find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        op(self
            .users
            .find_one(doc! { "email": normalize_email(email) }))
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    async fn update_user(&self, id: &str, update: UserUpdate) -> Result<User> {
        let mut set = doc! { "updated_at": bdate(now_millis()) };
        if let Some(name) = update.display_name {
            set.insert("display_name", name);
        }
        if let Some(email) = update.email {
            set.insert("email", normalize_email(&email));
        }
        if let Some(hash) = update.password_hash {
            set.insert("password_hash", hash);
        }
        let updated = op(self
            .users
            .find_one_and_update(doc! { "_id": id }, doc! { "$set": set })
            .return_document(ReturnDocument::After))
        .await?;
        updated
            .as_ref()
            .map(user_from)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    async fn delete_user(&self, id: &str) -> Result<bool> {
        // Children first: if this fails half-way, the user still exists and a retry finishes.
        op(self.tokens.delete_many(doc! { "user_id": id })).await?;
        op(self.sessions.delete_many(doc! { "user_id": id })).await?;
        let deleted = op(self.users.delete_one(doc! { "_id": id })).await?;
        Ok(deleted.deleted_count > 0)
    }
}

#[async_trait]
impl SessionRepo for MongoStore {
    async fn create_session(&self, new: NewSession, first_refresh_hash: &str) -> Result<Session> {
        // No foreign keys in MongoDB: check the owner exists (SQLite answers NotFound too).
        let owner = op(self
            .users
            .find_one(doc! { "_id": &new.user_id })
            .projection(doc! { "_id": 1 }))
        .await?;
        if owner.is_none() {
            return Err(StoreError::NotFound);
        }
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
        op(self.sessions.insert_one(doc! {
            "_id": &session.id,
            "user_id": &session.user_id,
            "user_agent": opt_string(session.user_agent.clone()),
            "ip": opt_string(session.ip.clone()),
            "created_at": bdate(session.created_at),
            "last_used_at": bdate(session.last_used_at),
            "expires_at": bdate(session.expires_at),
            "revoked_at": Bson::Null,
            "revoked_reason": Bson::Null,
        }))
        .await?;
        let token = token_doc(
            first_refresh_hash,
            &session.id,
            &session.user_id,
            now,
            session.expires_at,
        );
        if let Err(e) = op(self.tokens.insert_one(token)).await {
            // Do not leave a session without a token behind (best effort).
            if let Err(cleanup) = op(self.sessions.delete_one(doc! { "_id": &session.id })).await {
                tracing::warn!(error = %cleanup, "could not remove a session whose token insert failed");
            }
            return Err(e);
        }
        Ok(session)
    }

    async fn session_by_id(&self, id: &str) -> Result<Option<Session>> {
        op(self.sessions.find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(session_from)
            .transpose()
    }

    async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshToken>> {
        op(self.tokens.find_one(doc! { "_id": hash }))
            .await?
            .as_ref()
            .map(token_from)
            .transpose()
    }

    async fn rotate_refresh_token(
        &self,
        session_id: &str,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expires_at: DateTime<Utc>,
    ) -> Result<RotateOutcome> {
        let (now, new_expires_at) = (truncate_to_millis(now), truncate_to_millis(new_expires_at));
        let Some(session) = op(self
            .sessions
            .find_one(doc! { "_id": session_id })
            .projection(doc! { "user_id": 1, "revoked_at": 1 }))
        .await?
        else {
            return Ok(RotateOutcome::NotFound);
        };
        if get_opt_time(&session, "revoked_at", "sessions")?.is_some() {
            return Ok(RotateOutcome::SessionRevoked);
        }
        let user_id = get_string(&session, "user_id", "sessions")?;

        // The successor is stored before the old token is consumed: if we fail in between,
        // the old token still works (a retry succeeds) and the orphan hash was never handed out.
        op(self.tokens.insert_one(token_doc(
            new_hash,
            session_id,
            &user_id,
            now,
            new_expires_at,
        )))
        .await?;

        // Compare-and-set on one document (atomic on any MongoDB, no transaction needed):
        // only an unused token of this session matches; `used_at: null` matches null or absent.
        let consumed = match op(self.tokens.update_one(
            doc! { "_id": old_hash, "session_id": session_id, "used_at": Bson::Null },
            doc! { "$set": { "used_at": bdate(now) } },
        ))
        .await
        {
            Ok(r) => r.matched_count == 1,
            Err(e) => {
                self.discard_token(new_hash).await;
                return Err(e);
            }
        };
        if !consumed {
            self.discard_token(new_hash).await;
            let old = op(self
                .tokens
                .find_one(doc! { "_id": old_hash, "session_id": session_id })
                .projection(doc! { "_id": 1 }))
            .await?;
            return Ok(if old.is_some() {
                RotateOutcome::AlreadyUsed
            } else {
                RotateOutcome::NotFound
            });
        }

        let touched = op(self.sessions.update_one(
            doc! { "_id": session_id, "revoked_at": Bson::Null },
            doc! { "$set": { "last_used_at": bdate(now), "expires_at": bdate(new_expires_at) } },
        ))
        .await?;
        if touched.matched_count == 0 {
            // Revoked between our check and now: the new token belongs to a dead session.
            return Ok(RotateOutcome::SessionRevoked);
        }
        Ok(RotateOutcome::Rotated)
    }

    async fn list_sessions_for_user(&self, user_id: &str) -> Result<Vec<Session>> {
        let mut cursor = op(self
            .sessions
            .find(doc! { "user_id": user_id })
            .sort(doc! { "created_at": -1, "_id": -1 }))
        .await?;
        let mut sessions = Vec::new();
        while op(cursor.advance()).await? {
            let d = cursor
                .deserialize_current()
                .map_err(|e| bad_document("sessions", e.kind))?;
            sessions.push(session_from(&d)?);
        }
        Ok(sessions)
    }

    async fn revoke_session(&self, id: &str, reason: &str, now: DateTime<Utc>) -> Result<bool> {
        let r = op(self.sessions.update_one(
            doc! { "_id": id, "revoked_at": Bson::Null },
            doc! { "$set": { "revoked_at": bdate(truncate_to_millis(now)), "revoked_reason": reason } },
        ))
        .await?;
        Ok(r.matched_count > 0)
    }

    async fn revoke_sessions_for_user(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut filter = doc! { "user_id": user_id, "revoked_at": Bson::Null };
        if let Some(keep) = except {
            filter.insert("_id", doc! { "$ne": keep });
        }
        let r = op(self.sessions.update_many(
            filter,
            doc! { "$set": { "revoked_at": bdate(truncate_to_millis(now)), "revoked_reason": reason } },
        ))
        .await?;
        Ok(r.modified_count)
    }
}

impl MongoStore {
    /// Removes a successor token that lost its rotation (best effort: it was never handed out).
    async fn discard_token(&self, hash: &str) {
        if let Err(e) = op(self
            .tokens
            .delete_one(doc! { "_id": hash, "used_at": Bson::Null }))
        .await
        {
            tracing::warn!(error = %e, "could not remove an unused refresh token");
        }
    }
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        op(self.db.run_command(doc! { "ping": 1 }))
            .await
            .map(|_| ())
    }
}
