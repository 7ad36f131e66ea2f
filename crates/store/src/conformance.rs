//! One behaviour suite every [`Store`] adapter must pass (feature `conformance`).
//!
//! Each case is a `pub async fn(Arc<dyn Store>)` that panics with a message on failure and
//! uses fresh random e-mails, hashes and slugs, so cases can share one database and run in
//! any order.
//! [`CASES`] lists them all; [`run_all`] runs them in turn and reports every failure.
//! To add a case: write the function, add it to the `cases!` list at the bottom, and wire
//! it in `tests/sqlite.rs` (a test there fails when a case is not wired).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::{
    ApiKey, CatalogModel, CatalogPage, CatalogQuery, CatalogSort, CatalogSource, Created,
    Deployment, DesiredState, FacetCount, Facets, Invitation, Membership, ModelFile, NewApiKey,
    NewDeployment, NewDeploymentEvent, NewInvitation, NewSession, NewTeam, NewUser, Observation,
    RotateOutcome, Session, Store, StoreError, Team, TeamRole, UpsertCounts, User, UserUpdate,
    conflict, truncate_to_millis,
};

/// A conformance case: takes the store under test, panics on failure.
pub type CaseFn = fn(Arc<dyn Store>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// A unique, valid-looking e-mail (lowercase) for one test.
#[must_use]
pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.test", uuid::Uuid::now_v7().simple()).to_lowercase()
}

/// A unique refresh-token hash stand-in.
#[must_use]
pub fn unique_hash(tag: &str) -> String {
    format!("{tag}-{}", uuid::Uuid::now_v7().simple())
}

/// A unique team slug for one test.
#[must_use]
pub fn unique_slug(tag: &str) -> String {
    format!("{tag}-{}", uuid::Uuid::now_v7().simple())
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

async fn new_user(store: &dyn Store, tag: &str) -> User {
    store
        .create_user(NewUser {
            email: unique_email(tag),
            display_name: format!("{tag} user"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        })
        .await
        .expect("create_user")
}

async fn new_session(store: &dyn Store, user: &User, first_hash: &str) -> Session {
    store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: Some("conformance/1.0".into()),
                ip: Some("127.0.0.1".into()),
                expires_at: now() + Duration::days(30),
            },
            first_hash,
        )
        .await
        .expect("create_session")
}

/// Lets the clock move so `created_at` values differ (ordering does not rely on id ties).
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

pub async fn create_and_get_user(store: Arc<dyn Store>) {
    let email = unique_email("Create");
    let mixed = format!("  {}  ", email.to_uppercase());
    let created = store
        .create_user(NewUser {
            email: mixed.clone(),
            display_name: "Ada Lovelace".into(),
            password_hash: "hash-1".into(),
        })
        .await
        .expect("create_user");
    assert_eq!(
        created.email, email,
        "email is stored trimmed and lowercase"
    );
    assert_eq!(created.display_name, "Ada Lovelace");
    assert_eq!(created.password_hash, "hash-1");
    assert_eq!(
        created.created_at, created.updated_at,
        "a new user has updated_at = created_at"
    );
    assert_eq!(
        created.created_at,
        truncate_to_millis(created.created_at),
        "timestamps have millisecond precision"
    );
    assert!(!created.id.is_empty(), "id is assigned");

    let by_id = store.user_by_id(&created.id).await.expect("user_by_id");
    assert_eq!(
        by_id.as_ref(),
        Some(&created),
        "user_by_id returns what create_user returned"
    );
    let by_email = store.user_by_email(&mixed).await.expect("user_by_email");
    assert_eq!(
        by_email.as_ref(),
        Some(&created),
        "user_by_email normalizes its argument"
    );
    let by_lower = store.user_by_email(&email).await.expect("user_by_email");
    assert_eq!(
        by_lower.as_ref(),
        Some(&created),
        "lookup by the stored form works"
    );

    assert_eq!(
        store.user_by_id("no-such-id").await.expect("lookup"),
        None,
        "unknown id is None"
    );
    assert_eq!(
        store
            .user_by_email(&unique_email("nobody"))
            .await
            .expect("lookup"),
        None,
        "unknown email is None"
    );
}

pub async fn duplicate_email_conflicts(store: Arc<dyn Store>) {
    let email = unique_email("dup");
    let first = NewUser {
        email: email.clone(),
        display_name: "first".into(),
        password_hash: "h".into(),
    };
    store
        .create_user(first.clone())
        .await
        .expect("first create_user");
    for variant in [email.clone(), email.to_uppercase(), format!(" {email}\t")] {
        let result = store
            .create_user(NewUser {
                email: variant.clone(),
                ..first.clone()
            })
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict(_))),
            "duplicate email {variant:?} must be Conflict, got {result:?}"
        );
    }
    let found = store
        .user_by_email(&email)
        .await
        .expect("lookup")
        .expect("first user exists");
    assert_eq!(
        found.display_name, "first",
        "the original user is untouched"
    );
}

pub async fn update_user_fields(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "update").await;
    tick().await;
    let renamed = store
        .update_user(
            &user.id,
            UserUpdate {
                display_name: Some("Renamed".into()),
                ..UserUpdate::default()
            },
        )
        .await
        .expect("update display_name");
    assert_eq!(renamed.display_name, "Renamed");
    assert_eq!(renamed.email, user.email, "fields left None are unchanged");
    assert_eq!(
        renamed.password_hash, user.password_hash,
        "fields left None are unchanged"
    );
    assert_eq!(
        renamed.created_at, user.created_at,
        "created_at never changes"
    );
    assert!(renamed.updated_at > user.updated_at, "updated_at is bumped");

    let new_email = unique_email("Moved");
    let moved = store
        .update_user(
            &user.id,
            UserUpdate {
                email: Some(new_email.to_uppercase()),
                password_hash: Some("hash-2".into()),
                display_name: None,
            },
        )
        .await
        .expect("update email");
    assert_eq!(moved.email, new_email, "updated email is normalized");
    assert_eq!(moved.password_hash, "hash-2");
    assert_eq!(moved.display_name, "Renamed");
    assert_eq!(
        store.user_by_id(&user.id).await.expect("lookup"),
        Some(moved.clone()),
        "update_user returns the stored user"
    );
    assert_eq!(
        store
            .user_by_email(&new_email)
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(user.id.clone()),
        "found by the new email"
    );
    assert_eq!(
        store.user_by_email(&user.email).await.expect("lookup"),
        None,
        "the old email is free"
    );
}

pub async fn update_user_email_conflict(store: Arc<dyn Store>) {
    let a = new_user(store.as_ref(), "conflict-a").await;
    let b = new_user(store.as_ref(), "conflict-b").await;
    let result = store
        .update_user(
            &b.id,
            UserUpdate {
                email: Some(a.email.to_uppercase()),
                display_name: Some("should not stick".into()),
                ..UserUpdate::default()
            },
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Conflict(_))),
        "taking another user's email is Conflict, got {result:?}"
    );
    assert_eq!(
        store.user_by_id(&b.id).await.expect("lookup"),
        Some(b),
        "a failed update changes nothing"
    );
}

pub async fn update_unknown_user_not_found(store: Arc<dyn Store>) {
    let result = store
        .update_user(
            "missing-user-id",
            UserUpdate {
                display_name: Some("x".into()),
                ..UserUpdate::default()
            },
        )
        .await;
    assert_eq!(
        result,
        Err(StoreError::NotFound),
        "updating an unknown user is NotFound"
    );
}

pub async fn delete_user_cascades(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "delete").await;
    let other = new_user(store.as_ref(), "survivor").await;
    let (h1, h2, h3) = (
        unique_hash("del1"),
        unique_hash("del2"),
        unique_hash("keep"),
    );
    let s1 = new_session(store.as_ref(), &user, &h1).await;
    let s2 = new_session(store.as_ref(), &user, &h2).await;
    let kept = new_session(store.as_ref(), &other, &h3).await;
    let h1b = unique_hash("del1b");
    let rotated = store
        .rotate_refresh_token(&s1.id, &h1, &h1b, now(), now() + Duration::days(1))
        .await
        .expect("rotate");
    assert_eq!(rotated, RotateOutcome::Rotated);

    assert!(
        store.delete_user(&user.id).await.expect("delete_user"),
        "delete returns true"
    );
    assert_eq!(
        store.user_by_id(&user.id).await.expect("lookup"),
        None,
        "user is gone"
    );
    assert_eq!(
        store.user_by_email(&user.email).await.expect("lookup"),
        None,
        "email is gone"
    );
    for s in [&s1, &s2] {
        assert_eq!(
            store.session_by_id(&s.id).await.expect("lookup"),
            None,
            "sessions of a deleted user are deleted"
        );
    }
    for h in [&h1, &h1b, &h2] {
        assert_eq!(
            store.refresh_token(h).await.expect("lookup"),
            None,
            "refresh tokens of a deleted user are deleted"
        );
    }
    assert!(
        store
            .list_sessions_for_user(&user.id)
            .await
            .expect("list")
            .is_empty(),
        "no sessions listed for a deleted user"
    );
    assert!(
        !store.delete_user(&user.id).await.expect("delete again"),
        "second delete is false"
    );

    assert_eq!(
        store.session_by_id(&kept.id).await.expect("lookup"),
        Some(kept),
        "other users' sessions are untouched"
    );
    assert!(
        store.refresh_token(&h3).await.expect("lookup").is_some(),
        "other tokens survive"
    );
    assert!(store.user_by_id(&other.id).await.expect("lookup").is_some());
    let again = store
        .create_user(NewUser {
            email: user.email.clone(),
            display_name: "again".into(),
            password_hash: "h".into(),
        })
        .await;
    assert!(
        again.is_ok(),
        "a deleted user's email can be registered again: {again:?}"
    );
}

pub async fn create_session_and_list_newest_first(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "sessions").await;
    let other = new_user(store.as_ref(), "sessions-other").await;
    let expires = now() + Duration::days(30);
    let first_hash = unique_hash("first");
    let s1 = store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
                ip: Some("203.0.113.7".into()),
                expires_at: expires,
            },
            &first_hash,
        )
        .await
        .expect("create_session");
    assert_eq!(s1.user_id, user.id);
    assert_eq!(
        s1.user_agent.as_deref(),
        Some("Mozilla/5.0 (X11; Linux x86_64)")
    );
    assert_eq!(s1.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(
        s1.expires_at,
        truncate_to_millis(expires),
        "expires_at kept to the millisecond"
    );
    assert_eq!(
        s1.last_used_at, s1.created_at,
        "a new session was last used at creation"
    );
    assert_eq!(s1.revoked_at, None);
    assert_eq!(s1.revoked_reason, None);
    assert_eq!(
        store.session_by_id(&s1.id).await.expect("session_by_id"),
        Some(s1.clone()),
        "session_by_id returns what create_session returned"
    );

    let token = store
        .refresh_token(&first_hash)
        .await
        .expect("refresh_token")
        .expect("the first refresh token is stored");
    assert_eq!(token.hash, first_hash);
    assert_eq!(token.session_id, s1.id);
    assert_eq!(
        token.issued_at, s1.created_at,
        "first token issued at session creation"
    );
    assert_eq!(
        token.expires_at, s1.expires_at,
        "first token expires with the session"
    );
    assert_eq!(token.used_at, None);
    assert!(token.is_usable(now()));
    assert!(s1.is_active(now()));

    tick().await;
    let s2 = store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: None,
                ip: None,
                expires_at: expires,
            },
            &unique_hash("second"),
        )
        .await
        .expect("create_session without agent/ip");
    assert_eq!(s2.user_agent, None, "absent user agent stays None");
    assert_eq!(s2.ip, None, "absent ip stays None");
    tick().await;
    let s3 = new_session(store.as_ref(), &user, &unique_hash("third")).await;
    new_session(store.as_ref(), &other, &unique_hash("foreign")).await;
    assert!(
        store
            .revoke_session(&s2.id, "test", now())
            .await
            .expect("revoke")
    );

    let listed: Vec<String> = store
        .list_sessions_for_user(&user.id)
        .await
        .expect("list_sessions_for_user")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        listed,
        vec![s3.id, s2.id, s1.id],
        "sessions are listed newest first, revoked ones included, other users' excluded"
    );
    assert_eq!(
        store
            .session_by_id("no-such-session")
            .await
            .expect("lookup"),
        None
    );
    assert_eq!(
        store.refresh_token("no-such-hash").await.expect("lookup"),
        None
    );
}

pub async fn create_session_unknown_user_not_found(store: Arc<dyn Store>) {
    let hash = unique_hash("orphan");
    let result = store
        .create_session(
            NewSession {
                user_id: "no-such-user".into(),
                user_agent: None,
                ip: None,
                expires_at: now() + Duration::days(1),
            },
            &hash,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "a session for an unknown user is NotFound, got {result:?}"
    );
    assert_eq!(
        store.refresh_token(&hash).await.expect("lookup"),
        None,
        "no token stored"
    );
}

pub async fn rotate_happy_path(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "rotate").await;
    let h0 = unique_hash("h0");
    let session = new_session(store.as_ref(), &user, &h0).await;
    let at = now() + Duration::seconds(5);
    let until = at + Duration::days(30);
    let h1 = unique_hash("h1");
    let outcome = store
        .rotate_refresh_token(&session.id, &h0, &h1, at, until)
        .await
        .expect("rotate");
    assert_eq!(outcome, RotateOutcome::Rotated, "an unused token rotates");

    let old = store
        .refresh_token(&h0)
        .await
        .expect("lookup")
        .expect("old token kept");
    assert_eq!(
        old.used_at,
        Some(truncate_to_millis(at)),
        "old token is marked used at `now`"
    );
    assert!(!old.is_usable(at));
    let new = store
        .refresh_token(&h1)
        .await
        .expect("lookup")
        .expect("new token stored");
    assert_eq!(new.session_id, session.id);
    assert_eq!(new.issued_at, truncate_to_millis(at));
    assert_eq!(new.expires_at, truncate_to_millis(until));
    assert_eq!(new.used_at, None);

    let after = store
        .session_by_id(&session.id)
        .await
        .expect("lookup")
        .expect("session");
    assert_eq!(
        after.last_used_at,
        truncate_to_millis(at),
        "rotation updates last_used_at"
    );
    assert_eq!(
        after.expires_at,
        truncate_to_millis(until),
        "rotation extends expires_at"
    );
    assert_eq!(after.created_at, session.created_at);
    assert_eq!(after.revoked_at, None);

    let h2 = unique_hash("h2");
    let again = store
        .rotate_refresh_token(&session.id, &h1, &h2, at + Duration::seconds(1), until)
        .await
        .expect("rotate successor");
    assert_eq!(
        again,
        RotateOutcome::Rotated,
        "the successor rotates in turn"
    );
}

pub async fn rotate_reuse_already_used(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "reuse").await;
    let h0 = unique_hash("h0");
    let session = new_session(store.as_ref(), &user, &h0).await;
    let at = now();
    let until = at + Duration::days(30);
    let first = store
        .rotate_refresh_token(&session.id, &h0, &unique_hash("h1"), at, until)
        .await
        .expect("rotate");
    assert_eq!(first, RotateOutcome::Rotated);
    let replay_hash = unique_hash("replay");
    let replay = store
        .rotate_refresh_token(
            &session.id,
            &h0,
            &replay_hash,
            at + Duration::seconds(1),
            until + Duration::days(1),
        )
        .await
        .expect("replay");
    assert_eq!(
        replay,
        RotateOutcome::AlreadyUsed,
        "a used token is reported as reuse"
    );
    assert_eq!(
        store.refresh_token(&replay_hash).await.expect("lookup"),
        None,
        "a replay stores no new token"
    );
    let s = store
        .session_by_id(&session.id)
        .await
        .expect("lookup")
        .expect("session");
    assert_eq!(
        s.expires_at,
        truncate_to_millis(until),
        "a replay does not extend the session"
    );
    let used = store
        .refresh_token(&h0)
        .await
        .expect("lookup")
        .expect("token");
    assert_eq!(
        used.used_at,
        Some(truncate_to_millis(at)),
        "a replay keeps the first used_at"
    );
}

