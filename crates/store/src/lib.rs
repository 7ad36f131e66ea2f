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
//! - errors are [`StoreError`]; `Unavailable` means "database unreachable, try later" (503);
//!   `Conflict` carries one of the [`conflict`] messages;
//! - names, slugs, scopes and other free text are stored and compared exactly as given:
//!   validating or lowercasing them (slugs especially) is the caller's job.
//!
//! The model catalog ([`CatalogRepo`]) is the exception to the UUID rule: its records are
//! keyed by the Hub id (`owner/name`), matched case-insensitively. Its search semantics
//! ([`CatalogQuery`], [`Facets`]) are computed the same way on both adapters: tokens and
//! orderings are derived in shared code, and the conformance suite compares them.
//! On SQLite, searches use an FTS5 index, side tables for tags and languages and one index
//! per filter and sort key; the facet counts of the unfiltered catalog are maintained in
//! the writing transaction (`cargo run --release --example catalog_bench -p hfb-store`
//! measures it at 100,000 models). On MongoDB, text goes through a `search_tokens` array
//! with anchored prefix regexes (text indexes are not portable) and facets through
//! `$match` + `$group` aggregations.

mod catalog;
mod deployments;
mod error;
mod mongo;
mod sqlite;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use deployments::{
    Created, Deployment, DeploymentEvent, DeploymentRepo, DeploymentVersion, DesiredState,
    NewDeployment, NewDeploymentEvent, Observation,
};
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
    /// Deletes the user with their sessions, refresh tokens, memberships and API keys, and
    /// their personal team with everything in it; false when there was no such user.
    /// Invitations they sent stay (their `invited_by` then names no user), and so do shared
    /// teams they created; a shared team whose only owner they were is left without owner,
    /// so the caller checks [`TeamRepo::teams_for_user`] first.
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

/// The `Conflict` messages of the team, invitation and API-key methods, for callers that
/// need to tell them apart (they are also fit to show to users).
pub mod conflict {
    /// [`TeamRepo::create_team`](crate::TeamRepo::create_team): the slug is in use.
    pub const TEAM_SLUG_TAKEN: &str = "team slug already taken";
    /// [`TeamRepo::create_team`](crate::TeamRepo::create_team) with `personal`: the creator
    /// already has one.
    pub const PERSONAL_TEAM_EXISTS: &str = "user already has a personal team";
    /// Adding, inviting or accepting for someone who is already in the team.
    pub const ALREADY_MEMBER: &str = "already a member";
    /// Demoting or removing the team's only owner.
    pub const LAST_OWNER: &str = "a team must keep at least one owner";
    /// [`InvitationRepo::create_invitation`](crate::InvitationRepo::create_invitation): a
    /// pending invitation for the same team and e-mail exists.
    pub const INVITATION_PENDING: &str = "a pending invitation already exists for this email";
    /// Accepting an invitation that was accepted before.
    pub const INVITATION_ACCEPTED: &str = "invitation was already accepted";
    /// Accepting an invitation that was revoked.
    pub const INVITATION_REVOKED: &str = "invitation was revoked";
    /// Accepting an invitation after its `expires_at`.
    pub const INVITATION_EXPIRED: &str = "invitation has expired";
    /// Accepting an invitation addressed to another e-mail than the accepting user's.
    pub const INVITATION_EMAIL_MISMATCH: &str = "invitation is for a different email address";
    /// [`ApiKeyRepo::create_api_key`](crate::ApiKeyRepo::create_api_key): the hash exists.
    pub const API_KEY_EXISTS: &str = "api key already exists";
    /// A compare-and-set lost to concurrent writers several times in a row (MongoDB only).
    pub const CONCURRENT_UPDATE: &str = "the record changed concurrently, try again";
    /// [`DeploymentRepo::create_deployment`](crate::DeploymentRepo::create_deployment): the
    /// team has a deployment of that name.
    pub const DEPLOYMENT_NAME_TAKEN: &str =
        "a deployment with this name already exists in the team";
    /// [`DeploymentRepo::add_deployment_version`](crate::DeploymentRepo::add_deployment_version):
    /// someone else changed the deployment first.
    pub const DEPLOYMENT_VERSION_MOVED: &str =
        "the deployment changed since you loaded it; reload and try again";
}

