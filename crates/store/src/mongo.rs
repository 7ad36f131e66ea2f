//! MongoDB adapter: collections `users`, `sessions`, `refresh_tokens`, `teams`,
//! `memberships`, `invitations` and `api_keys` with string `_id`s (a refresh token's `_id`
//! is its hash). Filters are built with `doc!` from typed values only, so user input is
//! always a BSON string and never an operator.
//!
//! No multi-document transactions: they need a replica set, and a standalone `mongod` is a
//! supported deployment. Atomicity comes from single-document conditional updates and
//! unique indexes instead; deletes go children first, so a failed one is finished by a retry.
//! Two helper fields exist only to give unique indexes something to hold: `personal_of` on a
//! personal team (its creator: one per user) and `open_key` on a not-yet-answered invitation
//! (team and e-mail: one pending per pair).
//!
//! The model catalog lives in `catalog_models` (`_id` = the lowercased model id) with its
//! revision counter in `catalog_meta`; text search uses the `search_tokens` array (see
//! `catalog_doc`) with anchored prefix regexes, since text indexes are not portable.

mod deployments;

use std::future::IntoFuture;
use std::time::Duration;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Cursor, Database, IndexModel};

use crate::catalog::{self, Prepared, Search, prepare_batch, top_values};
use crate::{
    ApiKey, ApiKeyRepo, CatalogModel, CatalogPage, CatalogQuery, CatalogRepo, CatalogSort,
    CatalogSource, FacetCount, Facets, Invitation, InvitationRepo, Membership, ModelFile,
    NewApiKey, NewInvitation, NewSession, NewTeam, NewUser, RefreshToken, Result, RotateOutcome,
    Session, SessionRepo, Store, StoreError, Team, TeamRepo, TeamRole, UpsertCounts, User,
    UserRepo, UserUpdate, conflict, new_id, normalize_email, now_millis, refuse_unacceptable,
    sort_teams_for_user, truncate_to_millis,
};

/// Server selection and TCP connect timeouts unless the URI sets them: an unreachable
/// server answers `Unavailable` in about this long instead of the driver's 30 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Upper bound for one database operation, so a silent network drop cannot hang a request.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);
/// MongoDB's duplicate key error.
const DUPLICATE_KEY: i32 = 11000;
/// How often a compare-and-set that lost to a concurrent writer is judged again.
const CAS_ATTEMPTS: usize = 3;