pub async fn rotate_on_revoked_session(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "revoked").await;
    let h0 = unique_hash("h0");
    let session = new_session(store.as_ref(), &user, &h0).await;
    assert!(
        store
            .revoke_session(&session.id, "logout", now())
            .await
            .expect("revoke")
    );
    let new_hash = unique_hash("h1");
    let outcome = store
        .rotate_refresh_token(
            &session.id,
            &h0,
            &new_hash,
            now(),
            now() + Duration::days(1),
        )
        .await
        .expect("rotate");
    assert_eq!(
        outcome,
        RotateOutcome::SessionRevoked,
        "a revoked session never rotates"
    );
    assert_eq!(
        store.refresh_token(&new_hash).await.expect("lookup"),
        None,
        "no token stored"
    );
    let old = store
        .refresh_token(&h0)
        .await
        .expect("lookup")
        .expect("old token");
    assert_eq!(old.used_at, None, "the old token is not consumed");
}

pub async fn rotate_not_found(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "rotate-nf").await;
    let (ha, hb) = (unique_hash("a"), unique_hash("b"));
    let a = new_session(store.as_ref(), &user, &ha).await;
    let b = new_session(store.as_ref(), &user, &hb).await;
    let until = now() + Duration::days(1);
    let cases = [
        ("no-such-session", ha.as_str(), "unknown session"),
        (a.id.as_str(), "no-such-hash", "unknown token"),
        (b.id.as_str(), ha.as_str(), "token of another session"),
    ];
    for (session_id, old, what) in cases {
        let new_hash = unique_hash("new");
        let outcome = store
            .rotate_refresh_token(session_id, old, &new_hash, now(), until)
            .await
            .expect("rotate");
        assert_eq!(outcome, RotateOutcome::NotFound, "{what} is NotFound");
        assert_eq!(
            store.refresh_token(&new_hash).await.expect("lookup"),
            None,
            "{what}: nothing stored"
        );
    }
    let a_token = store
        .refresh_token(&ha)
        .await
        .expect("lookup")
        .expect("token");
    assert_eq!(
        a_token.used_at, None,
        "a token used with the wrong session stays unused"
    );
}

pub async fn concurrent_rotation_single_winner(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "race").await;
    let h0 = unique_hash("h0");
    let session = new_session(store.as_ref(), &user, &h0).await;
    let at = now();
    let until = at + Duration::days(30);
    let new_hashes: Vec<String> = (0..8).map(|i| unique_hash(&format!("racer{i}"))).collect();
    let tasks: Vec<_> = new_hashes
        .iter()
        .map(|new_hash| {
            let (store, sid, old, new) = (
                store.clone(),
                session.id.clone(),
                h0.clone(),
                new_hash.clone(),
            );
            tokio::spawn(async move {
                store
                    .rotate_refresh_token(&sid, &old, &new, at, until)
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task").expect("rotate"));
    }
    let winners = outcomes
        .iter()
        .filter(|o| **o == RotateOutcome::Rotated)
        .count();
    let losers = outcomes
        .iter()
        .filter(|o| **o == RotateOutcome::AlreadyUsed)
        .count();
    assert_eq!(
        winners, 1,
        "exactly one concurrent rotation wins: {outcomes:?}"
    );
    assert_eq!(losers, 7, "all others see AlreadyUsed: {outcomes:?}");
    let mut stored = 0;
    for h in &new_hashes {
        if store.refresh_token(h).await.expect("lookup").is_some() {
            stored += 1;
        }
    }
    assert_eq!(stored, 1, "only the winner's new token is stored");
}

pub async fn revoke_one_session(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "revoke").await;
    let session = new_session(store.as_ref(), &user, &unique_hash("h")).await;
    let at = now();
    assert!(
        store
            .revoke_session(&session.id, "logout", at)
            .await
            .expect("revoke"),
        "revoking an active session returns true"
    );
    let revoked = store
        .session_by_id(&session.id)
        .await
        .expect("lookup")
        .expect("session kept");
    assert_eq!(revoked.revoked_at, Some(truncate_to_millis(at)));
    assert_eq!(revoked.revoked_reason.as_deref(), Some("logout"));
    assert!(!revoked.is_active(at));
    assert!(
        !store
            .revoke_session(&session.id, "again", at + Duration::seconds(1))
            .await
            .expect("revoke again"),
        "revoking twice returns false"
    );
    let still = store
        .session_by_id(&session.id)
        .await
        .expect("lookup")
        .expect("session");
    assert_eq!(
        still.revoked_reason.as_deref(),
        Some("logout"),
        "the first reason is kept"
    );
    assert_eq!(
        still.revoked_at,
        Some(truncate_to_millis(at)),
        "the first time is kept"
    );
    assert!(
        !store
            .revoke_session("no-such-session", "x", at)
            .await
            .expect("revoke unknown")
    );
}

pub async fn revoke_all_except_current(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "revoke-all").await;
    let other = new_user(store.as_ref(), "revoke-other").await;
    let current = new_session(store.as_ref(), &user, &unique_hash("cur")).await;
    let s2 = new_session(store.as_ref(), &user, &unique_hash("s2")).await;
    let s3 = new_session(store.as_ref(), &user, &unique_hash("s3")).await;
    let foreign = new_session(store.as_ref(), &other, &unique_hash("foreign")).await;
    let early = now();
    assert!(
        store
            .revoke_session(&s3.id, "earlier", early)
            .await
            .expect("revoke")
    );

    let at = early + Duration::seconds(1);
    let n = store
        .revoke_sessions_for_user(&user.id, Some(&current.id), "password changed", at)
        .await
        .expect("revoke all except");
    assert_eq!(
        n, 1,
        "only not-yet-revoked sessions other than `except` count"
    );
    let get = |id: String| {
        let store = store.clone();
        async move {
            store
                .session_by_id(&id)
                .await
                .expect("lookup")
                .expect("session")
        }
    };
    assert_eq!(
        get(current.id.clone()).await.revoked_at,
        None,
        "`except` stays active"
    );
    let s2 = get(s2.id).await;
    assert_eq!(s2.revoked_reason.as_deref(), Some("password changed"));
    assert_eq!(s2.revoked_at, Some(truncate_to_millis(at)));
    let s3 = get(s3.id).await;
    assert_eq!(
        s3.revoked_reason.as_deref(),
        Some("earlier"),
        "already revoked keeps its reason"
    );
    assert_eq!(s3.revoked_at, Some(truncate_to_millis(early)));
    assert_eq!(
        get(foreign.id).await.revoked_at,
        None,
        "other users are untouched"
    );

    let n = store
        .revoke_sessions_for_user(&user.id, None, "logout everywhere", at)
        .await
        .expect("revoke all");
    assert_eq!(n, 1, "then the current one is revoked too");
    assert_eq!(
        store
            .revoke_sessions_for_user(&user.id, None, "again", at)
            .await
            .expect("revoke all again"),
        0,
        "nothing left to revoke"
    );
}

pub async fn injection_inputs_are_literal(store: Arc<dyn Store>) {
    let victim = new_user(store.as_ref(), "victim").await;
    new_session(store.as_ref(), &victim, &unique_hash("victim")).await;
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let nasty = [
        format!("' or 1=1 --{suffix}@x.test"),
        format!("{{\"$ne\":null}}{suffix}"),
        format!("$where{suffix}"),
        format!("{{\"$gt\":\"\"}}{suffix}@x.test"),
    ];
    for email in &nasty {
        let user = store
            .create_user(NewUser {
                email: email.clone(),
                display_name: "$where: function() { return true; } '; DROP TABLE users; --".into(),
                password_hash: "{\"$ne\": null}".into(),
            })
            .await
            .expect("an injection-shaped email is just a string");
        assert_eq!(&user.email, email);
        let found = store
            .user_by_email(email)
            .await
            .expect("lookup")
            .expect("found literally");
        assert_eq!(found, user, "stored and matched literally");
        assert_eq!(
            found.display_name,
            "$where: function() { return true; } '; DROP TABLE users; --"
        );
        assert_eq!(found.password_hash, "{\"$ne\": null}");
    }
    for probe in [
        "' OR 1=1 --",
        "' OR '1'='1",
        "{\"$ne\":null}",
        "{\"$ne\":\"\"}",
        "{\"$gt\":\"\"}",
        "$where",
        "this.email",
        "%",
        "*",
    ] {
        assert_eq!(
            store.user_by_email(probe).await.expect("lookup"),
            None,
            "email {probe:?}"
        );
        assert_eq!(
            store.user_by_id(probe).await.expect("lookup"),
            None,
            "id {probe:?}"
        );
        assert_eq!(
            store.session_by_id(probe).await.expect("lookup"),
            None,
            "session {probe:?}"
        );
        assert_eq!(
            store.refresh_token(probe).await.expect("lookup"),
            None,
            "token {probe:?}"
        );
        assert!(
            store
                .list_sessions_for_user(probe)
                .await
                .expect("list")
                .is_empty(),
            "sessions of {probe:?}"
        );
        assert_eq!(
            store
                .revoke_sessions_for_user(probe, Some(probe), "x", now())
                .await
                .expect("revoke"),
            0,
            "revoke for user {probe:?} matches nothing"
        );
        assert!(
            !store
                .revoke_session(probe, "x", now())
                .await
                .expect("revoke"),
            "{probe:?}"
        );
        assert!(
            !store.delete_user(probe).await.expect("delete"),
            "delete {probe:?}"
        );
    }
    let victim_sessions = store
        .list_sessions_for_user(&victim.id)
        .await
        .expect("list");
    assert_eq!(victim_sessions.len(), 1, "the victim keeps their session");
    assert_eq!(
        victim_sessions[0].revoked_at, None,
        "the victim's session is not revoked"
    );
    assert!(
        store
            .user_by_id(&victim.id)
            .await
            .expect("lookup")
            .is_some(),
        "victim exists"
    );

    let hash = "{\"$ne\":null}' OR 1=1 --".to_owned() + &suffix;
    let weird = new_session(store.as_ref(), &victim, &hash).await;
    let token = store
        .refresh_token(&hash)
        .await
        .expect("lookup")
        .expect("literal hash");
    assert_eq!(token.session_id, weird.id);
}

pub async fn unicode_round_trip(store: Arc<dyn Store>) {
    let email = format!("ÜNÏCØDE-{}@exämple.test", uuid::Uuid::now_v7().simple());
    let name = "Zoë Ångström 李雷 Дмитрий 🚀 مرحبا \u{200d}👩‍💻";
    let user = store
        .create_user(NewUser {
            email: email.clone(),
            display_name: name.into(),
            password_hash: "h".into(),
        })
        .await
        .expect("create_user");
    assert_eq!(user.display_name, name);
    assert_eq!(
        user.email,
        email.to_lowercase(),
        "unicode email is lowercased"
    );
    let found = store
        .user_by_id(&user.id)
        .await
        .expect("lookup")
        .expect("user");
    assert_eq!(found.display_name, name, "unicode display name round-trips");
    let by_email = store
        .user_by_email(&email.to_uppercase())
        .await
        .expect("lookup");
    assert_eq!(
        by_email.map(|u| u.id),
        Some(user.id.clone()),
        "unicode email matches case-insensitively"
    );
    let session = store
        .create_session(
            NewSession {
                user_id: user.id.clone(),
                user_agent: Some("Navigateur/1.0 (Été; 日本語)".into()),
                ip: Some("2001:db8::1".into()),
                expires_at: now() + Duration::hours(1),
            },
            &unique_hash("ünï"),
        )
        .await
        .expect("create_session");
    let s = store
        .session_by_id(&session.id)
        .await
        .expect("lookup")
        .expect("session");
    assert_eq!(
        s.user_agent.as_deref(),
        Some("Navigateur/1.0 (Été; 日本語)")
    );
    assert_eq!(s.ip.as_deref(), Some("2001:db8::1"));
}

// ---------------------------------------------------------------------------------------
// Teams, invitations and API keys.
// ---------------------------------------------------------------------------------------

async fn new_team(store: &dyn Store, creator: &User, name: &str, personal: bool) -> Team {
    store
        .create_team(NewTeam {
            name: name.into(),
            slug: unique_slug("team"),
            personal,
            created_by: creator.id.clone(),
        })
        .await
        .expect("create_team")
}

async fn new_invitation(store: &dyn Store, team: &Team, by: &User, email: &str) -> Invitation {
    store
        .create_invitation(NewInvitation {
            team_id: team.id.clone(),
            email: email.into(),
            role: TeamRole::Member,
            invited_by: by.id.clone(),
            expires_at: now() + Duration::days(7),
        })
        .await
        .expect("create_invitation")
}

async fn new_api_key(
    store: &dyn Store,
    user: &User,
    team: &Team,
    expires_at: Option<DateTime<Utc>>,
) -> ApiKey {
    store
        .create_api_key(NewApiKey {
            user_id: user.id.clone(),
            team_id: team.id.clone(),
            name: "ci".into(),
            prefix: "hfb_ab12cd34".into(),
            key_hash: unique_hash("key"),
            scopes: vec!["read".into()],
            expires_at,
        })
        .await
        .expect("create_api_key")
}

/// Asserts `result` is `Conflict` with exactly `message`.
fn assert_conflict<T: std::fmt::Debug>(result: crate::Result<T>, message: &str, what: &str) {
    match result {
        Err(StoreError::Conflict(m)) if m == message => {}
        other => panic!("{what}: expected Conflict({message:?}), got {other:?}"),
    }
}

async fn role_of(store: &dyn Store, team: &Team, user: &User) -> Option<TeamRole> {
    store
        .membership(&team.id, &user.id)
        .await
        .expect("membership")
        .map(|m| m.role)
}

async fn owners(store: &dyn Store, team: &Team) -> usize {
    store
        .list_members(&team.id)
        .await
        .expect("list_members")
        .iter()
        .filter(|m| m.role == TeamRole::Owner)
        .count()
}