/// A member's role in a team, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeamRole {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl TeamRole {
    /// Every role, most powerful first.
    pub const ALL: [Self; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];

    /// The stored and serialized form: "owner", "admin", "member" or "viewer".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// Parses the form of [`TeamRole::as_str`] (exactly; no trimming or case folding).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Power for comparisons: owner 3 > admin 2 > member 1 > viewer 0.
    #[must_use]
    pub const fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Member => 1,
            Self::Viewer => 0,
        }
    }

    /// True when this role is `other` or more powerful.
    #[must_use]
    pub const fn at_least(self, other: Self) -> bool {
        self.rank() >= other.rank()
    }
}

impl fmt::Display for TeamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`TeamRole`]: the rejected input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown team role {0:?} (expected owner, admin, member or viewer)")]
pub struct UnknownTeamRole(pub String);

impl FromStr for TeamRole {
    type Err = UnknownTeamRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownTeamRole(s.to_owned()))
    }
}

/// A team: the unit that owns models, deployments and API keys. Every user has one
/// personal team (`personal`), created for them; shared teams are created explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: String,
    pub name: String,
    /// Unique across teams, compared exactly (the caller validates and lowercases).
    pub slug: String,
    pub personal: bool,
    /// The creating user's id. Not a reference: a shared team outlives its creator, so this
    /// may name a deleted user.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Input of [`TeamRepo::create_team`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTeam {
    pub name: String,
    pub slug: String,
    pub personal: bool,
    /// Becomes the first owner; must be an existing user.
    pub created_by: String,
}

/// A user's role in a team; one per (team, user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub team_id: String,
    pub user_id: String,
    pub role: TeamRole,
    pub created_at: DateTime<Utc>,
}

/// An invitation of an e-mail address into a team with a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: String,
    pub team_id: String,
    /// Normalized with [`normalize_email`].
    pub email: String,
    pub role: TeamRole,
    /// The inviting user's id. Not a reference: it stays when that user is deleted.
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Invitation {
    /// True when the invitation can still be accepted at `now`: neither accepted, revoked
    /// nor expired.
    #[must_use]
    pub fn is_pending(&self, now: DateTime<Utc>) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

/// Input of [`InvitationRepo::create_invitation`]; the e-mail is normalized by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvitation {
    pub team_id: String,
    pub email: String,
    pub role: TeamRole,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

/// A programmatic credential of one user, acting within one team. Only a hash of the
/// secret is stored; `prefix` is the public start of the key, shown in listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub team_id: String,
    pub name: String,
    /// The public, displayable start of the key, e.g. "hfb_ab12cd34".
    pub prefix: String,
    /// Unique across keys; the lookup key of [`ApiKeyRepo::api_key_by_hash`].
    pub key_hash: String,
    /// Kept in the given order, duplicates included; the store never interprets them.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// True when the key is neither revoked nor expired at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| t > now)
    }
}

/// Input of [`ApiKeyRepo::create_api_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub user_id: String,
    pub team_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Teams and their members.
///
/// The store keeps one rule itself: a team always has at least one owner
/// ([`conflict::LAST_OWNER`]). Who may do what (roles of the caller) is the caller's job.
#[async_trait]
pub trait TeamRepo: Send + Sync {
    /// Creates a team and makes `created_by` its owner (membership created at the team's
    /// `created_at`). `NotFound` when the creator does not exist; `Conflict` with
    /// [`conflict::TEAM_SLUG_TAKEN`], or [`conflict::PERSONAL_TEAM_EXISTS`] for a second
    /// personal team of one user.
    async fn create_team(&self, new: NewTeam) -> Result<Team>;
    async fn team_by_id(&self, id: &str) -> Result<Option<Team>>;
    /// Looks up by the exact slug.
    async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>>;
    /// The user's teams with their role in each: personal team first, then by name
    /// (case-insensitively; ties by exact name, then id).
    async fn teams_for_user(&self, user_id: &str) -> Result<Vec<(Team, TeamRole)>>;
    async fn membership(&self, team_id: &str, user_id: &str) -> Result<Option<Membership>>;
    /// Members in joining order (`created_at`, ties by user id); empty for an unknown team.
    async fn list_members(&self, team_id: &str) -> Result<Vec<Membership>>;
    /// `NotFound` for an unknown team or user; `Conflict` ([`conflict::ALREADY_MEMBER`])
    /// when the user is in the team already.
    async fn add_member(&self, team_id: &str, user_id: &str, role: TeamRole) -> Result<Membership>;
    /// Changes a member's role. `NotFound` when the user is not a member; `Conflict`
    /// ([`conflict::LAST_OWNER`]) when it would demote the only owner.
    async fn set_member_role(
        &self,
        team_id: &str,
        user_id: &str,
        role: TeamRole,
    ) -> Result<Membership>;
    /// Removes a member; false when the user was not a member; `Conflict`
    /// ([`conflict::LAST_OWNER`]) for the only owner. Leaves the user's API keys for the team
    /// alone: call [`ApiKeyRepo::revoke_api_keys_for_user_in_team`] too.
    async fn remove_member(&self, team_id: &str, user_id: &str) -> Result<bool>;
    /// Deletes the team with its memberships, invitations and API keys; false when there was
    /// no such team.
    async fn delete_team(&self, team_id: &str) -> Result<bool>;
}