/// The MongoDB store. Cheap to clone (the client is shared).
#[derive(Debug, Clone)]
pub struct MongoStore {
    client: Client,
    db: Database,
    users: Collection<Document>,
    sessions: Collection<Document>,
    tokens: Collection<Document>,
    teams: Collection<Document>,
    memberships: Collection<Document>,
    invitations: Collection<Document>,
    api_keys: Collection<Document>,
    catalog: Collection<Document>,
    catalog_meta: Collection<Document>,
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
            teams: db.collection("teams"),
            memberships: db.collection("memberships"),
            invitations: db.collection("invitations"),
            api_keys: db.collection("api_keys"),
            catalog: db.collection(CATALOG),
            catalog_meta: db.collection("catalog_meta"),
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
        // Unique among the documents that have the field at all.
        let sparse_unique = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .unique(true)
                        .sparse(true)
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
        op(self
            .teams
            .create_index(index(doc! { "slug": 1 }, "teams_slug", true)))
        .await?;
        op(self.teams.create_index(sparse_unique(
            doc! { "personal_of": 1 },
            "teams_personal_of",
        )))
        .await?;
        op(self.memberships.create_index(index(
            doc! { "team_id": 1, "user_id": 1 },
            "memberships_team_user",
            true,
        )))
        .await?;
        op(self.memberships.create_index(index(
            doc! { "user_id": 1 },
            "memberships_user_id",
            false,
        )))
        .await?;
        op(self.invitations.create_index(index(
            doc! { "team_id": 1, "created_at": -1 },
            "invitations_team_id",
            false,
        )))
        .await?;
        op(self.invitations.create_index(index(
            doc! { "email": 1, "expires_at": 1 },
            "invitations_email",
            false,
        )))
        .await?;
        op(self
            .invitations
            .create_index(sparse_unique(doc! { "open_key": 1 }, "invitations_open")))
        .await?;
        op(self
            .api_keys
            .create_index(index(doc! { "key_hash": 1 }, "api_keys_key_hash", true)))
        .await?;
        op(self.api_keys.create_index(index(
            doc! { "user_id": 1, "created_at": -1 },
            "api_keys_user_id",
            false,
        )))
        .await?;
        op(self.api_keys.create_index(index(
            doc! { "team_id": 1, "user_id": 1 },
            "api_keys_team_id",
            false,
        )))
        .await?;
        self.create_catalog_indexes().await?;
        self.create_deployment_indexes().await
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

/// The server's message names the collection and index, then echoes the key value: judge by
/// the part before the echo (which is user input) and keep only which rule was broken.
fn conflict_message(server_message: &str) -> String {
    let head = server_message
        .split(" dup key")
        .next()
        .unwrap_or(server_message);
    let rules = [
        ("users_email", "email already registered"),
        (".refresh_tokens", "refresh token already exists"),
        ("teams_slug", conflict::TEAM_SLUG_TAKEN),
        ("teams_personal_of", conflict::PERSONAL_TEAM_EXISTS),
        ("memberships_team_user", conflict::ALREADY_MEMBER),
        ("invitations_open", conflict::INVITATION_PENDING),
        ("api_keys_key_hash", conflict::API_KEY_EXISTS),
    ];
    rules
        .iter()
        .find(|(index, _)| head.contains(index))
        .map_or("duplicate key", |(_, message)| message)
        .into()
}

fn bdate(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_chrono(t)
}

fn opt_string(s: Option<String>) -> Bson {
    s.map_or(Bson::Null, Bson::String)
}

fn opt_date(t: Option<DateTime<Utc>>) -> Bson {
    t.map_or(Bson::Null, |t| Bson::DateTime(bdate(t)))
}

/// Reads every document of a cursor through `from`.
async fn collect<T>(
    mut cursor: Cursor<Document>,
    collection: &str,
    from: fn(&Document) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while op(cursor.advance()).await? {
        let d = cursor
            .deserialize_current()
            .map_err(|e| bad_document(collection, e.kind))?;
        out.push(from(&d)?);
    }
    Ok(out)
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

fn get_role(d: &Document, key: &str, collection: &str) -> Result<TeamRole> {
    get_string(d, key, collection)?
        .parse()
        .map_err(|e| bad_document(collection, e))
}

fn team_from(d: &Document) -> Result<Team> {
    Ok(Team {
        id: get_string(d, "_id", "teams")?,
        name: get_string(d, "name", "teams")?,
        slug: get_string(d, "slug", "teams")?,
        personal: d
            .get_bool("personal")
            .map_err(|e| bad_document("teams", e))?,
        created_by: get_string(d, "created_by", "teams")?,
        created_at: get_time(d, "created_at", "teams")?,
    })
}

fn membership_from(d: &Document) -> Result<Membership> {
    Ok(Membership {
        team_id: get_string(d, "team_id", "memberships")?,
        user_id: get_string(d, "user_id", "memberships")?,
        role: get_role(d, "role", "memberships")?,
        created_at: get_time(d, "created_at", "memberships")?,
    })
}

fn membership_doc(m: &Membership) -> Document {
    doc! {
        "_id": new_id(),
        "team_id": &m.team_id,
        "user_id": &m.user_id,
        "role": m.role.as_str(),
        "created_at": bdate(m.created_at),
    }
}

fn invitation_from(d: &Document) -> Result<Invitation> {
    Ok(Invitation {
        id: get_string(d, "_id", "invitations")?,
        team_id: get_string(d, "team_id", "invitations")?,
        email: get_string(d, "email", "invitations")?,
        role: get_role(d, "role", "invitations")?,
        invited_by: get_string(d, "invited_by", "invitations")?,
        created_at: get_time(d, "created_at", "invitations")?,
        expires_at: get_time(d, "expires_at", "invitations")?,
        accepted_at: get_opt_time(d, "accepted_at", "invitations")?,
        revoked_at: get_opt_time(d, "revoked_at", "invitations")?,
    })
}

/// The value of an open invitation's `open_key` (a team id never contains a newline).
fn open_key(team_id: &str, email: &str) -> String {
    format!("{team_id}\n{email}")
}

fn api_key_from(d: &Document) -> Result<ApiKey> {
    let scopes = d
        .get_array("scopes")
        .map_err(|e| bad_document("api_keys", e))?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad_document("api_keys", "a scope is not a string"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ApiKey {
        id: get_string(d, "_id", "api_keys")?,
        user_id: get_string(d, "user_id", "api_keys")?,
        team_id: get_string(d, "team_id", "api_keys")?,
        name: get_string(d, "name", "api_keys")?,
        prefix: get_string(d, "prefix", "api_keys")?,
        key_hash: get_string(d, "key_hash", "api_keys")?,
        scopes,
        created_at: get_time(d, "created_at", "api_keys")?,
        expires_at: get_opt_time(d, "expires_at", "api_keys")?,
        last_used_at: get_opt_time(d, "last_used_at", "api_keys")?,
        revoked_at: get_opt_time(d, "revoked_at", "api_keys")?,
    })
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
        let user = new.into_record();
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
        let personal = op(self
            .teams
            .find(doc! { "personal_of": id })
            .projection(doc! { "_id": 1 }))
        .await?;
        for team_id in collect(personal, "teams", |d| get_string(d, "_id", "teams")).await? {
            self.delete_team(&team_id).await?;
        }
        op(self.api_keys.delete_many(doc! { "user_id": id })).await?;
        op(self.memberships.delete_many(doc! { "user_id": id })).await?;
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
        let session = new.into_record();
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
        let cursor = op(self
            .sessions
            .find(doc! { "user_id": user_id })
            .sort(doc! { "created_at": -1, "_id": -1 }))
        .await?;
        collect(cursor, "sessions", session_from).await
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
    /// True when a document with this `_id` exists (MongoDB has no foreign keys).
    async fn exists(collection: &Collection<Document>, id: &str) -> Result<bool> {
        let found = op(collection
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 }))
        .await?;
        Ok(found.is_some())
    }