pub async fn team_create_makes_creator_owner(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "team-create").await;
    let slug = unique_slug("acme");
    let team = store
        .create_team(NewTeam {
            name: "Acme Research".into(),
            slug: slug.clone(),
            personal: false,
            created_by: user.id.clone(),
        })
        .await
        .expect("create_team");
    assert!(!team.id.is_empty(), "id is assigned");
    assert_eq!(team.name, "Acme Research");
    assert_eq!(team.slug, slug);
    assert!(!team.personal);
    assert_eq!(team.created_by, user.id);
    assert_eq!(team.created_at, truncate_to_millis(team.created_at));
    assert_eq!(
        store.team_by_id(&team.id).await.expect("team_by_id"),
        Some(team.clone()),
        "team_by_id returns what create_team returned"
    );
    assert_eq!(
        store.team_by_slug(&slug).await.expect("team_by_slug"),
        Some(team.clone()),
        "team_by_slug returns what create_team returned"
    );
    let owner = Membership {
        team_id: team.id.clone(),
        user_id: user.id.clone(),
        role: TeamRole::Owner,
        created_at: team.created_at,
    };
    assert_eq!(
        store
            .membership(&team.id, &user.id)
            .await
            .expect("membership"),
        Some(owner.clone()),
        "the creator is an owner since the team's creation"
    );
    assert_eq!(
        store.list_members(&team.id).await.expect("list_members"),
        vec![owner]
    );
    assert_eq!(
        store
            .teams_for_user(&user.id)
            .await
            .expect("teams_for_user"),
        vec![(team.clone(), TeamRole::Owner)]
    );

    let personal = new_team(store.as_ref(), &user, "Personal", true).await;
    assert!(personal.personal);
    let second = store
        .create_team(NewTeam {
            name: "Second personal".into(),
            slug: unique_slug("second"),
            personal: true,
            created_by: user.id.clone(),
        })
        .await;
    assert_conflict(
        second,
        conflict::PERSONAL_TEAM_EXISTS,
        "a second personal team",
    );

    let orphan_slug = unique_slug("orphan");
    let orphan = store
        .create_team(NewTeam {
            name: "Orphan".into(),
            slug: orphan_slug.clone(),
            personal: false,
            created_by: "no-such-user".into(),
        })
        .await;
    assert!(
        matches!(orphan, Err(StoreError::NotFound)),
        "a team of an unknown creator is NotFound, got {orphan:?}"
    );
    assert_eq!(
        store.team_by_slug(&orphan_slug).await.expect("lookup"),
        None,
        "a failed create leaves no team behind"
    );
    assert_eq!(
        store.team_by_id("no-such-team").await.expect("lookup"),
        None
    );
    assert_eq!(
        store
            .membership(&team.id, "no-such-user")
            .await
            .expect("lookup"),
        None
    );
    assert!(
        store
            .list_members("no-such-team")
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn team_slug_conflict(store: Arc<dyn Store>) {
    let a = new_user(store.as_ref(), "slug-a").await;
    let b = new_user(store.as_ref(), "slug-b").await;
    let slug = unique_slug("taken");
    let first = store
        .create_team(NewTeam {
            name: "First".into(),
            slug: slug.clone(),
            personal: false,
            created_by: a.id.clone(),
        })
        .await
        .expect("create_team");
    for personal in [false, true] {
        let dup = store
            .create_team(NewTeam {
                name: "Second".into(),
                slug: slug.clone(),
                personal,
                created_by: b.id.clone(),
            })
            .await;
        assert_conflict(dup, conflict::TEAM_SLUG_TAKEN, "a taken slug");
    }
    assert!(
        store
            .teams_for_user(&b.id)
            .await
            .expect("teams_for_user")
            .is_empty(),
        "a refused team leaves no membership behind"
    );
    assert_eq!(
        store.team_by_slug(&slug).await.expect("lookup"),
        Some(first),
        "the first team keeps the slug"
    );
    let upper = store
        .create_team(NewTeam {
            name: "Upper".into(),
            slug: slug.to_uppercase(),
            personal: false,
            created_by: b.id.clone(),
        })
        .await
        .expect("slugs are compared exactly: another case is another slug");
    assert_eq!(upper.slug, slug.to_uppercase());
}

pub async fn teams_for_user_order_and_roles(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "order").await;
    let other = new_user(store.as_ref(), "order-other").await;
    // Names chosen so that byte order, creation order and the promised order all differ.
    let gamma = new_team(store.as_ref(), &other, "gamma", false).await;
    tick().await;
    let beta = new_team(store.as_ref(), &user, "Beta", false).await;
    tick().await;
    let alpha = new_team(store.as_ref(), &other, "alpha", false).await;
    tick().await;
    let personal = new_team(store.as_ref(), &user, "zz Personal", true).await;
    let unrelated = new_team(store.as_ref(), &other, "aaa not mine", false).await;
    store
        .add_member(&alpha.id, &user.id, TeamRole::Viewer)
        .await
        .expect("add viewer");
    store
        .add_member(&gamma.id, &user.id, TeamRole::Admin)
        .await
        .expect("add admin");

    let teams = store
        .teams_for_user(&user.id)
        .await
        .expect("teams_for_user");
    let got: Vec<(&str, TeamRole)> = teams.iter().map(|(t, r)| (t.name.as_str(), *r)).collect();
    assert_eq!(
        got,
        vec![
            ("zz Personal", TeamRole::Owner),
            ("alpha", TeamRole::Viewer),
            ("Beta", TeamRole::Owner),
            ("gamma", TeamRole::Admin),
        ],
        "personal first, then by name case-insensitively, each with the user's role"
    );
    assert_eq!(teams[0].0, personal, "full team records are returned");
    assert_eq!(teams[2].0, beta);
    assert!(
        teams.iter().all(|(t, _)| t.id != unrelated.id),
        "teams without the user are excluded"
    );
    let others: Vec<String> = store
        .teams_for_user(&other.id)
        .await
        .expect("teams_for_user")
        .into_iter()
        .map(|(t, _)| t.name)
        .collect();
    assert_eq!(others, vec!["aaa not mine", "alpha", "gamma"]);
    assert!(
        store
            .teams_for_user("no-such-user")
            .await
            .expect("teams_for_user")
            .is_empty()
    );
}

pub async fn add_member_and_duplicate(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "add-owner").await;
    let b = new_user(store.as_ref(), "add-b").await;
    let c = new_user(store.as_ref(), "add-c").await;
    let team = new_team(store.as_ref(), &owner, "Members", false).await;
    tick().await;
    let added = store
        .add_member(&team.id, &b.id, TeamRole::Member)
        .await
        .expect("add_member");
    assert_eq!(added.team_id, team.id);
    assert_eq!(added.user_id, b.id);
    assert_eq!(added.role, TeamRole::Member);
    assert_eq!(added.created_at, truncate_to_millis(added.created_at));
    assert_eq!(
        store.membership(&team.id, &b.id).await.expect("membership"),
        Some(added.clone()),
        "membership returns what add_member returned"
    );
    for role in [TeamRole::Member, TeamRole::Owner] {
        let dup = store.add_member(&team.id, &b.id, role).await;
        assert_conflict(dup, conflict::ALREADY_MEMBER, "adding a member twice");
    }
    assert_eq!(
        role_of(store.as_ref(), &team, &b).await,
        Some(TeamRole::Member),
        "a refused add changes nothing"
    );
    tick().await;
    store
        .add_member(&team.id, &c.id, TeamRole::Viewer)
        .await
        .expect("add_member c");
    let order: Vec<String> = store
        .list_members(&team.id)
        .await
        .expect("list_members")
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(
        order,
        vec![owner.id.clone(), b.id.clone(), c.id.clone()],
        "members in joining order"
    );

    let unknown_team = store
        .add_member("no-such-team", &b.id, TeamRole::Member)
        .await;
    assert!(
        matches!(unknown_team, Err(StoreError::NotFound)),
        "unknown team is NotFound, got {unknown_team:?}"
    );
    let unknown_user = store
        .add_member(&team.id, "no-such-user", TeamRole::Member)
        .await;
    assert!(
        matches!(unknown_user, Err(StoreError::NotFound)),
        "unknown user is NotFound, got {unknown_user:?}"
    );

    let promoted = store
        .set_member_role(&team.id, &b.id, TeamRole::Admin)
        .await
        .expect("set_member_role");
    assert_eq!(
        promoted,
        Membership {
            role: TeamRole::Admin,
            ..added
        },
        "only the role changes"
    );
    assert_eq!(
        role_of(store.as_ref(), &team, &b).await,
        Some(TeamRole::Admin)
    );
    let stranger = new_user(store.as_ref(), "add-stranger").await;
    assert_eq!(
        store
            .set_member_role(&team.id, &stranger.id, TeamRole::Admin)
            .await,
        Err(StoreError::NotFound),
        "changing a non-member's role is NotFound"
    );
    assert!(
        !store
            .remove_member(&team.id, &stranger.id)
            .await
            .expect("remove non-member"),
        "removing a non-member is false"
    );
    assert!(
        store
            .remove_member(&team.id, &b.id)
            .await
            .expect("remove_member"),
        "removing a member is true"
    );
    assert_eq!(role_of(store.as_ref(), &team, &b).await, None);
    assert!(
        !store
            .remove_member(&team.id, &b.id)
            .await
            .expect("remove again"),
        "removing twice is false"
    );
    store
        .add_member(&team.id, &b.id, TeamRole::Viewer)
        .await
        .expect("a removed member can be added again");
}

pub async fn last_owner_protected_on_demote(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "demote-owner").await;
    let admin = new_user(store.as_ref(), "demote-admin").await;
    let team = new_team(store.as_ref(), &owner, "Demote", false).await;
    store
        .add_member(&team.id, &admin.id, TeamRole::Admin)
        .await
        .expect("add admin");
    for role in [TeamRole::Admin, TeamRole::Member, TeamRole::Viewer] {
        let result = store.set_member_role(&team.id, &owner.id, role).await;
        assert_conflict(result, conflict::LAST_OWNER, "demoting the only owner");
    }
    assert_eq!(
        role_of(store.as_ref(), &team, &owner).await,
        Some(TeamRole::Owner),
        "the only owner stays owner"
    );
    let same = store
        .set_member_role(&team.id, &owner.id, TeamRole::Owner)
        .await
        .expect("setting owner to owner is allowed");
    assert_eq!(same.role, TeamRole::Owner);
    store
        .set_member_role(&team.id, &admin.id, TeamRole::Viewer)
        .await
        .expect("demoting a non-owner is fine");
}

pub async fn last_owner_protected_on_remove(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "remove-owner").await;
    let member = new_user(store.as_ref(), "remove-member").await;
    let team = new_team(store.as_ref(), &owner, "Remove", false).await;
    store
        .add_member(&team.id, &member.id, TeamRole::Member)
        .await
        .expect("add member");
    let result = store.remove_member(&team.id, &owner.id).await;
    assert_conflict(result, conflict::LAST_OWNER, "removing the only owner");
    assert_eq!(
        role_of(store.as_ref(), &team, &owner).await,
        Some(TeamRole::Owner),
        "the only owner stays"
    );
    assert_eq!(
        store.list_members(&team.id).await.expect("list").len(),
        2,
        "nobody was removed"
    );
    // A single-member team: its owner cannot leave either (delete the team instead).
    let solo = new_team(store.as_ref(), &member, "Solo", false).await;
    assert_conflict(
        store.remove_member(&solo.id, &member.id).await,
        conflict::LAST_OWNER,
        "the only member and owner",
    );
}

pub async fn second_owner_allows_demote_and_remove(store: Arc<dyn Store>) {
    let first = new_user(store.as_ref(), "owner-1").await;
    let second = new_user(store.as_ref(), "owner-2").await;
    let team = new_team(store.as_ref(), &first, "Two owners", false).await;
    store
        .add_member(&team.id, &second.id, TeamRole::Owner)
        .await
        .expect("add second owner");
    let demoted = store
        .set_member_role(&team.id, &first.id, TeamRole::Member)
        .await
        .expect("with a second owner, an owner can be demoted");
    assert_eq!(demoted.role, TeamRole::Member);
    assert_conflict(
        store.remove_member(&team.id, &second.id).await,
        conflict::LAST_OWNER,
        "now the second is the only owner",
    );
    store
        .set_member_role(&team.id, &first.id, TeamRole::Owner)
        .await
        .expect("promote back");
    assert!(
        store
            .remove_member(&team.id, &second.id)
            .await
            .expect("with another owner, an owner can leave"),
        "removed"
    );
    assert_eq!(owners(store.as_ref(), &team).await, 1);
    assert_eq!(
        role_of(store.as_ref(), &team, &first).await,
        Some(TeamRole::Owner)
    );
}

pub async fn concurrent_owner_changes_keep_an_owner(store: Arc<dyn Store>) {
    for round in 0..4 {
        let a = new_user(store.as_ref(), "race-owner-a").await;
        let b = new_user(store.as_ref(), "race-owner-b").await;
        let team = new_team(store.as_ref(), &a, "Race", false).await;
        store
            .add_member(&team.id, &b.id, TeamRole::Owner)
            .await
            .expect("second owner");
        let tasks: Vec<_> = [&a, &b]
            .into_iter()
            .enumerate()
            .map(|(i, user)| {
                let (store, team_id, user_id) = (store.clone(), team.id.clone(), user.id.clone());
                // Rounds mix demotions and removals.
                let remove = (round + i) % 2 == 1;
                tokio::spawn(async move {
                    if remove {
                        store.remove_member(&team_id, &user_id).await.map(|_| ())
                    } else {
                        store
                            .set_member_role(&team_id, &user_id, TeamRole::Member)
                            .await
                            .map(|_| ())
                    }
                })
            })
            .collect();
        let mut succeeded = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(()) => succeeded += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("round {round}: unexpected error {e:?}"),
            }
        }
        assert!(
            succeeded <= 1,
            "round {round}: both owners stepped down ({succeeded} successes)"
        );
        assert!(
            owners(store.as_ref(), &team).await >= 1,
            "round {round}: the team lost every owner"
        );
    }
}

pub async fn delete_team_cascades(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "del-team-owner").await;
    let member = new_user(store.as_ref(), "del-team-member").await;
    let team = new_team(store.as_ref(), &owner, "Doomed", false).await;
    let keep = new_team(store.as_ref(), &owner, "Kept", false).await;
    store
        .add_member(&team.id, &member.id, TeamRole::Member)
        .await
        .expect("add member");
    let invitation = new_invitation(
        store.as_ref(),
        &team,
        &owner,
        &unique_email("del-team-invitee"),
    )
    .await;
    let kept_invitation =
        new_invitation(store.as_ref(), &keep, &owner, &unique_email("kept-invitee")).await;
    let owner_key = new_api_key(store.as_ref(), &owner, &team, None).await;
    let member_key = new_api_key(store.as_ref(), &member, &team, None).await;
    let kept_key = new_api_key(store.as_ref(), &owner, &keep, None).await;

    assert!(store.delete_team(&team.id).await.expect("delete_team"));
    assert_eq!(store.team_by_id(&team.id).await.expect("lookup"), None);
    assert_eq!(store.team_by_slug(&team.slug).await.expect("lookup"), None);
    for user in [&owner, &member] {
        assert_eq!(
            role_of(store.as_ref(), &team, user).await,
            None,
            "memberships are deleted"
        );
    }
    assert!(store.list_members(&team.id).await.expect("list").is_empty());
    assert_eq!(
        store
            .invitation_by_id(&invitation.id)
            .await
            .expect("lookup"),
        None,
        "invitations are deleted"
    );
    assert!(
        store
            .invitations_for_team(&team.id)
            .await
            .expect("list")
            .is_empty()
    );
    for key in [&owner_key, &member_key] {
        assert_eq!(
            store.api_key_by_hash(&key.key_hash).await.expect("lookup"),
            None,
            "the team's API keys are deleted"
        );
    }
    assert!(
        store
            .list_api_keys_for_user(&member.id)
            .await
            .expect("list")
            .is_empty()
    );
    let remaining: Vec<String> = store
        .teams_for_user(&owner.id)
        .await
        .expect("teams")
        .into_iter()
        .map(|(t, _)| t.id)
        .collect();
    assert_eq!(
        remaining,
        vec![keep.id.clone()],
        "other teams are untouched"
    );
    assert_eq!(
        store
            .api_key_by_hash(&kept_key.key_hash)
            .await
            .expect("lookup"),
        Some(kept_key),
        "other teams' keys survive"
    );
    assert_eq!(
        store
            .invitation_by_id(&kept_invitation.id)
            .await
            .expect("lookup"),
        Some(kept_invitation),
        "other teams' invitations survive"
    );
    assert!(
        !store.delete_team(&team.id).await.expect("delete again"),
        "deleting twice is false"
    );
    store
        .create_team(NewTeam {
            name: "Reborn".into(),
            slug: team.slug.clone(),
            personal: false,
            created_by: member.id.clone(),
        })
        .await
        .expect("a deleted team's slug is free again");
}

