//! Persistence for hfb behind repository traits.
//!
//! The backend holds an `Arc<dyn Store>` and never sees which database is behind it:
//! [`SqliteStore`] is the embedded default (a file under `./data`), [`MongoStore`] is used
//! when `MONGODB_URI` is configured. Both pass the same [`conformance`] suite
//! (feature `conformance`).
//!
//! Conventions shared by both adapters:
//! - ids are UUID v7 strings (time-ordered);
//! - timestamps are kept with millisecond precision: every `DateTime<Utc>` handed in is
//!   truncated to whole milliseconds, and values returned equal what a later read returns;
//! - e-mail addresses are normalized with [`normalize_email`] (trimmed, lowercase) on every
//!   write and lookup, and are unique by a database index (not by read-then-write);
//! - errors are [`StoreError`]; `Unavailable` means "database unreachable, try later" (503).

mod error;
mod mongo;
mod sqlite;

#[cfg(feature = "conformance")]
pub mod conformance;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

/// Result alias used by every repository method.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    /// Normalized: trimmed and lowercase.
    pub email: String,
    pub display_name: String,
    /// An encoded password hash (e.g. PHC string); the store never inspects it.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Input of [`UserRepo::create_user`]; the e-mail is normalized by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
}

/// Partial update of a user: `None` leaves a field unchanged. `updated_at` is always bumped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
}

/// A login session: one family of rotating refresh tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set at creation and on every successful rotation.
    pub last_used_at: DateTime<Utc>,
    /// Extended on every successful rotation to the new token's expiry.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

impl Session {
    /// True when the session is neither revoked nor expired at `now`.
    #[must_use]
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Input of [`SessionRepo::create_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub user_id: String,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// Expiry of the session and of its first refresh token.
    pub expires_at: DateTime<Utc>,
}

/// One refresh token of a session; only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub hash: String,
    pub session_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Set once, when the token is exchanged for its successor.
    pub used_at: Option<DateTime<Utc>>,
}

impl RefreshToken {
    /// True when the token is unused and not expired at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.used_at.is_none() && self.expires_at > now
    }
}

/// Result of [`SessionRepo::rotate_refresh_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token is now used and the new one is stored.
    Rotated,
    /// The old token had already been used: a replay. The caller should revoke the session.
    AlreadyUsed,
    /// The session is revoked; nothing was changed.
    SessionRevoked,
    /// No such session, or no such token in that session.
    NotFound,
}

/// Accounts.
#[async_trait]
pub trait UserRepo: Send + Sync {
    /// Creates a user; `Conflict` when the normalized e-mail is taken.
    async fn create_user(&self, new: NewUser) -> Result<User>;
    async fn user_by_id(&self, id: &str) -> Result<Option<User>>;
    /// Looks up by e-mail; the argument is normalized first.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Applies the `Some` fields; `NotFound` for an unknown id, `Conflict` for a taken e-mail.
    async fn update_user(&self, id: &str, update: UserUpdate) -> Result<User>;
    /// Deletes the user with their sessions and refresh tokens; false when there was no such user.
    async fn delete_user(&self, id: &str) -> Result<bool>;
}

/// Login sessions and their rotating refresh tokens.
#[async_trait]
pub trait SessionRepo: Send + Sync {
    /// Stores a session and its first refresh token (issued now, expiring with the session).
    /// `NotFound` when the user does not exist; `Conflict` when the hash already exists.
    async fn create_session(&self, new: NewSession, first_refresh_hash: &str) -> Result<Session>;
    async fn session_by_id(&self, id: &str) -> Result<Option<Session>>;
    async fn refresh_token(&self, hash: &str) -> Result<Option<RefreshToken>>;
    /// Atomically marks `old_hash` used (only if it is unused and belongs to `session_id`),
    /// stores `new_hash` expiring at `new_expires_at`, and sets the session's `last_used_at`
    /// to `now` and `expires_at` to `new_expires_at`. Of concurrent rotations of one token,
    /// exactly one gets `Rotated`. Expiry is not judged here: the caller checks
    /// [`RefreshToken::is_usable`] / [`Session::is_active`] first.
    async fn rotate_refresh_token(
        &self,
        session_id: &str,
        old_hash: &str,
        new_hash: &str,
        now: DateTime<Utc>,
        new_expires_at: DateTime<Utc>,
    ) -> Result<RotateOutcome>;
    /// All sessions of a user, revoked ones included, newest first.
    async fn list_sessions_for_user(&self, user_id: &str) -> Result<Vec<Session>>;
    /// Revokes one session; true only if this call revoked it (false: unknown or already revoked).
    async fn revoke_session(&self, id: &str, reason: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Revokes the user's not-yet-revoked sessions except `except`; returns how many.
    async fn revoke_sessions_for_user(
        &self,
        user_id: &str,
        except: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64>;
}

/// Everything the backend needs from its database.
#[async_trait]
pub trait Store: UserRepo + SessionRepo {
    /// "sqlite" or "mongodb".
    fn backend(&self) -> &'static str;
    /// A cheap round trip for readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Trims and lowercases an e-mail address; both adapters store and compare this form.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Truncates to whole milliseconds, the precision both adapters store.
#[must_use]
pub fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// A new time-ordered id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// `Utc::now()` at storage precision.
pub(crate) fn now_millis() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}