    async fn owner_count(&self, team_id: &str) -> Result<u64> {
        op(self
            .memberships
            .count_documents(doc! { "team_id": team_id, "role": TeamRole::Owner.as_str() }))
        .await
    }

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

fn last_owner() -> StoreError {
    StoreError::Conflict(conflict::LAST_OWNER.into())
}

fn concurrent_update() -> StoreError {
    StoreError::Conflict(conflict::CONCURRENT_UPDATE.into())
}

#[async_trait]
impl TeamRepo for MongoStore {
    async fn create_team(&self, new: NewTeam) -> Result<Team> {
        if !Self::exists(&self.users, &new.created_by).await? {
            return Err(StoreError::NotFound);
        }
        let team = new.into_record();
        let mut team_doc = doc! {
            "_id": &team.id,
            "name": &team.name,
            "slug": &team.slug,
            "personal": team.personal,
            "created_by": &team.created_by,
            "created_at": bdate(team.created_at),
        };
        if team.personal {
            team_doc.insert("personal_of", &team.created_by);
        }
        // Unique indexes decide: E11000 on teams_slug / teams_personal_of -> Conflict.
        op(self.teams.insert_one(team_doc)).await?;
        let owner = Membership {
            team_id: team.id.clone(),
            user_id: team.created_by.clone(),
            role: TeamRole::Owner,
            created_at: team.created_at,
        };
        if let Err(e) = op(self.memberships.insert_one(membership_doc(&owner))).await {
            // Do not leave a team without its owner behind (best effort).
            if let Err(cleanup) = op(self.teams.delete_one(doc! { "_id": &team.id })).await {
                tracing::warn!(error = %cleanup, "could not remove a team whose owner insert failed");
            }
            return Err(e);
        }
        Ok(team)
    }

    async fn team_by_id(&self, id: &str) -> Result<Option<Team>> {
        op(self.teams.find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(team_from)
            .transpose()
    }

    async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
        op(self.teams.find_one(doc! { "slug": slug }))
            .await?
            .as_ref()
            .map(team_from)
            .transpose()
    }

    async fn teams_for_user(&self, user_id: &str) -> Result<Vec<(Team, TeamRole)>> {
        let cursor = op(self.memberships.find(doc! { "user_id": user_id })).await?;
        let memberships = collect(cursor, "memberships", membership_from).await?;
        if memberships.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = memberships.iter().map(|m| m.team_id.as_str()).collect();
        let cursor = op(self.teams.find(doc! { "_id": { "$in": ids } })).await?;
        let mut by_id: HashMap<String, Team> = collect(cursor, "teams", team_from)
            .await?
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        // A membership whose team is being deleted has no team any more: skip it.
        let mut teams: Vec<(Team, TeamRole)> = memberships
            .into_iter()
            .filter_map(|m| by_id.remove(&m.team_id).map(|t| (t, m.role)))
            .collect();
        sort_teams_for_user(&mut teams);
        Ok(teams)
    }

    async fn membership(&self, team_id: &str, user_id: &str) -> Result<Option<Membership>> {
        op(self
            .memberships
            .find_one(doc! { "team_id": team_id, "user_id": user_id }))
        .await?
        .as_ref()
        .map(membership_from)
        .transpose()
    }

    async fn list_members(&self, team_id: &str) -> Result<Vec<Membership>> {
        let cursor = op(self
            .memberships
            .find(doc! { "team_id": team_id })
            .sort(doc! { "created_at": 1, "user_id": 1 }))
        .await?;
        collect(cursor, "memberships", membership_from).await
    }

    async fn add_member(&self, team_id: &str, user_id: &str, role: TeamRole) -> Result<Membership> {
        // Residual race: a team or user deleted right after these checks leaves an orphan
        // membership, which no listing shows (teams_for_user skips it).
        if !Self::exists(&self.teams, team_id).await? || !Self::exists(&self.users, user_id).await?
        {
            return Err(StoreError::NotFound);
        }
        let membership = Membership {
            team_id: team_id.to_owned(),
            user_id: user_id.to_owned(),
            role,
            created_at: now_millis(),
        };
        // The unique (team_id, user_id) index decides: E11000 -> Conflict "already a member".
        op(self.memberships.insert_one(membership_doc(&membership))).await?;
        Ok(membership)
    }

    async fn set_member_role(
        &self,
        team_id: &str,
        user_id: &str,
        role: TeamRole,
    ) -> Result<Membership> {
        for _ in 0..CAS_ATTEMPTS {
            let current = self
                .membership(team_id, user_id)
                .await?
                .ok_or(StoreError::NotFound)?;
            let demoting = current.role == TeamRole::Owner && role != TeamRole::Owner;
            if demoting && self.owner_count(team_id).await? <= 1 {
                return Err(last_owner());
            }
            // Compare-and-set on the role just judged; a concurrent change means judge again.
            let updated = op(self
                .memberships
                .find_one_and_update(
                    doc! { "team_id": team_id, "user_id": user_id, "role": current.role.as_str() },
                    doc! { "$set": { "role": role.as_str() } },
                )
                .return_document(ReturnDocument::After))
            .await?;
            let Some(updated) = updated else { continue };
            if demoting && self.owner_count(team_id).await? == 0 {
                // Another owner left between our count and our write: undo ours. Residual race:
                // only a crash before this undo can leave the team ownerless (no transactions).
                self.restore_owner_role(team_id, user_id, role).await;
                return Err(last_owner());
            }
            return membership_from(&updated);
        }
        Err(concurrent_update())
    }