pub async fn invitation_lifecycle(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "inv-owner").await;
    let team = new_team(store.as_ref(), &owner, "Inviting", false).await;
    let other_team = new_team(store.as_ref(), &owner, "Also inviting", false).await;
    let email = unique_email("Invitee");
    let mixed = format!(" {} ", email.to_uppercase());
    let expires = now() + Duration::days(7);
    let invitation = store
        .create_invitation(NewInvitation {
            team_id: team.id.clone(),
            email: mixed.clone(),
            role: TeamRole::Admin,
            invited_by: owner.id.clone(),
            expires_at: expires,
        })
        .await
        .expect("create_invitation");
    assert!(!invitation.id.is_empty());
    assert_eq!(invitation.team_id, team.id);
    assert_eq!(invitation.email, email, "the e-mail is normalized");
    assert_eq!(invitation.role, TeamRole::Admin);
    assert_eq!(invitation.invited_by, owner.id);
    assert_eq!(invitation.expires_at, truncate_to_millis(expires));
    assert_eq!(
        invitation.created_at,
        truncate_to_millis(invitation.created_at)
    );
    assert_eq!(invitation.accepted_at, None);
    assert_eq!(invitation.revoked_at, None);
    assert!(invitation.is_pending(now()));
    assert_eq!(
        store
            .invitation_by_id(&invitation.id)
            .await
            .expect("invitation_by_id"),
        Some(invitation.clone())
    );

    let dup = store
        .create_invitation(NewInvitation {
            team_id: team.id.clone(),
            email: email.to_uppercase(),
            role: TeamRole::Viewer,
            invited_by: owner.id.clone(),
            expires_at: expires,
        })
        .await;
    assert_conflict(
        dup,
        conflict::INVITATION_PENDING,
        "a second pending invitation",
    );
    tick().await;
    let second = new_invitation(store.as_ref(), &team, &owner, &unique_email("second")).await;
    tick().await;
    let elsewhere = new_invitation(store.as_ref(), &other_team, &owner, &email).await;
    let listed: Vec<String> = store
        .invitations_for_team(&team.id)
        .await
        .expect("invitations_for_team")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        listed,
        vec![second.id.clone(), invitation.id.clone()],
        "a team's invitations, newest first"
    );
    let pending: Vec<String> = store
        .pending_invitations_for_email(&mixed, now())
        .await
        .expect("pending_invitations_for_email")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        pending,
        vec![elsewhere.id.clone(), invitation.id.clone()],
        "pending invitations of an e-mail across teams, newest first"
    );

    let invitee = store
        .create_user(NewUser {
            email: email.clone(),
            display_name: "Invitee".into(),
            password_hash: "h".into(),
        })
        .await
        .expect("create_user");
    let at = now();
    let membership = store
        .accept_invitation(&invitation.id, &invitee.id, at)
        .await
        .expect("accept_invitation");
    assert_eq!(membership.team_id, team.id);
    assert_eq!(membership.user_id, invitee.id);
    assert_eq!(membership.role, TeamRole::Admin, "the invitation's role");
    assert_eq!(
        store
            .membership(&team.id, &invitee.id)
            .await
            .expect("membership"),
        Some(membership.clone()),
        "accept_invitation returns the stored membership"
    );
    let accepted = store
        .invitation_by_id(&invitation.id)
        .await
        .expect("lookup")
        .expect("kept");
    assert_eq!(accepted.accepted_at, Some(truncate_to_millis(at)));
    assert!(!accepted.is_pending(at));
    assert_conflict(
        store
            .accept_invitation(&invitation.id, &invitee.id, at)
            .await,
        conflict::INVITATION_ACCEPTED,
        "accepting twice",
    );
    let pending: Vec<String> = store
        .pending_invitations_for_email(&email, now())
        .await
        .expect("pending")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(
        pending,
        vec![elsewhere.id.clone()],
        "accepted ones are not pending"
    );
    assert_conflict(
        store
            .create_invitation(NewInvitation {
                team_id: team.id.clone(),
                email: email.clone(),
                role: TeamRole::Member,
                invited_by: owner.id.clone(),
                expires_at: expires,
            })
            .await,
        conflict::ALREADY_MEMBER,
        "inviting a member",
    );
    assert_conflict(
        store
            .create_invitation(NewInvitation {
                team_id: team.id.clone(),
                email: owner.email.to_uppercase(),
                role: TeamRole::Member,
                invited_by: owner.id.clone(),
                expires_at: expires,
            })
            .await,
        conflict::ALREADY_MEMBER,
        "inviting the owner",
    );
    let unknown_team = store
        .create_invitation(NewInvitation {
            team_id: "no-such-team".into(),
            email: unique_email("nowhere"),
            role: TeamRole::Member,
            invited_by: owner.id.clone(),
            expires_at: expires,
        })
        .await;
    assert!(
        matches!(unknown_team, Err(StoreError::NotFound)),
        "an invitation to an unknown team is NotFound, got {unknown_team:?}"
    );
    assert_eq!(
        store
            .accept_invitation("no-such-invitation", &invitee.id, now())
            .await,
        Err(StoreError::NotFound),
        "accepting an unknown invitation"
    );
    assert_eq!(
        store
            .accept_invitation(&elsewhere.id, "no-such-user", now())
            .await,
        Err(StoreError::NotFound),
        "accepting as an unknown user"
    );
    assert_eq!(
        store
            .invitation_by_id("no-such-invitation")
            .await
            .expect("lookup"),
        None
    );
}

pub async fn invitation_wrong_email_refused(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "wrong-owner").await;
    let team = new_team(store.as_ref(), &owner, "Wrong", false).await;
    let intended = new_user(store.as_ref(), "intended").await;
    let intruder = new_user(store.as_ref(), "intruder").await;
    let invitation = new_invitation(store.as_ref(), &team, &owner, &intended.email).await;
    assert_conflict(
        store
            .accept_invitation(&invitation.id, &intruder.id, now())
            .await,
        conflict::INVITATION_EMAIL_MISMATCH,
        "another user accepting",
    );
    assert_eq!(role_of(store.as_ref(), &team, &intruder).await, None);
    assert!(
        store
            .invitation_by_id(&invitation.id)
            .await
            .expect("lookup")
            .expect("kept")
            .is_pending(now()),
        "a refused acceptance leaves the invitation pending"
    );
    store
        .accept_invitation(&invitation.id, &intended.id, now())
        .await
        .expect("the invited user can still accept");
    assert_eq!(
        role_of(store.as_ref(), &team, &intended).await,
        Some(TeamRole::Member)
    );
}

pub async fn invitation_expired_refused(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "exp-owner").await;
    let team = new_team(store.as_ref(), &owner, "Expiring", false).await;
    let invitee = new_user(store.as_ref(), "exp-invitee").await;
    let expires = now() + Duration::hours(1);
    let invitation = store
        .create_invitation(NewInvitation {
            team_id: team.id.clone(),
            email: invitee.email.clone(),
            role: TeamRole::Member,
            invited_by: owner.id.clone(),
            expires_at: expires,
        })
        .await
        .expect("create_invitation");
    let late = expires + Duration::hours(1);
    assert!(!invitation.is_pending(late));
    assert_conflict(
        store
            .accept_invitation(&invitation.id, &invitee.id, late)
            .await,
        conflict::INVITATION_EXPIRED,
        "accepting after expiry",
    );
    assert_conflict(
        store
            .accept_invitation(&invitation.id, &invitee.id, expires)
            .await,
        conflict::INVITATION_EXPIRED,
        "accepting at the expiry instant",
    );
    assert_eq!(role_of(store.as_ref(), &team, &invitee).await, None);
    assert_eq!(
        store
            .invitation_by_id(&invitation.id)
            .await
            .expect("lookup")
            .expect("kept")
            .accepted_at,
        None
    );
    assert!(
        store
            .pending_invitations_for_email(&invitee.email, late)
            .await
            .expect("pending")
            .is_empty(),
        "expired invitations are not pending"
    );

    // An expired invitation does not block a new one for the same team and e-mail.
    let email = unique_email("re-invited");
    let stale = store
        .create_invitation(NewInvitation {
            team_id: team.id.clone(),
            email: email.clone(),
            role: TeamRole::Viewer,
            invited_by: owner.id.clone(),
            expires_at: now() - Duration::seconds(1),
        })
        .await
        .expect("an already expired invitation can be stored");
    assert!(!stale.is_pending(now()));
    let fresh = new_invitation(store.as_ref(), &team, &owner, &email).await;
    assert!(fresh.is_pending(now()));
    assert_conflict(
        store
            .create_invitation(NewInvitation {
                team_id: team.id.clone(),
                email: email.clone(),
                role: TeamRole::Viewer,
                invited_by: owner.id.clone(),
                expires_at: now() + Duration::days(1),
            })
            .await,
        conflict::INVITATION_PENDING,
        "the fresh one is pending",
    );
    assert_eq!(
        store
            .invitations_for_team(&team.id)
            .await
            .expect("list")
            .len(),
        3,
        "expired invitations stay listed"
    );
}

pub async fn invitation_revoked_refused(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "rev-owner").await;
    let team = new_team(store.as_ref(), &owner, "Revoking", false).await;
    let invitee = new_user(store.as_ref(), "rev-invitee").await;
    let invitation = new_invitation(store.as_ref(), &team, &owner, &invitee.email).await;
    let at = now();
    assert!(
        store
            .revoke_invitation(&invitation.id, at)
            .await
            .expect("revoke_invitation"),
        "revoking a pending invitation is true"
    );
    assert!(
        !store
            .revoke_invitation(&invitation.id, at + Duration::seconds(1))
            .await
            .expect("revoke again"),
        "revoking twice is false"
    );
    let revoked = store
        .invitation_by_id(&invitation.id)
        .await
        .expect("lookup")
        .expect("kept");
    assert_eq!(
        revoked.revoked_at,
        Some(truncate_to_millis(at)),
        "the first revocation time is kept"
    );
    assert!(!revoked.is_pending(at));
    assert_conflict(
        store
            .accept_invitation(&invitation.id, &invitee.id, now())
            .await,
        conflict::INVITATION_REVOKED,
        "accepting a revoked invitation",
    );
    assert_eq!(role_of(store.as_ref(), &team, &invitee).await, None);
    assert!(
        store
            .pending_invitations_for_email(&invitee.email, now())
            .await
            .expect("pending")
            .is_empty()
    );
    let again = new_invitation(store.as_ref(), &team, &owner, &invitee.email).await;
    store
        .accept_invitation(&again.id, &invitee.id, now())
        .await
        .expect("a new invitation after a revoked one works");
    assert!(
        !store
            .revoke_invitation(&again.id, now())
            .await
            .expect("revoke accepted"),
        "an accepted invitation cannot be revoked"
    );
    assert_eq!(
        store
            .invitation_by_id(&again.id)
            .await
            .expect("lookup")
            .expect("kept")
            .revoked_at,
        None
    );
    assert!(
        !store
            .revoke_invitation("no-such-invitation", now())
            .await
            .expect("revoke unknown")
    );
}

pub async fn concurrent_accept_single_winner(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "acc-race-owner").await;
    let team = new_team(store.as_ref(), &owner, "Accept race", false).await;
    let invitee = new_user(store.as_ref(), "acc-race-invitee").await;
    let invitation = new_invitation(store.as_ref(), &team, &owner, &invitee.email).await;
    let at = now();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, id, user) = (store.clone(), invitation.id.clone(), invitee.id.clone());
            tokio::spawn(async move { store.accept_invitation(&id, &user, at).await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => winners += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one concurrent acceptance wins");
    let members = store.list_members(&team.id).await.expect("list");
    assert_eq!(members.len(), 2, "the invitee joined once: {members:?}");
}

pub async fn api_key_lifecycle(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "keys").await;
    let other = new_user(store.as_ref(), "keys-other").await;
    let team = new_team(store.as_ref(), &user, "Keys", true).await;
    let other_team = new_team(store.as_ref(), &other, "Other keys", true).await;
    let hash = unique_hash("secret");
    let first = store
        .create_api_key(NewApiKey {
            user_id: user.id.clone(),
            team_id: team.id.clone(),
            name: "laptop".into(),
            prefix: "hfb_ab12cd34".into(),
            key_hash: hash.clone(),
            scopes: vec!["read".into(), "inference:write".into(), "read".into()],
            expires_at: None,
        })
        .await
        .expect("create_api_key");
    assert!(!first.id.is_empty());
    assert_eq!(first.user_id, user.id);
    assert_eq!(first.team_id, team.id);
    assert_eq!(first.name, "laptop");
    assert_eq!(first.prefix, "hfb_ab12cd34");
    assert_eq!(first.key_hash, hash);
    assert_eq!(
        first.scopes,
        vec!["read", "inference:write", "read"],
        "scopes keep order and duplicates"
    );
    assert_eq!(first.created_at, truncate_to_millis(first.created_at));
    assert_eq!(first.expires_at, None);
    assert_eq!(first.last_used_at, None);
    assert_eq!(first.revoked_at, None);
    assert!(first.is_usable(now()));
    assert_eq!(
        store.api_key_by_hash(&hash).await.expect("api_key_by_hash"),
        Some(first.clone()),
        "api_key_by_hash returns what create_api_key returned"
    );

    tick().await;
    let expires = now() + Duration::days(90);
    let second = store
        .create_api_key(NewApiKey {
            user_id: user.id.clone(),
            team_id: team.id.clone(),
            name: "ci".into(),
            prefix: "hfb_ef56gh78".into(),
            key_hash: unique_hash("secret2"),
            scopes: Vec::new(),
            expires_at: Some(expires),
        })
        .await
        .expect("create_api_key with expiry, no scopes");
    assert_eq!(second.expires_at, Some(truncate_to_millis(expires)));
    assert_eq!(
        store
            .api_key_by_hash(&second.key_hash)
            .await
            .expect("lookup")
            .map(|k| k.scopes),
        Some(Vec::new()),
        "no scopes round-trips as empty"
    );
    new_api_key(store.as_ref(), &other, &other_team, None).await;
    assert!(
        store
            .revoke_api_key(&first.id, &user.id, now())
            .await
            .expect("revoke")
    );
    let listed: Vec<String> = store
        .list_api_keys_for_user(&user.id)
        .await
        .expect("list_api_keys_for_user")
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(
        listed,
        vec![second.id.clone(), first.id.clone()],
        "a user's keys newest first, revoked included, other users' excluded"
    );

    let dup = store
        .create_api_key(NewApiKey {
            user_id: other.id.clone(),
            team_id: other_team.id.clone(),
            name: "dup".into(),
            prefix: "hfb_dup".into(),
            key_hash: hash.clone(),
            scopes: vec!["read".into()],
            expires_at: None,
        })
        .await;
    assert_conflict(dup, conflict::API_KEY_EXISTS, "a duplicate key hash");
    for (user_id, team_id, what) in [
        ("no-such-user", team.id.as_str(), "unknown user"),
        (user.id.as_str(), "no-such-team", "unknown team"),
    ] {
        let result = store
            .create_api_key(NewApiKey {
                user_id: user_id.into(),
                team_id: team_id.into(),
                name: "x".into(),
                prefix: "hfb_x".into(),
                key_hash: unique_hash("nf"),
                scopes: Vec::new(),
                expires_at: None,
            })
            .await;
        assert!(
            matches!(result, Err(StoreError::NotFound)),
            "{what} is NotFound, got {result:?}"
        );
    }
    assert_eq!(
        store.api_key_by_hash("no-such-hash").await.expect("lookup"),
        None
    );
    assert!(
        store
            .list_api_keys_for_user("no-such-user")
            .await
            .expect("list")
            .is_empty()
    );
}

pub async fn api_key_revoke_only_by_owner(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "key-owner").await;
    let thief = new_user(store.as_ref(), "key-thief").await;
    let team = new_team(store.as_ref(), &owner, "Key owner", false).await;
    store
        .add_member(&team.id, &thief.id, TeamRole::Admin)
        .await
        .expect("add member");
    let key = new_api_key(store.as_ref(), &owner, &team, None).await;
    assert!(
        !store
            .revoke_api_key(&key.id, &thief.id, now())
            .await
            .expect("revoke by another user"),
        "another user cannot revoke the key, even a team admin"
    );
    assert_eq!(
        store
            .api_key_by_hash(&key.key_hash)
            .await
            .expect("lookup")
            .and_then(|k| k.revoked_at),
        None,
        "the key is untouched"
    );
    let at = now();
    assert!(
        store
            .revoke_api_key(&key.id, &owner.id, at)
            .await
            .expect("revoke by owner"),
        "the owner revokes"
    );
    assert!(
        !store
            .revoke_api_key(&key.id, &owner.id, at + Duration::seconds(1))
            .await
            .expect("revoke again"),
        "revoking twice is false"
    );
    let revoked = store
        .api_key_by_hash(&key.key_hash)
        .await
        .expect("lookup")
        .expect("revoked keys are still found");
    assert_eq!(revoked.revoked_at, Some(truncate_to_millis(at)));
    assert!(!revoked.is_usable(at), "a revoked key is not usable");
    assert!(
        !store
            .revoke_api_key("no-such-key", &owner.id, now())
            .await
            .expect("revoke unknown")
    );
}

pub async fn api_key_expired_not_usable(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "key-expiry").await;
    let team = new_team(store.as_ref(), &user, "Key expiry", true).await;
    let expires = now() + Duration::hours(1);
    let key = new_api_key(store.as_ref(), &user, &team, Some(expires)).await;
    let stored = store
        .api_key_by_hash(&key.key_hash)
        .await
        .expect("lookup")
        .expect("key");
    assert!(stored.is_usable(now()), "usable before expiry");
    assert!(
        !stored.is_usable(expires),
        "not usable at the expiry instant"
    );
    assert!(!stored.is_usable(expires + Duration::hours(1)));
    let past = new_api_key(
        store.as_ref(),
        &user,
        &team,
        Some(now() - Duration::seconds(1)),
    )
    .await;
    let stored = store
        .api_key_by_hash(&past.key_hash)
        .await
        .expect("lookup")
        .expect("an already expired key is stored and found");
    assert!(!stored.is_usable(now()), "an expired key is not usable");
}

pub async fn api_key_touch_updates_last_used(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "key-touch").await;
    let team = new_team(store.as_ref(), &user, "Key touch", true).await;
    let key = new_api_key(store.as_ref(), &user, &team, None).await;
    let other = new_api_key(store.as_ref(), &user, &team, None).await;
    let last_used = |hash: String| {
        let store = store.clone();
        async move {
            store
                .api_key_by_hash(&hash)
                .await
                .expect("lookup")
                .expect("key")
                .last_used_at
        }
    };
    let at = now();
    store.touch_api_key(&key.id, at).await.expect("touch");
    assert_eq!(
        last_used(key.key_hash.clone()).await,
        Some(truncate_to_millis(at))
    );
    store
        .touch_api_key(&key.id, at - Duration::minutes(5))
        .await
        .expect("touch earlier");
    assert_eq!(
        last_used(key.key_hash.clone()).await,
        Some(truncate_to_millis(at)),
        "an earlier use never moves last_used_at back"
    );
    let later = at + Duration::minutes(5);
    store
        .touch_api_key(&key.id, later)
        .await
        .expect("touch later");
    assert_eq!(
        last_used(key.key_hash.clone()).await,
        Some(truncate_to_millis(later))
    );
    assert_eq!(
        last_used(other.key_hash.clone()).await,
        None,
        "other keys are untouched"
    );
    store
        .touch_api_key("no-such-key", now())
        .await
        .expect("touching an unknown key is not an error");
}