/// Invitations of e-mail addresses into teams.
#[async_trait]
pub trait InvitationRepo: Send + Sync {
    /// Stores a pending invitation (e-mail normalized, created now). `NotFound` for an
    /// unknown team; `Conflict` with [`conflict::INVITATION_PENDING`] when one is pending for
    /// the same team and e-mail, or [`conflict::ALREADY_MEMBER`] when a user with that e-mail
    /// is in the team. `invited_by` is not checked.
    async fn create_invitation(&self, new: NewInvitation) -> Result<Invitation>;
    async fn invitation_by_id(&self, id: &str) -> Result<Option<Invitation>>;
    /// All invitations of a team, in every state, newest first.
    async fn invitations_for_team(&self, team_id: &str) -> Result<Vec<Invitation>>;
    /// Invitations to `email` (normalized first) pending at `now`, newest first.
    async fn pending_invitations_for_email(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Invitation>>;
    /// Accepts an invitation for `user_id`, atomically and at most once: marks it accepted at
    /// `now` and adds the user to the team with the invitation's role (membership created at
    /// the current time). `NotFound` for an unknown invitation or user; `Conflict` with
    /// [`conflict::INVITATION_ACCEPTED`], [`conflict::INVITATION_REVOKED`],
    /// [`conflict::INVITATION_EXPIRED`] (judged at `now`),
    /// [`conflict::INVITATION_EMAIL_MISMATCH`] (the user's e-mail is not the invited one) or
    /// [`conflict::ALREADY_MEMBER`]; nothing changes on error.
    async fn accept_invitation(
        &self,
        id: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Membership>;
    /// Revokes a not-yet-accepted, not-yet-revoked invitation (expired ones included); true
    /// only if this call revoked it.
    async fn revoke_invitation(&self, id: &str, now: DateTime<Utc>) -> Result<bool>;
}

/// API keys.
#[async_trait]
pub trait ApiKeyRepo: Send + Sync {
    /// Stores a key (created now). `NotFound` for an unknown user or team; `Conflict`
    /// ([`conflict::API_KEY_EXISTS`]) when the hash exists. Membership of the user in the
    /// team and the scopes are the caller's to check.
    async fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey>;
    /// Looks up by the exact hash, revoked and expired keys included (see [`ApiKey::is_usable`]).
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    /// All keys of a user, revoked and expired included, newest first.
    async fn list_api_keys_for_user(&self, user_id: &str) -> Result<Vec<ApiKey>>;
    /// Revokes a key of `user_id`; true only if this call revoked it (false: unknown, another
    /// user's, or already revoked).
    async fn revoke_api_key(&self, id: &str, user_id: &str, now: DateTime<Utc>) -> Result<bool>;
    /// Records a use at `now`: one conditional write that never moves `last_used_at`
    /// backwards. An unknown id is not an error.
    async fn touch_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<()>;
    /// Revokes the user's not-yet-revoked keys for one team (when they leave it); returns how
    /// many.
    async fn revoke_api_keys_for_user_in_team(
        &self,
        user_id: &str,
        team_id: &str,
        now: DateTime<Utc>,
    ) -> Result<u64>;
}

/// Where a catalog entry came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogSource {
    /// Copied from a Hugging Face Hub listing by the sync job.
    Synced,
    /// Added by hand from a Hub id or an export.
    Imported,
    /// A model that exists only on this platform.
    Local,
}

impl CatalogSource {
    /// Every source.
    pub const ALL: [Self; 3] = [Self::Synced, Self::Imported, Self::Local];

    /// The stored and serialized form: "synced", "imported" or "local".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Synced => "synced",
            Self::Imported => "imported",
            Self::Local => "local",
        }
    }

    /// Parses the form of [`CatalogSource::as_str`] (exactly).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for CatalogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of a model repository (the Hub's `siblings[]`: `rfilename`, `size`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFile {
    pub path: String,
    pub size: Option<i64>,
}