    async fn remove_member(&self, team_id: &str, user_id: &str) -> Result<bool> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(raw) = op(self
                .memberships
                .find_one(doc! { "team_id": team_id, "user_id": user_id }))
            .await?
            else {
                return Ok(false);
            };
            let current = membership_from(&raw)?;
            let owner = current.role == TeamRole::Owner;
            if owner && self.owner_count(team_id).await? <= 1 {
                return Err(last_owner());
            }
            let id = get_string(&raw, "_id", "memberships")?;
            // Compare-and-set on the role just judged; a concurrent change means judge again.
            let deleted = op(self
                .memberships
                .delete_one(doc! { "_id": &id, "role": current.role.as_str() }))
            .await?;
            if deleted.deleted_count == 0 {
                continue;
            }
            if owner && self.owner_count(team_id).await? == 0 {
                // Another owner left between our count and our delete: undo ours. Residual
                // race: only a crash before this undo can leave the team ownerless.
                if let Err(e) = op(self.memberships.insert_one(raw)).await {
                    tracing::error!(error = %e, team_id, "could not restore the last owner of a team");
                }
                return Err(last_owner());
            }
            return Ok(true);
        }
        Err(concurrent_update())
    }

    async fn delete_team(&self, team_id: &str) -> Result<bool> {
        // Children first: if this fails half-way, the team still exists and a retry finishes.
        op(self.api_keys.delete_many(doc! { "team_id": team_id })).await?;
        op(self.invitations.delete_many(doc! { "team_id": team_id })).await?;
        op(self.memberships.delete_many(doc! { "team_id": team_id })).await?;
        let deleted = op(self.teams.delete_one(doc! { "_id": team_id })).await?;
        Ok(deleted.deleted_count > 0)
    }
}

impl MongoStore {
    /// Undoes a demotion that took a team's last owner (best effort, logged on failure).
    async fn restore_owner_role(&self, team_id: &str, user_id: &str, demoted_to: TeamRole) {
        let restored = op(self.memberships.update_one(
            doc! { "team_id": team_id, "user_id": user_id, "role": demoted_to.as_str() },
            doc! { "$set": { "role": TeamRole::Owner.as_str() } },
        ))
        .await;
        if let Err(e) = restored {
            tracing::error!(error = %e, team_id, "could not restore the last owner of a team");
        }
    }
}

#[async_trait]
impl InvitationRepo for MongoStore {
    async fn create_invitation(&self, new: NewInvitation) -> Result<Invitation> {
        let invitation = new.into_record();
        if !Self::exists(&self.teams, &invitation.team_id).await? {
            return Err(StoreError::NotFound);
        }
        let invitee = op(self
            .users
            .find_one(doc! { "email": &invitation.email })
            .projection(doc! { "_id": 1 }))
        .await?;
        if let Some(invitee) = invitee {
            let user_id = get_string(&invitee, "_id", "users")?;
            if self
                .membership(&invitation.team_id, &user_id)
                .await?
                .is_some()
            {
                return Err(StoreError::Conflict(conflict::ALREADY_MEMBER.into()));
            }
        }
        let key = open_key(&invitation.team_id, &invitation.email);
        // An expired, unanswered invitation frees its slot (it stays listed, as expired).
        op(self.invitations.update_many(
            doc! { "open_key": &key, "expires_at": { "$lte": bdate(invitation.created_at) } },
            doc! { "$unset": { "open_key": "" } },
        ))
        .await?;
        // The sparse unique index on open_key decides: E11000 -> Conflict "pending invitation".
        op(self.invitations.insert_one(doc! {
            "_id": &invitation.id,
            "team_id": &invitation.team_id,
            "email": &invitation.email,
            "role": invitation.role.as_str(),
            "invited_by": &invitation.invited_by,
            "created_at": bdate(invitation.created_at),
            "expires_at": bdate(invitation.expires_at),
            "accepted_at": Bson::Null,
            "revoked_at": Bson::Null,
            "open_key": key,
        }))
        .await?;
        Ok(invitation)
    }

    async fn invitation_by_id(&self, id: &str) -> Result<Option<Invitation>> {
        op(self.invitations.find_one(doc! { "_id": id }))
            .await?
            .as_ref()
            .map(invitation_from)
            .transpose()
    }

    async fn invitations_for_team(&self, team_id: &str) -> Result<Vec<Invitation>> {
        let cursor = op(self
            .invitations
            .find(doc! { "team_id": team_id })
            .sort(doc! { "created_at": -1, "_id": -1 }))
        .await?;
        collect(cursor, "invitations", invitation_from).await
    }