pub async fn revoke_api_keys_for_user_in_team(store: Arc<dyn Store>) {
    let owner = new_user(store.as_ref(), "leave-owner").await;
    let leaver = new_user(store.as_ref(), "leaver").await;
    let team = new_team(store.as_ref(), &owner, "Left", false).await;
    let home = new_team(store.as_ref(), &leaver, "Home", true).await;
    store
        .add_member(&team.id, &leaver.id, TeamRole::Member)
        .await
        .expect("add member");
    let k1 = new_api_key(store.as_ref(), &leaver, &team, None).await;
    let k2 = new_api_key(store.as_ref(), &leaver, &team, None).await;
    let early = new_api_key(store.as_ref(), &leaver, &team, None).await;
    let at_home = new_api_key(store.as_ref(), &leaver, &home, None).await;
    let owners_key = new_api_key(store.as_ref(), &owner, &team, None).await;
    let before = now();
    assert!(
        store
            .revoke_api_key(&early.id, &leaver.id, before)
            .await
            .expect("revoke")
    );
    let at = before + Duration::seconds(1);
    let n = store
        .revoke_api_keys_for_user_in_team(&leaver.id, &team.id, at)
        .await
        .expect("revoke_api_keys_for_user_in_team");
    assert_eq!(n, 2, "only the not-yet-revoked keys for that team count");
    let revoked_at = |hash: String| {
        let store = store.clone();
        async move {
            store
                .api_key_by_hash(&hash)
                .await
                .expect("lookup")
                .expect("key")
                .revoked_at
        }
    };
    for key in [&k1, &k2] {
        assert_eq!(
            revoked_at(key.key_hash.clone()).await,
            Some(truncate_to_millis(at))
        );
    }
    assert_eq!(
        revoked_at(early.key_hash.clone()).await,
        Some(truncate_to_millis(before)),
        "an earlier revocation is kept"
    );
    assert_eq!(
        revoked_at(at_home.key_hash.clone()).await,
        None,
        "keys for other teams stay"
    );
    assert_eq!(
        revoked_at(owners_key.key_hash.clone()).await,
        None,
        "other members' keys stay"
    );
    assert_eq!(
        store
            .revoke_api_keys_for_user_in_team(&leaver.id, &team.id, at)
            .await
            .expect("again"),
        0,
        "nothing left to revoke"
    );
}

pub async fn delete_user_removes_teams_and_keys(store: Arc<dyn Store>) {
    let user = new_user(store.as_ref(), "leaving").await;
    let friend = new_user(store.as_ref(), "friend").await;
    let personal = new_team(store.as_ref(), &user, "Leaving's team", true).await;
    let shared = new_team(store.as_ref(), &user, "Shared", false).await;
    let friends = new_team(store.as_ref(), &friend, "Friend's", true).await;
    store
        .add_member(&personal.id, &friend.id, TeamRole::Member)
        .await
        .expect("friend joins the personal team");
    store
        .add_member(&shared.id, &friend.id, TeamRole::Owner)
        .await
        .expect("friend co-owns the shared team");
    store
        .add_member(&friends.id, &user.id, TeamRole::Viewer)
        .await
        .expect("user joins the friend's team");
    let friend_key_in_personal = new_api_key(store.as_ref(), &friend, &personal, None).await;
    let user_keys = [
        new_api_key(store.as_ref(), &user, &personal, None).await,
        new_api_key(store.as_ref(), &user, &shared, None).await,
        new_api_key(store.as_ref(), &user, &friends, None).await,
    ];
    let friend_key_in_shared = new_api_key(store.as_ref(), &friend, &shared, None).await;
    let sent = new_invitation(store.as_ref(), &shared, &user, &unique_email("guest")).await;
    let in_personal =
        new_invitation(store.as_ref(), &personal, &user, &unique_email("guest2")).await;

    assert!(store.delete_user(&user.id).await.expect("delete_user"));
    assert_eq!(
        store.team_by_id(&personal.id).await.expect("lookup"),
        None,
        "the personal team is deleted"
    );
    assert!(
        store
            .list_members(&personal.id)
            .await
            .expect("list")
            .is_empty(),
        "with its memberships"
    );
    assert_eq!(
        store
            .api_key_by_hash(&friend_key_in_personal.key_hash)
            .await
            .expect("lookup"),
        None,
        "and every key for it"
    );
    assert_eq!(
        store
            .invitation_by_id(&in_personal.id)
            .await
            .expect("lookup"),
        None,
        "and its invitations"
    );
    for key in &user_keys {
        assert_eq!(
            store.api_key_by_hash(&key.key_hash).await.expect("lookup"),
            None,
            "the user's keys are deleted"
        );
    }
    assert!(
        store
            .teams_for_user(&user.id)
            .await
            .expect("teams")
            .is_empty(),
        "the user's memberships are deleted"
    );
    assert_eq!(role_of(store.as_ref(), &friends, &user).await, None);

    let kept = store
        .team_by_id(&shared.id)
        .await
        .expect("lookup")
        .expect("a shared team outlives its creator");
    assert_eq!(
        kept.created_by, user.id,
        "created_by may name a deleted user"
    );
    let members: Vec<String> = store
        .list_members(&shared.id)
        .await
        .expect("list")
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(members, vec![friend.id.clone()]);
    assert!(
        store
            .api_key_by_hash(&friend_key_in_shared.key_hash)
            .await
            .expect("lookup")
            .is_some(),
        "other users' keys in surviving teams stay"
    );
    let invitation = store
        .invitation_by_id(&sent.id)
        .await
        .expect("lookup")
        .expect("invitations the user sent stay");
    assert_eq!(invitation.invited_by, user.id, "invited_by may dangle");
    let friend_teams: Vec<String> = store
        .teams_for_user(&friend.id)
        .await
        .expect("teams")
        .into_iter()
        .map(|(t, _)| t.id)
        .collect();
    assert_eq!(friend_teams, vec![friends.id.clone(), shared.id.clone()]);
}

pub async fn team_injection_inputs_are_literal(store: Arc<dyn Store>) {
    let victim = new_user(store.as_ref(), "team-victim").await;
    let victim_team = new_team(store.as_ref(), &victim, "Victim", false).await;
    let victim_key = new_api_key(store.as_ref(), &victim, &victim_team, None).await;
    new_invitation(
        store.as_ref(),
        &victim_team,
        &victim,
        &unique_email("victim-guest"),
    )
    .await;
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let name = "'; DROP TABLE teams; -- {\"$ne\": null} $where: function() { return true; }";
    let slug = format!("{{\"$ne\":null}}' OR 1=1 --{suffix}");
    let team = store
        .create_team(NewTeam {
            name: name.into(),
            slug: slug.clone(),
            personal: false,
            created_by: victim.id.clone(),
        })
        .await
        .expect("an injection-shaped team is just strings");
    assert_eq!(team.name, name);
    assert_eq!(
        store.team_by_slug(&slug).await.expect("lookup"),
        Some(team.clone()),
        "found by the literal slug"
    );
    let email = format!("{{\"$gt\":\"\"}}' or '1'='1{suffix}@x.test");
    let invitation = new_invitation(store.as_ref(), &team, &victim, &email).await;
    assert_eq!(invitation.email, email.to_lowercase());
    assert_eq!(
        store
            .pending_invitations_for_email(&email, now())
            .await
            .expect("pending")
            .into_iter()
            .map(|i| i.id)
            .collect::<Vec<_>>(),
        vec![invitation.id.clone()]
    );
    let hash = format!("{{\"$ne\":null}}{suffix}");
    let key = store
        .create_api_key(NewApiKey {
            user_id: victim.id.clone(),
            team_id: team.id.clone(),
            name: "'; DELETE FROM api_keys; --".into(),
            prefix: "{\"$regex\": \".*\"}".into(),
            key_hash: hash.clone(),
            scopes: vec![
                "{\"$ne\":null}".into(),
                "\",\"admin".into(),
                "\\\"]".into(),
                "a\nb".into(),
            ],
            expires_at: None,
        })
        .await
        .expect("an injection-shaped key is just strings");
    assert_eq!(
        store.api_key_by_hash(&hash).await.expect("lookup"),
        Some(key.clone()),
        "stored and matched literally, scopes included"
    );

    for probe in [
        "' OR 1=1 --",
        "' OR '1'='1",
        "{\"$ne\":null}",
        "{\"$gt\":\"\"}",
        "{\"$regex\":\".*\"}",
        "$where",
        "this.slug",
        "%",
        "*",
        ".*",
    ] {
        assert_eq!(
            store.team_by_slug(probe).await.expect("lookup"),
            None,
            "slug {probe:?}"
        );
        assert_eq!(
            store.team_by_id(probe).await.expect("lookup"),
            None,
            "team {probe:?}"
        );
        assert_eq!(
            store.membership(probe, probe).await.expect("lookup"),
            None,
            "membership {probe:?}"
        );
        assert!(store.list_members(probe).await.expect("list").is_empty());
        assert!(store.teams_for_user(probe).await.expect("list").is_empty());
        assert!(
            store
                .invitations_for_team(probe)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            store
                .pending_invitations_for_email(probe, now())
                .await
                .expect("list")
                .is_empty()
        );
        assert_eq!(store.invitation_by_id(probe).await.expect("lookup"), None);
        assert!(!store.revoke_invitation(probe, now()).await.expect("revoke"));
        assert_eq!(store.api_key_by_hash(probe).await.expect("lookup"), None);
        assert!(
            store
                .list_api_keys_for_user(probe)
                .await
                .expect("list")
                .is_empty()
        );
        assert!(
            !store
                .revoke_api_key(probe, probe, now())
                .await
                .expect("revoke")
        );
        store.touch_api_key(probe, now()).await.expect("touch");
        assert_eq!(
            store
                .revoke_api_keys_for_user_in_team(probe, probe, now())
                .await
                .expect("revoke"),
            0
        );
        assert!(!store.remove_member(probe, probe).await.expect("remove"));
        assert!(
            !store.delete_team(probe).await.expect("delete"),
            "delete {probe:?}"
        );
    }
    assert_eq!(
        store
            .api_key_by_hash(&victim_key.key_hash)
            .await
            .expect("lookup"),
        Some(victim_key),
        "the victim's key is untouched"
    );
    assert_eq!(
        store
            .invitations_for_team(&victim_team.id)
            .await
            .expect("list")
            .len(),
        1,
        "the victim's invitation is untouched"
    );
    assert_eq!(
        store.teams_for_user(&victim.id).await.expect("teams").len(),
        2,
        "the victim keeps both teams"
    );
}

pub async fn ping_and_backend(store: Arc<dyn Store>) {
    store.ping().await.expect("ping on a healthy store");
    assert!(
        ["sqlite", "mongodb"].contains(&store.backend()),
        "backend() names the adapter, got {}",
        store.backend()
    );
}

// ---------------------------------------------------------------------------------------
// The model catalog.
//
// Every case works in its own namespace `ns` (one alphanumeric token): its models carry it
// in their id or author, and its searches are narrowed by that author or by `ns` as a text
// token, so cases can share a database. Only `catalog_unfiltered_search` looks at the
// whole catalog, and only checks properties that hold whatever else it holds.
// ---------------------------------------------------------------------------------------

/// A fresh namespace: a single search token.
fn catalog_ns() -> String {
    format!("ns{}", uuid::Uuid::now_v7().simple())
}

fn at_ms(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).expect("valid timestamp")
}

/// A minimal model `{owner}/{name}` with `author = owner`.
fn catalog_model(owner: &str, name: &str) -> CatalogModel {
    CatalogModel {
        id: format!("{owner}/{name}"),
        author: Some(owner.to_owned()),
        task: None,
        library: None,
        languages: vec![],
        license: None,
        tags: vec![],
        downloads: 0,
        downloads_all_time: None,
        likes: 0,
        trending_score: 0.0,
        created_at: None,
        updated_at: None,
        gated: "false".into(),
        private: false,
        sha: None,
        files: vec![],
        card_data: None,
        source: CatalogSource::Synced,
        synced_at: at_ms(1_700_000_000_000),
    }
}

/// A fully populated model.
fn rich_model(owner: &str, name: &str) -> CatalogModel {
    CatalogModel {
        task: Some("feature-extraction".into()),
        library: Some("sentence-transformers".into()),
        languages: vec!["en".into(), "de".into()],
        license: Some("apache-2.0".into()),
        tags: vec![
            "sentence-transformers".into(),
            "feature-extraction".into(),
            "en".into(),
            "license:apache-2.0".into(),
            "dataset:s2orc".into(),
        ],
        downloads: 72_376_843,
        downloads_all_time: Some(1_234_567_890_123),
        likes: 2065,
        trending_score: 12.5,
        created_at: Some(at_ms(1_646_263_744_000)),
        updated_at: Some(at_ms(1_708_340_772_000)),
        gated: "auto".into(),
        private: true,
        sha: Some("c9745ed1d9f207416be6d2e6f8de32d1f16199bf".into()),
        files: vec![
            ModelFile {
                path: "model.safetensors".into(),
                size: Some(90_868_376),
            },
            ModelFile {
                path: "1_Pooling/config.json".into(),
                size: None,
            },
        ],
        card_data: Some(serde_json::json!({
            "language": ["en"],
            "license": "apache-2.0",
            "model-index": [{ "name": "x", "results": [] }],
            "a.b": { "$weird": [1, 2.5, null, true, "Zoë 日本語"] },
            "big": 18_446_744_073_709_551_615_u64,
        })),
        source: CatalogSource::Imported,
        ..catalog_model(owner, name)
    }
}

async fn upsert(store: &dyn Store, models: &[CatalogModel]) -> UpsertCounts {
    store.upsert_models(models).await.expect("upsert_models")
}

async fn search(store: &dyn Store, query: CatalogQuery) -> CatalogPage {
    store
        .search_catalog(&query)
        .await
        .unwrap_or_else(|e| panic!("search_catalog({query:?}): {e}"))
}

fn page_ids(page: &CatalogPage) -> Vec<String> {
    page.items.iter().map(|m| m.id.clone()).collect()
}

fn sorted_ids(page: &CatalogPage) -> Vec<String> {
    let mut ids = page_ids(page);
    ids.sort();
    ids
}

fn by_author(author: &str) -> CatalogQuery {
    CatalogQuery {
        author: Some(author.to_owned()),
        limit: 100,
        ..CatalogQuery::default()
    }
}

fn facet(list: &[FacetCount]) -> Vec<(&str, u64)> {
    list.iter().map(|f| (f.value.as_str(), f.count)).collect()
}