/// One model of the catalog: the Hub's model entry, flattened.
///
/// Stored as given, except that the store normalizes what it cannot keep exactly (so a
/// read returns what a later read returns): timestamps are truncated to milliseconds, a
/// non-finite or negative-zero `trending_score` becomes 0, and `card_data: Some(Null)`
/// becomes `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogModel {
    /// `owner/name`, or `name` for legacy canonical models. Unique case-insensitively: an
    /// upsert of `Org/Model` replaces `org/model` (and keeps the new spelling).
    pub id: String,
    pub author: Option<String>,
    /// The Hub's `pipeline_tag`.
    pub task: Option<String>,
    /// The Hub's `library_name`.
    pub library: Option<String>,
    pub languages: Vec<String>,
    pub license: Option<String>,
    pub tags: Vec<String>,
    /// Last 30 days.
    pub downloads: i64,
    pub downloads_all_time: Option<i64>,
    pub likes: i64,
    pub trending_score: f64,
    pub created_at: Option<DateTime<Utc>>,
    /// The Hub's `lastModified`.
    pub updated_at: Option<DateTime<Utc>>,
    /// `"false"`, `"auto"` or `"manual"`; see [`CatalogModel::is_gated`].
    pub gated: String,
    pub private: bool,
    pub sha: Option<String>,
    pub files: Vec<ModelFile>,
    /// The card's YAML front matter as JSON.
    pub card_data: Option<serde_json::Value>,
    pub source: CatalogSource,
    pub synced_at: DateTime<Utc>,
}

impl CatalogModel {
    /// True unless `gated` is `"false"` (any case) or empty: what [`CatalogQuery::gated`]
    /// filters on.
    #[must_use]
    pub fn is_gated(&self) -> bool {
        !(self.gated.is_empty() || self.gated.eq_ignore_ascii_case("false"))
    }
}

/// The sort keys of [`CatalogQuery`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CatalogSort {
    #[default]
    Downloads,
    Likes,
    /// `trending_score`.
    Trending,
    /// `updated_at` (the Hub's `lastModified`).
    Updated,
    /// `created_at`.
    Created,
}

impl CatalogSort {
    /// Every sort key.
    pub const ALL: [Self; 5] = [
        Self::Downloads,
        Self::Likes,
        Self::Trending,
        Self::Updated,
        Self::Created,
    ];

    /// The Hub's name of the key (`sort=` of `GET /api/models`): "downloads", "likes",
    /// "trendingScore", "lastModified" or "createdAt".
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::Likes => "likes",
            Self::Trending => "trendingScore",
            Self::Updated => "lastModified",
            Self::Created => "createdAt",
        }
    }

    /// Parses the form of [`CatalogSort::as_str`] (exactly).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A catalog search: free text, filters, a sort and a page.
///
/// - `text`: case-insensitive. It is split into tokens on every non-alphanumeric
///   character (so `.*$()"'^` and the like are separators, never syntax), and every token
///   must match, exactly or as a prefix, a token of the model's id, author or tags (split
///   the same way: `mini` finds `all-MiniLM-L6-v2`, `sentence-trans` finds
///   `sentence-transformers/...`). No tokens (`None`, empty, only punctuation): no text
///   condition. Tokens past the first [`CatalogQuery::MAX_TEXT_TOKENS`] distinct ones are
///   ignored, and tokens (of queries and models alike) are compared on their first 100
///   characters.
/// - `task`, `library`, `language`, `license`, `tags`: exact, case-sensitive matches (a
///   model matches `language` when it is one of its `languages`; it must have every one of
///   `tags`). `author`: matches `author` case-insensitively. `None`/empty: no condition.
/// - `gated`: `Some(false)` only models that are not gated, `Some(true)` only gated ones
///   ([`CatalogModel::is_gated`]).
/// - order: by `sort`; ties by id (compared lowercase, byte order), ascending when
///   `descending`. An ascending list is exactly the reverse of the descending one: a
///   missing `created_at`/`updated_at` comes last in descending order, first in ascending.
/// - page: `offset` then at most `limit` items (capped at [`CatalogQuery::MAX_LIMIT`]).
///
/// Private models are returned like any other: visibility is the caller's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogQuery {
    pub text: Option<String>,
    pub task: Option<String>,
    pub library: Option<String>,
    pub language: Option<String>,
    pub license: Option<String>,
    pub author: Option<String>,
    /// All must match.
    pub tags: Vec<String>,
    pub gated: Option<bool>,
    pub sort: CatalogSort,
    pub descending: bool,
    pub limit: u32,
    pub offset: u32,
}