    async fn pending_invitations_for_email(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>> {
        let cursor = op(self
            .invitations
            .find(doc! {
                "email": normalize_email(email),
                "accepted_at": Bson::Null,
                "revoked_at": Bson::Null,
                "expires_at": { "$gt": bdate(truncate_to_millis(now)) },
            })
            .sort(doc! { "created_at": -1, "_id": -1 }))
        .await?;
        collect(cursor, "invitations", invitation_from).await
    }

    async fn accept_invitation(
        &self,
        id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Membership> {
        let now = truncate_to_millis(now);
        let invitation = self
            .invitation_by_id(id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let user = self
            .user_by_id(user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        refuse_unacceptable(&invitation, &user.email, now)?;
        if self
            .membership(&invitation.team_id, user_id)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(conflict::ALREADY_MEMBER.into()));
        }
        // Compare-and-set on one document: of concurrent acceptances exactly one consumes it.
        let consumed = op(self.invitations.update_one(
            doc! {
                "_id": id,
                "accepted_at": Bson::Null,
                "revoked_at": Bson::Null,
                "expires_at": { "$gt": bdate(now) },
            },
            doc! { "$set": { "accepted_at": bdate(now) }, "$unset": { "open_key": "" } },
        ))
        .await?;
        if consumed.matched_count == 0 {
            // Answered since we read it: report its state now.
            let invitation = self
                .invitation_by_id(id)
                .await?
                .ok_or(StoreError::NotFound)?;
            refuse_unacceptable(&invitation, &user.email, now)?;
            return Err(concurrent_update());
        }
        let membership = Membership {
            team_id: invitation.team_id.clone(),
            user_id: user_id.to_owned(),
            role: invitation.role,
            created_at: now_millis(),
        };
        if let Err(e) = op(self.memberships.insert_one(membership_doc(&membership))).await {
            // Give the invitation back so it can be accepted later (best effort).
            let key = open_key(&invitation.team_id, &invitation.email);
            if let Err(undo) = op(self.invitations.update_one(
                doc! { "_id": id, "accepted_at": bdate(now) },
                doc! { "$set": { "accepted_at": Bson::Null, "open_key": key } },
            ))
            .await
            {
                tracing::warn!(error = %undo, "could not reopen an invitation whose membership insert failed");
            }
            return Err(e);
        }
        Ok(membership)
    }

    async fn revoke_invitation(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let r = op(self.invitations.update_one(
            doc! { "_id": id, "accepted_at": Bson::Null, "revoked_at": Bson::Null },
            doc! {
                "$set": { "revoked_at": bdate(truncate_to_millis(now)) },
                "$unset": { "open_key": "" },
            },
        ))
        .await?;
        Ok(r.matched_count > 0)
    }
}

#[async_trait]
impl ApiKeyRepo for MongoStore {
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey> {
        if !Self::exists(&self.users, &new.user_id).await?
            || !Self::exists(&self.teams, &new.team_id).await?
        {
            return Err(StoreError::NotFound);
        }
        let key = new.into_record();
        // The unique index on key_hash decides: E11000 -> Conflict.
        op(self.api_keys.insert_one(doc! {
            "_id": &key.id,
            "user_id": &key.user_id,
            "team_id": &key.team_id,
            "name": &key.name,
            "prefix": &key.prefix,
            "key_hash": &key.key_hash,
            "scopes": key.scopes.clone(),
            "created_at": bdate(key.created_at),
            "expires_at": opt_date(key.expires_at),
            "last_used_at": Bson::Null,
            "revoked_at": Bson::Null,
        }))
        .await?;
        Ok(key)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        op(self.api_keys.find_one(doc! { "key_hash": hash }))
            .await?
            .as_ref()
            .map(api_key_from)
            .transpose()
    }

    async fn list_api_keys_for_user(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        let cursor = op(self
            .api_keys
            .find(doc! { "user_id": user_id })
            .sort(doc! { "created_at": -1, "_id": -1 }))
        .await?;
        collect(cursor, "api_keys", api_key_from).await
    }

    async fn revoke_api_key(&self, id: &str, user_id: &str, now: DateTime<Utc>) -> Result<bool> {
        let r = op(self.api_keys.update_one(
            doc! { "_id": id, "user_id": user_id, "revoked_at": Bson::Null },
            doc! { "$set": { "revoked_at": bdate(truncate_to_millis(now)) } },
        ))
        .await?;
        Ok(r.matched_count > 0)
    }

    async fn touch_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<()> {
        let now = bdate(truncate_to_millis(now));
        // No write at all when a later (or the same) use is already recorded.
        op(self.api_keys.update_one(
            doc! {
                "_id": id,
                "$or": [{ "last_used_at": Bson::Null }, { "last_used_at": { "$lt": now } }],
            },
            doc! { "$set": { "last_used_at": now } },
        ))
        .await
        .map(|_| ())
    }

    async fn revoke_api_keys_for_user_in_team(
        &self,
        user_id: &str,
        team_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let r = op(self.api_keys.update_many(
            doc! { "user_id": user_id, "team_id": team_id, "revoked_at": Bson::Null },
            doc! { "$set": { "revoked_at": bdate(truncate_to_millis(now)) } },
        ))
        .await?;
        Ok(r.modified_count)
    }
}

// ---------------------------------------------------------------------------------------
// The model catalog.
// ---------------------------------------------------------------------------------------

/// Models per existence check and per `update` command (also capped by size below).
const CATALOG_BATCH: usize = 500;
/// Encoded size of the statements of one `update` command: well under the 16 MiB limit.
const CATALOG_COMMAND_BYTES: usize = 8 * 1024 * 1024;

/// Escapes every ASCII character that is not alphanumeric, so the text is matched
/// literally by a PCRE-style regex (a backslash before such a character is always literal).
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn opt_i64(v: Option<i64>) -> Bson {
    v.map_or(Bson::Null, Bson::Int64)
}

/// A model as stored: its fields, plus `_id` (the lowercased id), `author_key`,
/// `language_set` (distinct languages), `gated_flag`, `search_tokens` and `fingerprint`.
/// `card_data` is kept as JSON text: its keys may hold `.` or `$`.
fn catalog_doc(p: &Prepared) -> Result<Document> {
    let m = &p.model;
    let card_data = match &m.card_data {
        None => Bson::Null,
        Some(value) => Bson::String(
            serde_json::to_string(value)
                .map_err(|e| StoreError::Internal(format!("card_data to JSON: {e}")))?,
        ),
    };
    let files: Vec<Document> = m
        .files
        .iter()
        .map(|f| doc! { "path": &f.path, "size": opt_i64(f.size) })
        .collect();
    Ok(doc! {
        "_id": &p.key,
        "id": &m.id,
        "author": opt_string(m.author.clone()),
        "author_key": opt_string(p.author_key.clone()),
        "task": opt_string(m.task.clone()),
        "library": opt_string(m.library.clone()),
        "languages": m.languages.clone(),
        "language_set": p.languages.clone(),
        "license": opt_string(m.license.clone()),
        "tags": m.tags.clone(),
        "downloads": m.downloads,
        "downloads_all_time": opt_i64(m.downloads_all_time),
        "likes": m.likes,
        "trending_score": m.trending_score,
        "created_at": opt_date(m.created_at),
        "updated_at": opt_date(m.updated_at),
        "gated": &m.gated,
        "gated_flag": m.is_gated(),
        "private": m.private,
        "sha": opt_string(m.sha.clone()),
        "files": files,
        "card_data": card_data,
        "source": m.source.as_str(),
        "synced_at": bdate(m.synced_at),
        "search_tokens": p.tokens.clone(),
        "fingerprint": &p.fingerprint,
    })
}

const CATALOG: &str = "catalog_models";

fn get_i64(d: &Document, key: &str, collection: &str) -> Result<i64> {
    match d.get(key) {
        Some(Bson::Int64(v)) => Ok(*v),
        Some(Bson::Int32(v)) => Ok(i64::from(*v)),
        other => Err(bad_document(
            collection,
            format!(
                "{key} is not an integer: {:?}",
                other.map(Bson::element_type)
            ),
        )),
    }
}

fn get_opt_i64(d: &Document, key: &str, collection: &str) -> Result<Option<i64>> {
    match d.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(_) => get_i64(d, key, collection).map(Some),
    }
}

fn get_strings(d: &Document, key: &str) -> Result<Vec<String>> {
    d.get_array(key)
        .map_err(|e| bad_document(CATALOG, e))?
        .iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                bad_document(CATALOG, format!("an element of {key} is not a string"))
            })
        })
        .collect()
}