pub async fn catalog_upsert_counts_and_round_trip(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let count_before = store.catalog_count().await.expect("catalog_count");
    assert_eq!(
        upsert(store.as_ref(), &[]).await,
        UpsertCounts::default(),
        "an empty batch does nothing"
    );
    let rich = rich_model(&ns, "all-MiniLM-L6-v2");
    let plain = catalog_model(&ns, "plain");
    assert_eq!(
        upsert(store.as_ref(), &[rich.clone(), plain.clone()]).await,
        UpsertCounts {
            inserted: 2,
            updated: 0
        },
        "two new models are inserted"
    );
    assert_eq!(
        store.catalog_count().await.expect("count"),
        count_before + 2
    );
    assert_eq!(
        store.catalog_model(&rich.id).await.expect("get"),
        Some(rich.clone()),
        "every field round-trips (files, card_data with odd keys, big numbers, unicode)"
    );
    assert_eq!(
        store.catalog_model(&plain.id).await.expect("get"),
        Some(plain.clone()),
        "empty and absent fields round-trip"
    );
    assert_eq!(
        upsert(store.as_ref(), &[rich.clone(), plain.clone()]).await,
        UpsertCounts::default(),
        "re-upserting identical models changes nothing"
    );

    let changed = CatalogModel {
        downloads: rich.downloads + 1,
        tags: vec!["only-this-tag".into()],
        ..rich.clone()
    };
    let third = catalog_model(&ns, "third");
    assert_eq!(
        upsert(
            store.as_ref(),
            &[plain.clone(), changed.clone(), third.clone()]
        )
        .await,
        UpsertCounts {
            inserted: 1,
            updated: 1
        },
        "unchanged, changed and new models in one batch"
    );
    assert_eq!(
        store.catalog_model(&rich.id).await.expect("get"),
        Some(changed.clone()),
        "an update replaces the whole model"
    );
    assert_eq!(
        store.catalog_count().await.expect("count"),
        count_before + 3
    );

    // One id several times in a batch (in any case): the last wins and counts once.
    let first = CatalogModel {
        likes: 1,
        ..catalog_model(&ns, "Dup")
    };
    let last = CatalogModel {
        likes: 3,
        ..catalog_model(&ns.to_uppercase(), "DUP")
    };
    let counts = upsert(
        store.as_ref(),
        &[
            first.clone(),
            CatalogModel {
                likes: 2,
                ..first.clone()
            },
            last.clone(),
        ],
    )
    .await;
    assert_eq!(
        counts,
        UpsertCounts {
            inserted: 1,
            updated: 0
        },
        "duplicates in a batch count once"
    );
    assert_eq!(
        store.catalog_model(&first.id).await.expect("get"),
        Some(last.clone()),
        "the last duplicate wins"
    );

    // What the store cannot keep exactly is normalized, the same way on every adapter.
    let odd = CatalogModel {
        trending_score: f64::NAN,
        created_at: Some(at_ms(1_700_000_000_123) + Duration::nanoseconds(456_789)),
        synced_at: at_ms(1_700_000_000_999) + Duration::nanoseconds(1),
        card_data: Some(serde_json::Value::Null),
        ..catalog_model(&ns, "odd")
    };
    upsert(store.as_ref(), std::slice::from_ref(&odd)).await;
    let stored = store
        .catalog_model(&odd.id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored.trending_score, 0.0, "a NaN score is stored as 0");
    assert_eq!(stored.created_at, Some(at_ms(1_700_000_000_123)));
    assert_eq!(stored.synced_at, at_ms(1_700_000_000_999));
    assert_eq!(stored.card_data, None, "card_data null is None");
    assert_eq!(
        upsert(store.as_ref(), &[odd]).await,
        UpsertCounts::default(),
        "re-upserting the un-normalized form is a no-op too"
    );
}

pub async fn catalog_get_by_id_case_insensitive(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let model = catalog_model(&format!("Org{ns}"), "Model-X_v1.5");
    upsert(store.as_ref(), std::slice::from_ref(&model)).await;
    for probe in [
        model.id.clone(),
        model.id.to_lowercase(),
        model.id.to_uppercase(),
    ] {
        assert_eq!(
            store.catalog_model(&probe).await.expect("get"),
            Some(model.clone()),
            "{probe:?} finds the model, spelled as stored"
        );
    }
    let respelled = CatalogModel {
        id: model.id.to_lowercase(),
        ..model.clone()
    };
    assert_eq!(
        upsert(store.as_ref(), std::slice::from_ref(&respelled)).await,
        UpsertCounts {
            inserted: 0,
            updated: 1
        },
        "another spelling of an id is the same model"
    );
    assert_eq!(
        store.catalog_model(&model.id).await.expect("get"),
        Some(respelled),
        "the new spelling is kept"
    );
    let legacy = CatalogModel {
        id: format!("gpt2-{ns}"),
        author: None,
        ..catalog_model("x", "y")
    };
    upsert(store.as_ref(), std::slice::from_ref(&legacy)).await;
    assert_eq!(
        store
            .catalog_model(&legacy.id.to_uppercase())
            .await
            .expect("get"),
        Some(legacy),
        "a legacy id without owner"
    );
    for missing in [
        format!("{}/other", model.id),
        format!("Org{ns}"),
        format!("Org{ns}/Model-X"),
        String::new(),
    ] {
        assert_eq!(
            store.catalog_model(&missing).await.expect("get"),
            None,
            "{missing:?} is not a model"
        );
    }
}

/// The models of the text-search cases, all carrying `ns` as a token (in the name).
fn text_models(ns: &str) -> Vec<CatalogModel> {
    vec![
        CatalogModel {
            tags: vec!["feature-extraction".into(), "license:apache-2.0".into()],
            ..catalog_model("sentence-transformers", &format!("all-MiniLM-L6-v2-{ns}"))
        },
        CatalogModel {
            tags: vec!["fill-mask".into(), "en".into()],
            ..catalog_model("google-bert", &format!("bert-base-uncased-{ns}"))
        },
        CatalogModel {
            id: format!("gpt2-{ns}"),
            author: None,
            tags: vec!["text-generation".into()],
            ..catalog_model("x", "y")
        },
        catalog_model(ns, "Mini-Model_v1.5"),
        CatalogModel {
            tags: vec!["minimalist".into(), "région:eu".into()],
            ..catalog_model("acme", &format!("other-{ns}"))
        },
    ]
}

pub async fn catalog_text_search_tokens_and_prefixes(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let models = text_models(&ns);
    upsert(store.as_ref(), &models).await;
    let id = |i: usize| models[i].id.clone();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("mini", vec![id(0), id(3), id(4)]),
        ("MINI", vec![id(0), id(3), id(4)]),
        ("MiniLM", vec![id(0)]),
        ("sentence-trans", vec![id(0)]),
        ("Sentence Transformers", vec![id(0)]),
        ("all-MiniLM-L6-v2", vec![id(0)]),
        ("l6 v2", vec![id(0)]),
        ("v2 l6", vec![id(0)]),
        ("l6 bert", vec![]),
        ("bert", vec![id(1)]),
        ("ber", vec![id(1)]),
        ("google", vec![id(1)]),
        ("uncased base", vec![id(1)]),
        ("apache", vec![id(0)]),
        ("license", vec![id(0)]),
        ("en", vec![id(1)]),
        ("gpt2", vec![id(2)]),
        ("gpt", vec![id(2)]),
        ("text-gen", vec![id(2)]),
        ("v1", vec![id(3)]),
        ("v1.5", vec![id(3)]),
        ("1.5", vec![]),
        ("model_v1", vec![id(3)]),
        ("minimalist", vec![id(4)]),
        ("RÉGION", vec![id(4)]),
        ("acme", vec![id(4)]),
        // Prefixes only: no infix or suffix matches.
        ("inilm", vec![]),
        ("ncased", vec![]),
        ("xyz", vec![]),
    ];
    for (text, mut expected) in cases {
        expected.sort();
        let page = search(
            store.as_ref(),
            CatalogQuery {
                text: Some(format!("{text} {ns}")),
                limit: 100,
                ..CatalogQuery::default()
            },
        )
        .await;
        assert_eq!(sorted_ids(&page), expected, "text {text:?}");
        assert_eq!(page.total, expected.len() as u64, "total of text {text:?}");
    }
    let all = search(
        store.as_ref(),
        CatalogQuery {
            text: Some(ns.to_uppercase()),
            limit: 100,
            ..CatalogQuery::default()
        },
    )
    .await;
    assert_eq!(all.total, 5, "the namespace token alone matches all five");

    // No tokens at all: no text condition.
    let own = search(store.as_ref(), by_author(&ns)).await;
    assert_eq!(page_ids(&own), vec![id(3)]);
    for blank in ["", "   ", ".*", " - / _ . "] {
        let page = search(
            store.as_ref(),
            CatalogQuery {
                text: Some(blank.into()),
                ..by_author(&ns)
            },
        )
        .await;
        assert_eq!(page, own, "text {blank:?} has no tokens");
    }

    // Tokens are compared on their first 100 characters.
    let long = catalog_model(&ns, &"b".repeat(150));
    upsert(store.as_ref(), std::slice::from_ref(&long)).await;
    for (text, found) in [
        ("b".repeat(150), true),
        ("b".repeat(100), true),
        (format!("{}c", "b".repeat(120)), true),
        (format!("{}c", "b".repeat(99)), false),
    ] {
        let page = search(
            store.as_ref(),
            CatalogQuery {
                text: Some(format!("{text} {ns}")),
                ..CatalogQuery::default()
            },
        )
        .await;
        let expected = if found { vec![long.id.clone()] } else { vec![] };
        assert_eq!(
            page_ids(&page),
            expected,
            "a {}-character token",
            text.len()
        );
    }
}

pub async fn catalog_text_special_characters_are_inert(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let models = text_models(&ns);
    upsert(store.as_ref(), &models).await;
    let weird = CatalogModel {
        id: format!("{ns}/weird.*(model)$[x]"),
        tags: vec!["{\"$ne\":null}".into(), "' OR 1=1 --".into()],
        ..catalog_model(&ns, "unused")
    };
    upsert(store.as_ref(), std::slice::from_ref(&weird)).await;
    assert_eq!(
        store.catalog_model(&weird.id).await.expect("get"),
        Some(weird.clone()),
        "an id full of operators is stored and found literally"
    );
    for probe in [
        ".*", "^", "$", "(", "'", "\"", "*", "%", "_", "\\", "[x]", "$where",
    ] {
        assert_eq!(
            store.catalog_model(probe).await.expect("get"),
            None,
            "id {probe:?}"
        );
    }
    let count = |text: String| {
        let store = store.clone();
        async move {
            search(
                store.as_ref(),
                CatalogQuery {
                    text: Some(text),
                    limit: 100,
                    ..CatalogQuery::default()
                },
            )
            .await
        }
    };
    let mini = sorted_ids(&count(format!("mini {ns}")).await);
    assert_eq!(mini.len(), 3);
    let mut all_six: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    all_six.push(weird.id.clone());
    all_six.sort();
    // Operators are separators: these are the token lists [mini, ns], [ns] and so on.
    for (text, expected) in [
        (format!(".*mini$ {ns}"), mini.clone()),
        (format!("(mini) \"{ns}\""), mini.clone()),
        (format!("^mini* '{ns}'"), mini.clone()),
        (format!("mini\\ {ns}\\"), mini.clone()),
        (format!("mini\" OR \"1 {ns}"), vec![]),
        (format!("{ns}*"), all_six.clone()),
        (format!("* {ns} *"), all_six.clone()),
        (format!("{ns} NEAR(mini"), vec![]),
        (format!("{ns} AND"), vec![]),
        (format!("{ns} OR mini"), vec![]),
        (format!("{ns} NOT"), vec![]),
        (format!("{ns} tokens:mini"), vec![]),
        (format!("{{\"$regex\": \".*\"}} {ns}"), vec![]),
        (format!("{{\"$ne\":null}} {ns}"), vec![weird.id.clone()]),
        (format!("' OR 1=1 -- {ns}"), vec![weird.id.clone()]),
        (format!("weird.*(model)$ {ns}"), vec![weird.id.clone()]),
        (format!("{ns} [x]"), vec![weird.id.clone()]),
        (format!("{ns} {}", "a".repeat(5000)), vec![]),
    ] {
        assert_eq!(
            sorted_ids(&count(text.clone()).await),
            expected,
            "text {text:?}"
        );
    }
    for text in [
        "*", "\"", "'", "(", ")", "NEAR", "AND", "OR", "-", "^", "$", "\\", "\0", ":",
    ] {
        let page = search(
            store.as_ref(),
            CatalogQuery {
                text: Some(text.into()),
                ..CatalogQuery::default()
            },
        )
        .await;
        assert!(page.items.len() <= 20, "text {text:?} is harmless");
    }
    // Literal values of filters are never operators.
    for value in ["{\"$ne\":null}", ".*", "' OR 1=1 --", "$where", "%", "*"] {
        let page = search(
            store.as_ref(),
            CatalogQuery {
                task: Some(value.into()),
                library: Some(value.into()),
                ..CatalogQuery::default()
            },
        )
        .await;
        assert_eq!(page.total, 0, "filter value {value:?} matches literally");
        let page = search(
            store.as_ref(),
            CatalogQuery {
                author: Some(value.into()),
                ..CatalogQuery::default()
            },
        )
        .await;
        assert_eq!(page.total, 0, "author {value:?} matches literally");
        let page = search(
            store.as_ref(),
            CatalogQuery {
                language: Some(value.into()),
                license: Some(value.into()),
                ..CatalogQuery::default()
            },
        )
        .await;
        assert_eq!(page.total, 0, "language {value:?} matches literally");
    }
    let tagged = search(
        store.as_ref(),
        CatalogQuery {
            tags: vec!["{\"$ne\":null}".into()],
            ..by_author(&ns)
        },
    )
    .await;
    assert_eq!(
        page_ids(&tagged),
        vec![weird.id.clone()],
        "a tag matches literally"
    );
    let count_before = store.catalog_count().await.expect("count");
    for probe in [".*", "*", "%", "{\"$ne\":null}", ""] {
        assert!(
            !store.delete_catalog_model(probe).await.expect("delete"),
            "delete {probe:?} deletes nothing"
        );
    }
    assert_eq!(store.catalog_count().await.expect("count"), count_before);
}

/// The models of the filter cases, by author `ns`.
fn filter_models(ns: &str) -> Vec<CatalogModel> {
    vec![
        CatalogModel {
            task: Some("text-classification".into()),
            library: Some("transformers".into()),
            license: Some("apache-2.0".into()),
            languages: vec!["en".into(), "fr".into()],
            tags: vec!["x".into(), "y".into()],
            gated: "false".into(),
            ..catalog_model(ns, "m1")
        },
        CatalogModel {
            task: Some("text-classification".into()),
            library: Some("sentence-transformers".into()),
            license: Some("mit".into()),
            languages: vec!["en".into()],
            tags: vec!["x".into()],
            gated: "auto".into(),
            ..catalog_model(ns, "m2")
        },
        CatalogModel {
            task: Some("fill-mask".into()),
            library: Some("transformers".into()),
            license: None,
            languages: vec![],
            tags: vec!["y".into(), "z".into()],
            gated: "manual".into(),
            ..catalog_model(ns, "m3")
        },
        CatalogModel {
            task: None,
            library: None,
            license: Some("apache-2.0".into()),
            languages: vec!["de".into(), "en".into(), "en".into()],
            tags: vec!["x".into(), "y".into(), "z".into(), "x".into()],
            gated: "False".into(),
            ..catalog_model(ns, "m4")
        },
    ]
}