impl CatalogQuery {
    /// The largest page [`CatalogRepo::search_catalog`] returns (the Hub's own maximum).
    pub const MAX_LIMIT: u32 = 1000;
    /// How many distinct text tokens are honoured.
    pub const MAX_TEXT_TOKENS: usize = 32;
}

impl Default for CatalogQuery {
    /// Everything, most downloaded first, 20 per page.
    fn default() -> Self {
        Self {
            text: None,
            task: None,
            library: None,
            language: None,
            license: None,
            author: None,
            tags: Vec::new(),
            gated: None,
            sort: CatalogSort::Downloads,
            descending: true,
            limit: 20,
            offset: 0,
        }
    }
}

/// How many models of the matched set have one value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Counts by value over the models a query matches: the text and every filter apply, the
/// page does not. This is the simple, predictable semantic: a facet does not ignore its own
/// filter (with `task` set, `tasks` holds that one value with the total), and counts always
/// describe the result set shown. Each list is sorted by count descending, then value (byte
/// order), holds at most [`Facets::MAX_VALUES`] entries and leaves out models without a
/// value (`task: None`...). A model counts once per distinct language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub tasks: Vec<FacetCount>,
    pub libraries: Vec<FacetCount>,
    pub licenses: Vec<FacetCount>,
    pub languages: Vec<FacetCount>,
}

impl Facets {
    /// The length limit of each list.
    pub const MAX_VALUES: usize = 50;
}

/// One page of a catalog search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogPage {
    pub items: Vec<CatalogModel>,
    /// How many models match, whatever the page.
    pub total: u64,
    pub facets: Facets,
}

/// What [`CatalogRepo::upsert_models`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct UpsertCounts {
    /// Models whose id (case-insensitively) was new.
    pub inserted: u64,
    /// Existing models that differed from the given version and were replaced.
    pub updated: u64,
}

/// The model catalog: the synced copy of the Hub's listing plus imported and local models.
#[async_trait]
pub trait CatalogRepo: Send + Sync {
    /// Inserts or replaces models by id (case-insensitively). One transaction on SQLite;
    /// bulk writes on MongoDB (each model is replaced atomically, the batch is not).
    /// Idempotent: a model identical to the stored one is counted in neither field and
    /// not written. When one id appears more than once, the last one wins and it counts
    /// once. Increases [`CatalogRepo::catalog_revision`] when anything changed.
    async fn upsert_models(&self, models: &[CatalogModel]) -> Result<UpsertCounts>;
    /// One model by id, case-insensitively.
    async fn catalog_model(&self, id: &str) -> Result<Option<CatalogModel>>;
    /// Searches; see [`CatalogQuery`] for the semantics and [`Facets`] for the counts.
    async fn search_catalog(&self, query: &CatalogQuery) -> Result<CatalogPage>;
    /// How many models the catalog holds.
    async fn catalog_count(&self) -> Result<u64>;
    /// Deletes by id (case-insensitively); false when there was no such model.
    async fn delete_catalog_model(&self, id: &str) -> Result<bool>;
    /// A persisted counter that increases with every change of the catalog (and only
    /// then): a key for caches of search results. On MongoDB it is increased right after
    /// the writes, so a reader that sees the new value also sees the new data.
    async fn catalog_revision(&self) -> Result<u64>;
}