fn catalog_from(d: &Document) -> Result<CatalogModel> {
    let trending_score = match d.get("trending_score") {
        Some(Bson::Double(v)) => *v,
        _ => {
            let v = get_i64(d, "trending_score", CATALOG)?;
            #[allow(clippy::cast_precision_loss)] // only ever written as a double
            let v = v as f64;
            v
        }
    };
    let files = d
        .get_array("files")
        .map_err(|e| bad_document(CATALOG, e))?
        .iter()
        .map(|f| {
            let f = f
                .as_document()
                .ok_or_else(|| bad_document(CATALOG, "a file is not a document"))?;
            Ok(ModelFile {
                path: get_string(f, "path", CATALOG)?,
                size: get_opt_i64(f, "size", CATALOG)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let card_data = get_opt_string(d, "card_data", CATALOG)?
        .map(|json| serde_json::from_str(&json).map_err(|e| bad_document(CATALOG, e)))
        .transpose()?;
    let source = get_string(d, "source", CATALOG)?;
    Ok(CatalogModel {
        id: get_string(d, "id", CATALOG)?,
        author: get_opt_string(d, "author", CATALOG)?,
        task: get_opt_string(d, "task", CATALOG)?,
        library: get_opt_string(d, "library", CATALOG)?,
        languages: get_strings(d, "languages")?,
        license: get_opt_string(d, "license", CATALOG)?,
        tags: get_strings(d, "tags")?,
        downloads: get_i64(d, "downloads", CATALOG)?,
        downloads_all_time: get_opt_i64(d, "downloads_all_time", CATALOG)?,
        likes: get_i64(d, "likes", CATALOG)?,
        trending_score,
        created_at: get_opt_time(d, "created_at", CATALOG)?,
        updated_at: get_opt_time(d, "updated_at", CATALOG)?,
        gated: get_string(d, "gated", CATALOG)?,
        private: d
            .get_bool("private")
            .map_err(|e| bad_document(CATALOG, e))?,
        sha: get_opt_string(d, "sha", CATALOG)?,
        files,
        card_data,
        source: CatalogSource::parse(&source)
            .ok_or_else(|| bad_document(CATALOG, format!("unknown source {source:?}")))?,
        synced_at: get_time(d, "synced_at", CATALOG)?,
    })
}

/// The filter of a search, from typed values only: strings stay strings, and the only
/// regexes are anchored prefixes of escaped, alphanumeric tokens.
fn catalog_filter(s: &Search) -> Document {
    let mut filter = Document::new();
    if !s.tokens.is_empty() {
        let all: Vec<Document> = s
            .tokens
            .iter()
            .map(|t| doc! { "search_tokens": { "$regex": format!("^{}", escape_regex(t)) } })
            .collect();
        filter.insert("$and", all);
    }
    for (field, value) in [
        ("task", &s.task),
        ("library", &s.library),
        ("license", &s.license),
        ("author_key", &s.author_key),
        ("language_set", &s.language),
    ] {
        if let Some(value) = value {
            filter.insert(field, value.as_str());
        }
    }
    if !s.tags.is_empty() {
        filter.insert("tags", doc! { "$all": s.tags.clone() });
    }
    if let Some(gated) = s.gated {
        filter.insert("gated_flag", gated);
    }
    filter
}

/// The sort of a search: the key, then `_id` (the lowercased id) the opposite way.
fn catalog_sort(sort: CatalogSort, descending: bool) -> Document {
    let field = match sort {
        CatalogSort::Downloads => "downloads",
        CatalogSort::Likes => "likes",
        CatalogSort::Trending => "trending_score",
        CatalogSort::Updated => "updated_at",
        CatalogSort::Created => "created_at",
    };
    let direction = if descending { -1 } else { 1 };
    doc! { field: direction, "_id": -direction }
}

fn existing_fingerprint(d: &Document) -> Result<(String, String)> {
    Ok((
        get_string(d, "_id", CATALOG)?,
        get_opt_string(d, "fingerprint", CATALOG)?.unwrap_or_default(),
    ))
}

impl MongoStore {
    async fn create_catalog_indexes(&self) -> Result<()> {
        let index = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).build())
                .build()
        };
        let indexes = [
            index(doc! { "search_tokens": 1 }, "catalog_search_tokens"),
            index(doc! { "task": 1 }, "catalog_task"),
            index(doc! { "library": 1 }, "catalog_library"),
            index(doc! { "license": 1 }, "catalog_license"),
            index(doc! { "language_set": 1 }, "catalog_language_set"),
            index(doc! { "author_key": 1 }, "catalog_author_key"),
            index(doc! { "tags": 1 }, "catalog_tags"),
            index(doc! { "downloads": -1, "_id": 1 }, "catalog_downloads"),
            index(doc! { "likes": -1, "_id": 1 }, "catalog_likes"),
            index(doc! { "trending_score": -1, "_id": 1 }, "catalog_trending"),
            index(doc! { "updated_at": -1, "_id": 1 }, "catalog_updated_at"),
            index(doc! { "created_at": -1, "_id": 1 }, "catalog_created_at"),
        ];
        op(self.catalog.create_indexes(indexes)).await?;
        Ok(())
    }

    /// Sends upsert statements as `update` commands of bounded size (unordered: one failed
    /// statement does not stop the others).
    async fn write_catalog(&self, statements: Vec<Document>) -> Result<()> {
        let mut pending: Vec<Document> = Vec::new();
        let mut bytes = 0;
        for statement in statements {
            let size = statement
                .to_vec()
                .map_err(|e| StoreError::Internal(format!("mongodb: encode model: {e}")))?
                .len();
            if !pending.is_empty() && bytes + size > CATALOG_COMMAND_BYTES {
                self.send_catalog_updates(std::mem::take(&mut pending))
                    .await?;
                bytes = 0;
            }
            bytes += size;
            pending.push(statement);
        }
        if !pending.is_empty() {
            self.send_catalog_updates(pending).await?;
        }
        Ok(())
    }

    async fn send_catalog_updates(&self, statements: Vec<Document>) -> Result<()> {
        let reply = op(self.db.run_command(doc! {
            "update": CATALOG,
            "updates": statements,
            "ordered": false,
        }))
        .await?;
        if let Ok(errors) = reply.get_array("writeErrors")
            && let Some(first) = errors.first().and_then(Bson::as_document)
        {
            let code = first.get_i32("code").unwrap_or_default();
            return Err(StoreError::Internal(format!(
                "mongodb: {} of the catalog writes failed (first: code {code})",
                errors.len()
            )));
        }
        if reply.get_document("writeConcernError").is_ok() {
            return Err(StoreError::Unavailable(
                "mongodb: write concern failed for catalog writes".into(),
            ));
        }
        Ok(())
    }

    /// Writes the new and changed models of one chunk, counting them in `counts` before
    /// they are sent (so the caller knows whether anything may have changed).
    async fn upsert_catalog_chunk(
        &self,
        chunk: &[Prepared],
        counts: &mut UpsertCounts,
    ) -> Result<()> {
        let keys: Vec<&str> = chunk.iter().map(|p| p.key.as_str()).collect();
        let cursor = op(self
            .catalog
            .find(doc! { "_id": { "$in": keys } })
            .projection(doc! { "fingerprint": 1 }))
        .await?;
        let existing: HashMap<String, String> = collect(cursor, CATALOG, existing_fingerprint)
            .await?
            .into_iter()
            .collect();
        let mut statements = Vec::new();
        let mut changes = UpsertCounts::default();
        for p in chunk {
            match existing.get(&p.key) {
                Some(fingerprint) if *fingerprint == p.fingerprint => continue,
                Some(_) => changes.updated += 1,
                None => changes.inserted += 1,
            }
            statements.push(doc! {
                "q": { "_id": &p.key },
                "u": catalog_doc(p)?,
                "upsert": true,
            });
        }
        counts.inserted += changes.inserted;
        counts.updated += changes.updated;
        self.write_catalog(statements).await
    }

    async fn bump_catalog_revision(&self) -> Result<()> {
        op(self
            .catalog_meta
            .update_one(
                doc! { "_id": "revision" },
                doc! { "$inc": { "value": 1_i64 } },
            )
            .upsert(true))
        .await
        .map(|_| ())
    }

    /// Counts by one field's values over the documents `filter` matches (`unwind`: the
    /// field is an array, each element counts).
    async fn catalog_facet(
        &self,
        filter: &Document,
        field: &str,
        unwind: bool,
    ) -> Result<Vec<FacetCount>> {
        let mut pipeline = vec![doc! { "$match": filter.clone() }];
        if unwind {
            pipeline.push(doc! { "$unwind": format!("${field}") });
        }
        pipeline.push(doc! { "$group": { "_id": format!("${field}"), "count": { "$sum": 1 } } });
        let cursor = op(self.catalog.aggregate(pipeline)).await?;
        let groups = collect(cursor, CATALOG, |d| {
            Ok(match d.get("_id") {
                Some(Bson::String(value)) => Some((
                    value.clone(),
                    u64::try_from(get_i64(d, "count", CATALOG)?).unwrap_or(0),
                )),
                // Models without a value.
                _ => None,
            })
        })
        .await?;
        Ok(top_values(groups.into_iter().flatten()))
    }
}

#[async_trait]
impl CatalogRepo for MongoStore {
    async fn upsert_models(&self, models: &[CatalogModel]) -> Result<UpsertCounts> {
        let batch = prepare_batch(models)?;
        let mut counts = UpsertCounts::default();
        let mut outcome = Ok(());
        for chunk in batch.chunks(CATALOG_BATCH) {
            if let Err(e) = self.upsert_catalog_chunk(chunk, &mut counts).await {
                outcome = Err(e);
                break;
            }
        }
        // After the writes (even failed ones, which may have landed in part): a reader who
        // sees the new revision sees the new data.
        if counts.inserted + counts.updated > 0 {
            self.bump_catalog_revision().await?;
        }
        outcome.map(|()| counts)
    }

    async fn catalog_model(&self, id: &str) -> Result<Option<CatalogModel>> {
        op(self.catalog.find_one(doc! { "_id": catalog::key(id) }))
            .await?
            .as_ref()
            .map(catalog_from)
            .transpose()
    }

    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage> {
        let s = Search::new(query);
        let filter = catalog_filter(&s);
        let items = async {
            // A MongoDB limit of 0 means "no limit".
            if s.limit == 0 {
                return Ok(Vec::new());
            }
            let cursor = op(self
                .catalog
                .find(filter.clone())
                .sort(catalog_sort(s.sort, s.descending))
                .skip(u64::from(s.offset))
                .limit(i64::from(s.limit))
                .projection(doc! { "search_tokens": 0, "fingerprint": 0 }))
            .await?;
            collect(cursor, CATALOG, catalog_from).await
        };
        let (total, items, tasks, libraries, licenses, languages) = tokio::try_join!(
            op(self.catalog.count_documents(filter.clone())),
            items,
            self.catalog_facet(&filter, "task", false),
            self.catalog_facet(&filter, "library", false),
            self.catalog_facet(&filter, "license", false),
            self.catalog_facet(&filter, "language_set", true),
        )?;
        Ok(CatalogPage {
            items,
            total,
            facets: Facets {
                tasks,
                libraries,
                licenses,
                languages,
            },
        })
    }

    async fn catalog_count(&self) -> Result<u64> {
        op(self.catalog.count_documents(doc! {})).await
    }

    async fn delete_catalog_model(&self, id: &str) -> Result<bool> {
        let deleted = op(self.catalog.delete_one(doc! { "_id": catalog::key(id) })).await?;
        if deleted.deleted_count == 0 {
            return Ok(false);
        }
        self.bump_catalog_revision().await?;
        Ok(true)
    }

    async fn catalog_revision(&self) -> Result<u64> {
        let meta = op(self.catalog_meta.find_one(doc! { "_id": "revision" })).await?;
        match meta {
            None => Ok(0),
            Some(d) => Ok(u64::try_from(get_i64(&d, "value", "catalog_meta")?).unwrap_or(0)),
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