pub async fn catalog_filters_alone_and_combined(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let other = catalog_ns();
    let models = filter_models(&ns);
    upsert(store.as_ref(), &models).await;
    let foreign = CatalogModel {
        task: Some("text-classification".into()),
        tags: vec!["x".into()],
        ..catalog_model(&other, "m5")
    };
    upsert(store.as_ref(), std::slice::from_ref(&foreign)).await;
    let ids = |which: &[usize]| -> Vec<String> {
        let mut v: Vec<String> = which.iter().map(|i| models[*i].id.clone()).collect();
        v.sort();
        v
    };
    let mine = by_author(&ns);
    let cases: Vec<(&str, CatalogQuery, Vec<String>)> = vec![
        ("author only", mine.clone(), ids(&[0, 1, 2, 3])),
        (
            "author in another case",
            CatalogQuery {
                author: Some(ns.to_uppercase()),
                ..mine.clone()
            },
            ids(&[0, 1, 2, 3]),
        ),
        (
            "task",
            CatalogQuery {
                task: Some("text-classification".into()),
                ..mine.clone()
            },
            ids(&[0, 1]),
        ),
        (
            "task is case-sensitive",
            CatalogQuery {
                task: Some("Text-Classification".into()),
                ..mine.clone()
            },
            vec![],
        ),
        (
            "library",
            CatalogQuery {
                library: Some("transformers".into()),
                ..mine.clone()
            },
            ids(&[0, 2]),
        ),
        (
            "license",
            CatalogQuery {
                license: Some("apache-2.0".into()),
                ..mine.clone()
            },
            ids(&[0, 3]),
        ),
        (
            "language",
            CatalogQuery {
                language: Some("en".into()),
                ..mine.clone()
            },
            ids(&[0, 1, 3]),
        ),
        (
            "another language",
            CatalogQuery {
                language: Some("de".into()),
                ..mine.clone()
            },
            ids(&[3]),
        ),
        (
            "one tag",
            CatalogQuery {
                tags: vec!["x".into()],
                ..mine.clone()
            },
            ids(&[0, 1, 3]),
        ),
        (
            "two tags, all must match",
            CatalogQuery {
                tags: vec!["x".into(), "y".into()],
                ..mine.clone()
            },
            ids(&[0, 3]),
        ),
        (
            "three tags",
            CatalogQuery {
                tags: vec!["z".into(), "y".into(), "x".into()],
                ..mine.clone()
            },
            ids(&[3]),
        ),
        (
            "a repeated tag",
            CatalogQuery {
                tags: vec!["y".into(), "y".into()],
                ..mine.clone()
            },
            ids(&[0, 2, 3]),
        ),
        (
            "a tag nobody has",
            CatalogQuery {
                tags: vec!["x".into(), "nope".into()],
                ..mine.clone()
            },
            vec![],
        ),
        (
            "not gated",
            CatalogQuery {
                gated: Some(false),
                ..mine.clone()
            },
            ids(&[0, 3]),
        ),
        (
            "gated",
            CatalogQuery {
                gated: Some(true),
                ..mine.clone()
            },
            ids(&[1, 2]),
        ),
        (
            "everything at once",
            CatalogQuery {
                task: Some("text-classification".into()),
                library: Some("transformers".into()),
                license: Some("apache-2.0".into()),
                language: Some("en".into()),
                tags: vec!["x".into()],
                gated: Some(false),
                text: Some("m1".into()),
                ..mine.clone()
            },
            ids(&[0]),
        ),
        (
            "combined, nothing left",
            CatalogQuery {
                task: Some("fill-mask".into()),
                gated: Some(false),
                ..mine.clone()
            },
            vec![],
        ),
        (
            "blank filters are no filters",
            CatalogQuery {
                task: Some(String::new()),
                library: Some(String::new()),
                language: Some(String::new()),
                tags: vec![String::new()],
                ..mine.clone()
            },
            ids(&[0, 1, 2, 3]),
        ),
        (
            "the other author",
            by_author(&other),
            vec![foreign.id.clone()],
        ),
        (
            "text and filter across authors",
            CatalogQuery {
                text: Some(format!("{ns} {other}")),
                limit: 100,
                ..CatalogQuery::default()
            },
            vec![],
        ),
    ];
    for (what, query, expected) in cases {
        let page = search(store.as_ref(), query).await;
        assert_eq!(sorted_ids(&page), expected, "{what}");
        assert_eq!(page.total, expected.len() as u64, "total of {what}");
    }
}

/// The reference order of [`CatalogQuery`]: key, then lowercased id the opposite way.
fn expected_order(models: &[CatalogModel], sort: CatalogSort, descending: bool) -> Vec<String> {
    let mut sorted = models.to_vec();
    sorted.sort_by(|a, b| {
        let key = match sort {
            CatalogSort::Downloads => a.downloads.cmp(&b.downloads),
            CatalogSort::Likes => a.likes.cmp(&b.likes),
            CatalogSort::Trending => a.trending_score.total_cmp(&b.trending_score),
            CatalogSort::Updated => a.updated_at.cmp(&b.updated_at),
            CatalogSort::Created => a.created_at.cmp(&b.created_at),
        };
        let ids = a.id.to_lowercase().cmp(&b.id.to_lowercase());
        if descending {
            key.reverse().then(ids)
        } else {
            key.then(ids.reverse())
        }
    });
    sorted.into_iter().map(|m| m.id).collect()
}

pub async fn catalog_sorts_with_id_tie_break(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let t = |s: i64| Some(at_ms(1_700_000_000_000 + s * 1000));
    // name, downloads, likes, trending, created_at, updated_at
    type Row = (
        &'static str,
        i64,
        i64,
        f64,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: [Row; 7] = [
        ("b-model", 10, 5, 1.5, t(1), t(9)),
        ("A-model", 10, 5, 1.5, t(1), None),
        ("c-model", 30, 1, -2.0, None, t(3)),
        ("D-model", 20, 9, 100.25, t(5), t(3)),
        ("e-model", 0, 9, 0.0, t(2), None),
        ("f-model", 20, 0, 1.5, t(5), t(1)),
        ("G", 10, 5, 0.5, None, t(9)),
    ];
    let models: Vec<CatalogModel> = rows
        .iter()
        .map(
            |(name, downloads, likes, trending, created, updated)| CatalogModel {
                downloads: *downloads,
                likes: *likes,
                trending_score: *trending,
                created_at: *created,
                updated_at: *updated,
                ..catalog_model(&ns, name)
            },
        )
        .collect();
    upsert(store.as_ref(), &models).await;
    for sort in CatalogSort::ALL {
        let mut descending_list = Vec::new();
        for descending in [true, false] {
            let page = search(
                store.as_ref(),
                CatalogQuery {
                    sort,
                    descending,
                    ..by_author(&ns)
                },
            )
            .await;
            let expected = expected_order(&models, sort, descending);
            assert_eq!(
                page_ids(&page),
                expected,
                "sort {sort:?} descending={descending}"
            );
            if descending {
                descending_list = expected;
            } else {
                descending_list.reverse();
                assert_eq!(
                    page_ids(&page),
                    descending_list,
                    "ascending is the reverse of descending ({sort:?})"
                );
            }
            // The same order with a text condition (another code path on some adapters).
            let texted = search(
                store.as_ref(),
                CatalogQuery {
                    sort,
                    descending,
                    text: Some(ns.clone()),
                    limit: 100,
                    ..CatalogQuery::default()
                },
            )
            .await;
            assert_eq!(page_ids(&texted), page_ids(&page), "{sort:?} with text");
        }
    }
    let default = search(store.as_ref(), by_author(&ns)).await;
    assert_eq!(
        page_ids(&default),
        expected_order(&models, CatalogSort::Downloads, true),
        "the default order is downloads, descending"
    );
    assert_eq!(CatalogQuery::default().limit, 20);
    for sort in CatalogSort::ALL {
        assert_eq!(CatalogSort::parse(sort.as_str()), Some(sort));
    }
}

pub async fn catalog_pagination_and_totals(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let models: Vec<CatalogModel> = (0..7)
        .map(|i| CatalogModel {
            downloads: 100 - i,
            task: Some("fill-mask".into()),
            ..catalog_model(&ns, &format!("page-{i}"))
        })
        .collect();
    upsert(store.as_ref(), &models).await;
    let all: Vec<String> = models.iter().map(|m| m.id.clone()).collect();
    for query in [
        by_author(&ns),
        CatalogQuery {
            text: Some(format!("page {ns}")),
            ..CatalogQuery::default()
        },
    ] {
        let page = |offset: u32, limit: u32| {
            let store = store.clone();
            let query = CatalogQuery {
                offset,
                limit,
                ..query.clone()
            };
            async move { search(store.as_ref(), query).await }
        };
        let mut collected = Vec::new();
        for (offset, expected_len) in [(0, 3), (3, 3), (6, 1)] {
            let p = page(offset, 3).await;
            assert_eq!(p.total, 7, "the total does not depend on the page");
            assert_eq!(p.items.len(), expected_len, "page at {offset}");
            assert_eq!(
                facet(&p.facets.tasks),
                vec![("fill-mask", 7)],
                "facets do not depend on the page"
            );
            collected.extend(page_ids(&p));
        }
        assert_eq!(collected, all, "pages concatenate to the full list");
        for offset in [7, 8, 1000, u32::MAX] {
            let p = page(offset, 3).await;
            assert!(p.items.is_empty(), "offset {offset} is past the end");
            assert_eq!(p.total, 7, "offset {offset} keeps the total");
            assert_eq!(facet(&p.facets.tasks), vec![("fill-mask", 7)]);
        }
        let none = page(0, 0).await;
        assert!(none.items.is_empty(), "limit 0 returns no items");
        assert_eq!(none.total, 7, "limit 0 still counts");
        assert_eq!(page(2, 100).await.items.len(), 5);
        assert_eq!(page_ids(&page(5, u32::MAX).await), all[5..].to_vec());
    }
}

pub async fn catalog_facets_follow_the_query(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let models = filter_models(&ns);
    upsert(store.as_ref(), &models).await;
    let all = search(store.as_ref(), by_author(&ns)).await;
    assert_eq!(all.total, 4);
    assert_eq!(
        facet(&all.facets.tasks),
        vec![("text-classification", 2), ("fill-mask", 1)],
        "count descending; a model without task is not counted"
    );
    assert_eq!(
        facet(&all.facets.libraries),
        vec![("transformers", 2), ("sentence-transformers", 1)]
    );
    assert_eq!(
        facet(&all.facets.licenses),
        vec![("apache-2.0", 2), ("mit", 1)]
    );
    assert_eq!(
        facet(&all.facets.languages),
        vec![("en", 3), ("de", 1), ("fr", 1)],
        "ties by value; a repeated language counts once per model"
    );
    let narrowed = search(
        store.as_ref(),
        CatalogQuery {
            tags: vec!["y".into()],
            ..by_author(&ns)
        },
    )
    .await;
    assert_eq!(narrowed.total, 3);
    assert_eq!(
        facet(&narrowed.facets.tasks),
        vec![("fill-mask", 1), ("text-classification", 1)],
        "facets count the matched models only"
    );
    assert_eq!(
        facet(&narrowed.facets.languages),
        vec![("en", 2), ("de", 1), ("fr", 1)]
    );
    let by_text = search(
        store.as_ref(),
        CatalogQuery {
            text: Some(format!("m2 {ns}")),
            ..CatalogQuery::default()
        },
    )
    .await;
    assert_eq!(by_text.total, 1);
    assert_eq!(
        facet(&by_text.facets.libraries),
        vec![("sentence-transformers", 1)]
    );
    // With a facet filter, that facet has one value holding every model that has one.
    let filtered = search(
        store.as_ref(),
        CatalogQuery {
            task: Some("text-classification".into()),
            ..by_author(&ns)
        },
    )
    .await;
    assert_eq!(
        facet(&filtered.facets.tasks),
        vec![("text-classification", filtered.total)]
    );
    let nothing = search(
        store.as_ref(),
        CatalogQuery {
            tags: vec!["nope".into()],
            ..by_author(&ns)
        },
    )
    .await;
    assert_eq!(nothing.total, 0);
    assert_eq!(
        nothing.facets,
        Facets::default(),
        "no models, no facet values"
    );

    // At most 50 values per facet, count descending then value.
    let many: Vec<CatalogModel> = (0..55)
        .map(|i| CatalogModel {
            library: Some(format!("lib-{:02}", 54 - i)),
            task: Some(if i < 3 { "rare" } else { "common" }.into()),
            ..catalog_model(&format!("{ns}x"), &format!("many-{i}"))
        })
        .collect();
    let mut extra = many[0].clone();
    extra.id = format!("{ns}x/many-extra");
    upsert(store.as_ref(), &many).await;
    upsert(store.as_ref(), &[extra]).await;
    let capped = search(store.as_ref(), by_author(&format!("{ns}x"))).await;
    assert_eq!(capped.total, 56);
    assert_eq!(capped.facets.libraries.len(), Facets::MAX_VALUES);
    assert_eq!(
        capped.facets.libraries[0],
        FacetCount {
            value: "lib-54".into(),
            count: 2
        }
    );
    let rest: Vec<&str> = capped.facets.libraries[1..]
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    let expected: Vec<String> = (0..49).map(|i| format!("lib-{i:02}")).collect();
    assert_eq!(rest, expected, "ties ordered by value, the rest cut off");
    assert_eq!(
        facet(&capped.facets.tasks),
        vec![("common", 52), ("rare", 4)]
    );
    for m in &many {
        assert!(store.delete_catalog_model(&m.id).await.expect("delete"));
    }
    assert!(
        store
            .delete_catalog_model(&format!("{ns}x/many-extra"))
            .await
            .expect("delete")
    );
}

/// Checks the unfiltered page against filtered counts, whatever the catalog holds.
async fn check_unfiltered_consistency(store: &dyn Store) -> CatalogPage {
    let everything = search(store, CatalogQuery::default()).await;
    assert_eq!(
        everything.total,
        store.catalog_count().await.expect("count"),
        "the unfiltered total is the catalog size"
    );
    let filtered = |f: &FacetCount, which: &str| match which {
        "task" => CatalogQuery {
            task: Some(f.value.clone()),
            limit: 0,
            ..CatalogQuery::default()
        },
        "library" => CatalogQuery {
            library: Some(f.value.clone()),
            limit: 0,
            ..CatalogQuery::default()
        },
        "license" => CatalogQuery {
            license: Some(f.value.clone()),
            limit: 0,
            ..CatalogQuery::default()
        },
        _ => CatalogQuery {
            language: Some(f.value.clone()),
            limit: 0,
            ..CatalogQuery::default()
        },
    };
    let facets = &everything.facets;
    for (which, list) in [
        ("task", &facets.tasks),
        ("library", &facets.libraries),
        ("license", &facets.licenses),
        ("language", &facets.languages),
    ] {
        assert!(list.len() <= Facets::MAX_VALUES);
        assert!(
            list.windows(2).all(|w| w[0].count > w[1].count
                || (w[0].count == w[1].count && w[0].value < w[1].value)),
            "{which} facet order"
        );
        for f in list {
            let page = search(store, filtered(f, which)).await;
            assert_eq!(
                page.total, f.count,
                "unfiltered {which} count of {:?} matches a search by it",
                f.value
            );
        }
    }
    for sort in CatalogSort::ALL {
        for descending in [true, false] {
            let page = search(
                store,
                CatalogQuery {
                    sort,
                    descending,
                    limit: 60,
                    ..CatalogQuery::default()
                },
            )
            .await;
            let ids = page_ids(&page);
            assert_eq!(
                expected_order(&page.items, sort, descending),
                ids,
                "unfiltered page order, {sort:?} descending={descending}"
            );
        }
    }
    everything
}

pub async fn catalog_unfiltered_search(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let before = check_unfiltered_consistency(store.as_ref()).await;
    let task = format!("task-{ns}");
    let language = format!("lang-{ns}");
    let models: Vec<CatalogModel> = (0..3)
        .map(|i| CatalogModel {
            task: Some(task.clone()),
            license: Some(format!("license-{ns}")),
            languages: vec![language.clone(), language.clone()],
            downloads: i64::MAX - i,
            ..catalog_model(&ns, &format!("u{i}"))
        })
        .collect();
    upsert(store.as_ref(), &models).await;
    let after = check_unfiltered_consistency(store.as_ref()).await;
    assert_eq!(after.total, before.total + 3);
    assert_eq!(
        page_ids(&after)[..3].to_vec(),
        models.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        "the most downloaded models come first"
    );
    let count_of = |page: &CatalogPage, value: &str| {
        page.facets
            .tasks
            .iter()
            .chain(&page.facets.languages)
            .chain(&page.facets.licenses)
            .find(|f| f.value == value)
            .map(|f| f.count)
    };
    assert_eq!(count_of(&after, &task), Some(3));
    assert_eq!(count_of(&after, &language), Some(3), "once per model");

    let moved = CatalogModel {
        task: Some(format!("moved-{ns}")),
        languages: vec![],
        ..models[0].clone()
    };
    upsert(store.as_ref(), &[moved]).await;
    let updated = check_unfiltered_consistency(store.as_ref()).await;
    assert_eq!(
        count_of(&updated, &task),
        Some(2),
        "an update moves the count"
    );
    assert_eq!(count_of(&updated, &format!("moved-{ns}")), Some(1));
    assert_eq!(count_of(&updated, &language), Some(2));

    for m in &models {
        assert!(store.delete_catalog_model(&m.id).await.expect("delete"));
    }
    let cleaned = check_unfiltered_consistency(store.as_ref()).await;
    assert_eq!(cleaned.total, before.total);
    for value in [
        task,
        language,
        format!("moved-{ns}"),
        format!("license-{ns}"),
    ] {
        assert_eq!(count_of(&cleaned, &value), None, "{value} is gone");
    }
    let past = search(
        store.as_ref(),
        CatalogQuery {
            offset: u32::try_from(cleaned.total).unwrap_or(u32::MAX),
            ..CatalogQuery::default()
        },
    )
    .await;
    assert!(past.items.is_empty());
    assert_eq!(past.total, cleaned.total);
}

pub async fn catalog_revision_and_delete(store: Arc<dyn Store>) {
    let ns = catalog_ns();
    let revision = || {
        let store = store.clone();
        async move { store.catalog_revision().await.expect("catalog_revision") }
    };
    let r0 = revision().await;
    let model = CatalogModel {
        tags: vec!["deletable".into()],
        task: Some(format!("task-{ns}")),
        ..catalog_model(&ns, "Gone-Soon")
    };
    upsert(store.as_ref(), std::slice::from_ref(&model)).await;
    let r1 = revision().await;
    assert!(r1 > r0, "an insert increases the revision");

    store.catalog_model(&model.id).await.expect("get");
    search(store.as_ref(), by_author(&ns)).await;
    store.catalog_count().await.expect("count");
    assert_eq!(revision().await, r1, "reads leave the revision");
    assert_eq!(revision().await, r1, "reading the revision leaves it");
    upsert(store.as_ref(), std::slice::from_ref(&model)).await;
    assert_eq!(revision().await, r1, "a no-op upsert leaves the revision");
    upsert(store.as_ref(), &[]).await;
    assert_eq!(revision().await, r1);

    let liked = CatalogModel {
        likes: 1,
        ..model.clone()
    };
    upsert(store.as_ref(), &[liked]).await;
    let r2 = revision().await;
    assert!(r2 > r1, "an update increases the revision");

    let count = store.catalog_count().await.expect("count");
    assert!(
        !store
            .delete_catalog_model(&format!("{ns}/other"))
            .await
            .expect("delete")
    );
    assert_eq!(revision().await, r2, "deleting nothing leaves the revision");
    assert!(
        store
            .delete_catalog_model(&model.id.to_uppercase())
            .await
            .expect("delete"),
        "delete is case-insensitive"
    );
    let r3 = revision().await;
    assert!(r3 > r2, "a delete increases the revision");
    assert_eq!(store.catalog_count().await.expect("count"), count - 1);
    assert_eq!(store.catalog_model(&model.id).await.expect("get"), None);
    assert!(
        !store.delete_catalog_model(&model.id).await.expect("delete"),
        "a second delete is false"
    );
    assert_eq!(revision().await, r3);
    for query in [
        by_author(&ns),
        CatalogQuery {
            text: Some(format!("gone {ns}")),
            ..CatalogQuery::default()
        },
        CatalogQuery {
            tags: vec!["deletable".into()],
            ..by_author(&ns)
        },
        CatalogQuery {
            task: Some(format!("task-{ns}")),
            ..CatalogQuery::default()
        },
    ] {
        let page = search(store.as_ref(), query.clone()).await;
        assert_eq!(page.total, 0, "a deleted model is not found by {query:?}");
        assert_eq!(page.facets, Facets::default());
    }
    assert_eq!(
        upsert(store.as_ref(), std::slice::from_ref(&model)).await,
        UpsertCounts {
            inserted: 1,
            updated: 0
        },
        "a deleted id can be inserted again"
    );
    assert!(revision().await > r3);
    let found = search(
        store.as_ref(),
        CatalogQuery {
            text: Some(format!("gone {ns}")),
            ..CatalogQuery::default()
        },
    )
    .await;
    assert_eq!(page_ids(&found), vec![model.id.clone()], "and found again");
}

// ---------------------------------------------------------------------------------------
// Deployments

async fn new_deployment(store: &dyn Store, team: &Team, user: &User, name: &str) -> Deployment {
    match store
        .create_deployment(NewDeployment {
            team_id: team.id.clone(),
            name: name.into(),
            model_id: "sentence-transformers/all-MiniLM-L6-v2".into(),
            target: "local".into(),
            task: "feature-extraction".into(),
            spec: serde_json::json!({ "revision": "main", "scaling": { "min_replicas": 0 } }),
            created_by: user.id.clone(),
            idempotency_key: None,
            request_hash: None,
        })
        .await
        .expect("create_deployment")
    {
        Created::New(d) => d,
        Created::Existing(_) => panic!("a create without idempotency key returned Existing"),
    }
}

async fn deployment_fixture(store: &dyn Store, tag: &str) -> (User, Team) {
    let user = new_user(store, tag).await;
    let team = new_team(store, &user, tag, false).await;
    (user, team)
}

pub async fn deployment_create_get_list(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-create").await;
    let first = new_deployment(&*store, &team, &user, "first").await;
    tick().await;
    let second = new_deployment(&*store, &team, &user, "second").await;
    assert_eq!(first.current_version, 1);
    assert_eq!(first.generation, 1);
    assert_eq!(first.observed_generation, 0);
    assert_eq!(first.desired, DesiredState::Running);
    assert_eq!(first.status, "pending");
    assert!(first.needs_reconcile(now()));
    let got = store.deployment_by_id(&first.id).await.unwrap().unwrap();
    assert_eq!(got, first, "read returns what create returned");
    let listed = store.deployments_for_team(&team.id).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [second.id.as_str(), first.id.as_str()], "newest first");
    let versions = store.deployment_versions(&first.id).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].spec, first.spec);
    let events = store.deployment_events(&first.id, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "created");
    assert!(
        store
            .deployment_by_id("no-such-id")
            .await
            .unwrap()
            .is_none()
    );
    let err = store
        .create_deployment(NewDeployment {
            team_id: team.id.clone(),
            name: "first".into(),
            model_id: "m/x".into(),
            target: "local".into(),
            task: "feature-extraction".into(),
            spec: serde_json::json!({}),
            created_by: user.id.clone(),
            idempotency_key: None,
            request_hash: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict(conflict::DEPLOYMENT_NAME_TAKEN.into())
    );
    let err = store
        .create_deployment(NewDeployment {
            team_id: "no-such-team".into(),
            name: "x".into(),
            model_id: "m/x".into(),
            target: "local".into(),
            task: "feature-extraction".into(),
            spec: serde_json::json!({}),
            created_by: user.id.clone(),
            idempotency_key: None,
            request_hash: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::NotFound);
}

pub async fn deployment_idempotency_key(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-idem").await;
    let make = |name: &str, key: &str| NewDeployment {
        team_id: team.id.clone(),
        name: name.into(),
        model_id: "m/x".into(),
        target: "local".into(),
        task: "feature-extraction".into(),
        spec: serde_json::json!({ "env": { "$where": "1", "a.b": "c" } }),
        created_by: user.id.clone(),
        idempotency_key: Some(key.into()),
        request_hash: Some("hash-1".into()),
    };
    let Created::New(first) = store.create_deployment(make("a", "key-1")).await.unwrap() else {
        panic!("first create must be new");
    };
    assert_eq!(
        first.spec["env"]["$where"], "1",
        "operator-like keys are data"
    );
    let Created::Existing(again) = store.create_deployment(make("b", "key-1")).await.unwrap()
    else {
        panic!("same key must return the existing deployment");
    };
    assert_eq!(again.id, first.id);
    assert_eq!(again.request_hash.as_deref(), Some("hash-1"));
    assert_eq!(store.deployments_for_team(&team.id).await.unwrap().len(), 1);
    let Created::New(_) = store.create_deployment(make("c", "key-2")).await.unwrap() else {
        panic!("another key creates another deployment");
    };
    // Keys are per team.
    let (user2, team2) = deployment_fixture(&*store, "dep-idem2").await;
    let mut other = make("a", "key-1");
    other.team_id = team2.id.clone();
    other.created_by = user2.id.clone();
    assert!(matches!(
        store.create_deployment(other).await.unwrap(),
        Created::New(_)
    ));
}

pub async fn deployment_versions_compare_and_set(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-ver").await;
    let d = new_deployment(&*store, &team, &user, "v").await;
    let v2 = store
        .add_deployment_version(
            &d.id,
            1,
            serde_json::json!({ "revision": "abc" }),
            &user.id,
            "revision changed",
        )
        .await
        .unwrap();
    assert_eq!(v2.current_version, 2);
    assert_eq!(v2.generation, 2);
    assert_eq!(v2.spec, serde_json::json!({ "revision": "abc" }));
    let err = store
        .add_deployment_version(&d.id, 1, serde_json::json!({}), &user.id, "stale")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::Conflict(conflict::DEPLOYMENT_VERSION_MOVED.into())
    );
    let v3 = store
        .add_deployment_version(&d.id, 2, d.spec.clone(), &user.id, "rollback to v1")
        .await
        .unwrap();
    assert_eq!(v3.current_version, 3);
    assert_eq!(v3.spec, d.spec);
    let versions = store.deployment_versions(&d.id).await.unwrap();
    let numbers: Vec<u32> = versions.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(versions[0].note, "rollback to v1");
    assert_eq!(versions[2].spec, d.spec, "old versions never change");
    let err = store
        .add_deployment_version("no-such-id", 1, serde_json::json!({}), &user.id, "x")
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::NotFound);
    // Concurrent writers of the same expected version: exactly one wins.
    let mut handles = Vec::new();
    for i in 0..4 {
        let store = store.clone();
        let id = d.id.clone();
        let uid = user.id.clone();
        handles.push(tokio::spawn(async move {
            store
                .add_deployment_version(&id, 3, serde_json::json!({ "i": i }), &uid, "race")
                .await
        }));
    }
    let mut wins = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.deployment_versions(&d.id).await.unwrap().len(), 4);
}