/// Everything the backend needs from its database.
#[async_trait]
pub trait Store:
    UserRepo + SessionRepo + TeamRepo + InvitationRepo + ApiKeyRepo + CatalogRepo + DeploymentRepo
{
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

// The records a create call stores, built one way for both adapters.

impl NewUser {
    pub(crate) fn into_record(self) -> User {
        let now = now_millis();
        User {
            id: new_id(),
            email: normalize_email(&self.email),
            display_name: self.display_name,
            password_hash: self.password_hash,
            created_at: now,
            updated_at: now,
        }
    }
}

impl NewSession {
    pub(crate) fn into_record(self) -> Session {
        let now = now_millis();
        Session {
            id: new_id(),
            user_id: self.user_id,
            user_agent: self.user_agent,
            ip: self.ip,
            created_at: now,
            last_used_at: now,
            expires_at: truncate_to_millis(self.expires_at),
            revoked_at: None,
            revoked_reason: None,
        }
    }
}

impl NewTeam {
    pub(crate) fn into_record(self) -> Team {
        Team {
            id: new_id(),
            name: self.name,
            slug: self.slug,
            personal: self.personal,
            created_by: self.created_by,
            created_at: now_millis(),
        }
    }
}

impl NewInvitation {
    pub(crate) fn into_record(self) -> Invitation {
        Invitation {
            id: new_id(),
            team_id: self.team_id,
            email: normalize_email(&self.email),
            role: self.role,
            invited_by: self.invited_by,
            created_at: now_millis(),
            expires_at: truncate_to_millis(self.expires_at),
            accepted_at: None,
            revoked_at: None,
        }
    }
}

impl NewApiKey {
    pub(crate) fn into_record(self) -> ApiKey {
        ApiKey {
            id: new_id(),
            user_id: self.user_id,
            team_id: self.team_id,
            name: self.name,
            prefix: self.prefix,
            key_hash: self.key_hash,
            scopes: self.scopes,
            created_at: now_millis(),
            expires_at: self.expires_at.map(truncate_to_millis),
            last_used_at: None,
            revoked_at: None,
        }
    }
}

/// `Utc::now()` at storage precision.
pub(crate) fn now_millis() -> DateTime<Utc> {
    truncate_to_millis(Utc::now())
}

/// Orders a user's teams as [`TeamRepo::teams_for_user`] promises: personal first, then by
/// name case-insensitively, then exact name, then id.
pub(crate) fn sort_teams_for_user(teams: &mut [(Team, TeamRole)]) {
    teams.sort_by_cached_key(|(t, _)| {
        (
            !t.personal,
            t.name.to_lowercase(),
            t.name.clone(),
            t.id.clone(),
        )
    });
}

/// Why `invitation` cannot be accepted at `now` by a user with `user_email`, if it cannot.
pub(crate) fn refuse_unacceptable(
    invitation: &Invitation,
    user_email: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let refusal = if invitation.accepted_at.is_some() {
        conflict::INVITATION_ACCEPTED
    } else if invitation.revoked_at.is_some() {
        conflict::INVITATION_REVOKED
    } else if invitation.expires_at <= now {
        conflict::INVITATION_EXPIRED
    } else if normalize_email(user_email) != invitation.email {
        conflict::INVITATION_EMAIL_MISMATCH
    } else {
        return Ok(());
    };
    Err(StoreError::Conflict(refusal.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_role_round_trips_and_ranks() {
        for role in TeamRole::ALL {
            assert_eq!(TeamRole::parse(role.as_str()), Some(role));
            assert_eq!(role.as_str().parse::<TeamRole>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
        let ranks: Vec<u8> = TeamRole::ALL.iter().map(|r| r.rank()).collect();
        assert_eq!(ranks, vec![3, 2, 1, 0]);
        assert!(TeamRole::Owner.at_least(TeamRole::Admin));
        assert!(TeamRole::Member.at_least(TeamRole::Member));
        assert!(!TeamRole::Viewer.at_least(TeamRole::Member));
        for bad in ["Owner", " owner", "", "root", "owner\0"] {
            assert_eq!(TeamRole::parse(bad), None, "{bad:?}");
            assert_eq!(
                bad.parse::<TeamRole>(),
                Err(UnknownTeamRole(bad.to_owned()))
            );
        }
    }

    #[test]
    fn usability_and_pending() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let later = t + chrono::Duration::seconds(1);
        let key = ApiKey {
            id: "k".into(),
            user_id: "u".into(),
            team_id: "t".into(),
            name: "n".into(),
            prefix: "hfb_x".into(),
            key_hash: "h".into(),
            scopes: vec![],
            created_at: t,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        };
        assert!(key.is_usable(later), "no expiry, not revoked");
        let expiring = ApiKey {
            expires_at: Some(later),
            ..key.clone()
        };
        assert!(expiring.is_usable(t));
        assert!(!expiring.is_usable(later), "expired at expires_at");
        assert!(
            !ApiKey {
                revoked_at: Some(t),
                ..key
            }
            .is_usable(t)
        );

        let inv = Invitation {
            id: "i".into(),
            team_id: "t".into(),
            email: "a@b.test".into(),
            role: TeamRole::Member,
            invited_by: "u".into(),
            created_at: t,
            expires_at: later,
            accepted_at: None,
            revoked_at: None,
        };
        assert!(inv.is_pending(t));
        assert!(!inv.is_pending(later));
        assert!(
            !Invitation {
                accepted_at: Some(t),
                ..inv.clone()
            }
            .is_pending(t)
        );
        assert!(
            !Invitation {
                revoked_at: Some(t),
                ..inv
            }
            .is_pending(t)
        );
    }
}