pub async fn deployment_lease_is_exclusive(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-lease").await;
    let d = new_deployment(&*store, &team, &user, "l").await;
    let t0 = truncate_to_millis(now());
    let until = t0 + Duration::seconds(30);
    let a = store
        .acquire_deployment_lease(&d.id, "a", t0, until)
        .await
        .unwrap();
    assert_eq!(a.unwrap().lease_holder.as_deref(), Some("a"));
    assert!(
        store
            .acquire_deployment_lease(&d.id, "b", t0, until)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .acquire_deployment_lease(&d.id, "a", t0, until)
            .await
            .unwrap()
            .is_some(),
        "the holder may renew"
    );
    assert!(
        store
            .deployments_to_reconcile(t0, 100)
            .await
            .unwrap()
            .iter()
            .all(|id| id != &d.id),
        "leased deployments are not offered"
    );
    // After expiry another holder takes over.
    let later = until + Duration::seconds(1);
    let b = store
        .acquire_deployment_lease(&d.id, "b", later, later + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(b.unwrap().lease_holder.as_deref(), Some("b"));
    assert!(!store.release_deployment_lease(&d.id, "a").await.unwrap());
    assert!(store.release_deployment_lease(&d.id, "b").await.unwrap());
    assert!(
        store
            .acquire_deployment_lease("no-such", "a", t0, until)
            .await
            .unwrap()
            .is_none()
    );
    // Many contenders at once: one wins.
    let d2 = new_deployment(&*store, &team, &user, "l2").await;
    let mut handles = Vec::new();
    for i in 0..6 {
        let store = store.clone();
        let id = d2.id.clone();
        handles.push(tokio::spawn(async move {
            store
                .acquire_deployment_lease(&id, &format!("h{i}"), t0, until)
                .await
                .unwrap()
                .is_some()
        }));
    }
    let mut wins = 0;
    for h in handles {
        wins += usize::from(h.await.unwrap());
    }
    assert_eq!(wins, 1);
}

pub async fn deployment_observation_is_fenced(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-obs").await;
    let d = new_deployment(&*store, &team, &user, "o").await;
    let t0 = truncate_to_millis(now());
    assert!(
        store
            .deployments_to_reconcile(t0, 1000)
            .await
            .unwrap()
            .contains(&d.id)
    );
    let observation = |status: &str, next: Option<DateTime<Utc>>| Observation {
        status: status.into(),
        status_message: Some(format!("{status} now")),
        generation: 1,
        observed_version: Some(1),
        target_state: serde_json::json!({ "url": "http://x" }),
        endpoint_url: Some("http://x".into()),
        attempts: 0,
        next_attempt_at: next,
    };
    assert!(
        store
            .record_observation(&d.id, "nobody", t0, observation("running", None))
            .await
            .unwrap()
            .is_none(),
        "no lease, no write"
    );
    store
        .acquire_deployment_lease(&d.id, "r", t0, t0 + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    // A poll scheduled: still pending work, but not before it is due.
    let due = t0 + Duration::seconds(5);
    let polled = store
        .record_observation(&d.id, "r", t0, observation("provisioning", Some(due)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(polled.status, "provisioning");
    assert_eq!(polled.observed_generation, 1);
    assert_eq!(polled.next_attempt_at, Some(due));
    store.release_deployment_lease(&d.id, "r").await.unwrap();
    assert!(
        !store
            .deployments_to_reconcile(t0, 1000)
            .await
            .unwrap()
            .contains(&d.id)
    );
    assert!(
        store
            .deployments_to_reconcile(due, 1000)
            .await
            .unwrap()
            .contains(&d.id)
    );
    store
        .acquire_deployment_lease(&d.id, "r", due, due + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    let done = store
        .record_observation(&d.id, "r", due, observation("running", None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, "running");
    assert_eq!(done.endpoint_url.as_deref(), Some("http://x"));
    assert_eq!(done.target_state, serde_json::json!({ "url": "http://x" }));
    assert!(!done.needs_reconcile(due));
    store.release_deployment_lease(&d.id, "r").await.unwrap();
    assert!(
        !store
            .deployments_to_reconcile(due, 1000)
            .await
            .unwrap()
            .contains(&d.id)
    );
    // A desired-state change makes it pending again.
    let paused = store
        .set_desired_state(&d.id, DesiredState::Paused)
        .await
        .unwrap();
    assert_eq!(paused.desired, DesiredState::Paused);
    assert_eq!(paused.generation, 2);
    assert!(
        store
            .deployments_to_reconcile(due, 1000)
            .await
            .unwrap()
            .contains(&d.id)
    );
    // An observation of an older generation leaves the newer one pending.
    store
        .acquire_deployment_lease(&d.id, "r", due, due + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    let stale = store
        .record_observation(&d.id, "r", due, observation("running", Some(due)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stale.observed_generation, 1);
    assert!(stale.next_attempt_at.is_none());
    assert!(stale.needs_reconcile(due));
    // An expired lease cannot write.
    let late = due + Duration::seconds(31);
    assert!(
        store
            .record_observation(&d.id, "r", late, observation("running", None))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .set_deployment_status(&d.id, "scaled_to_zero", Some("idle"))
            .await
            .unwrap()
    );
    let got = store.deployment_by_id(&d.id).await.unwrap().unwrap();
    assert_eq!(got.status, "scaled_to_zero");
    assert_eq!(
        got.generation, 2,
        "status writes do not change the generation"
    );
    assert!(
        !store
            .set_deployment_status("no-such", "x", None)
            .await
            .unwrap()
    );
    let err = store
        .set_desired_state("no-such", DesiredState::Running)
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::NotFound);
}

pub async fn deployment_events_and_delete(store: Arc<dyn Store>) {
    let (user, team) = deployment_fixture(&*store, "dep-ev").await;
    let d = new_deployment(&*store, &team, &user, "e").await;
    for i in 0..5 {
        tick().await;
        store
            .add_deployment_event(NewDeploymentEvent {
                deployment_id: d.id.clone(),
                actor: (i % 2 == 0).then(|| user.id.clone()),
                kind: "status".into(),
                message: format!("event {i}"),
            })
            .await
            .unwrap();
    }
    let events = store.deployment_events(&d.id, 3).await.unwrap();
    let messages: Vec<_> = events.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages, ["event 4", "event 3", "event 2"]);
    assert_eq!(events[1].actor, None);
    assert!(store.delete_deployment(&d.id).await.unwrap());
    assert!(!store.delete_deployment(&d.id).await.unwrap());
    assert!(store.deployment_by_id(&d.id).await.unwrap().is_none());
    assert!(store.deployment_events(&d.id, 10).await.unwrap().is_empty());
    assert!(store.deployment_versions(&d.id).await.unwrap().is_empty());
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every case, by name.
        pub const CASES: &[(&str, CaseFn)] = &[$((stringify!($name), |s| Box::pin($name(s)))),*];
    };
}

cases!(
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

/// Runs every case in turn (each in its own task, so one failure does not stop the rest),
/// prints one line per case to stderr, and panics listing the failed cases.
pub async fn run_all(store: Arc<dyn Store>) {
    let backend = store.backend();
    let mut failed = Vec::new();
    for (name, case) in CASES {
        match tokio::spawn(case(store.clone())).await {
            Ok(()) => eprintln!("conformance[{backend}] {name} ... ok"),
            Err(e) => {
                let message = if e.is_panic() {
                    let panic = e.into_panic();
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_else(|| "panicked".into())
                } else {
                    e.to_string()
                };
                eprintln!("conformance[{backend}] {name} ... FAILED: {message}");
                failed.push(format!("{name}: {message}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} conformance cases failed on {backend}:\n{}",
        failed.len(),
        CASES.len(),
        failed.join("\n")
    );
    eprintln!("conformance[{backend}] all {} cases ok", CASES.len());
}
