//! One behaviour suite every [`Store`] adapter must pass (feature `conformance`).
//!
//! Each case is a `pub async fn(Arc<dyn Store>)` that panics with a message on failure and
//! uses fresh random e-mails, so cases can share one database and run in any order.
//! [`CASES`] lists them all; [`run_all`] runs them in turn and reports every failure.
//! To add a case: write the function, add it to the `cases!` list at the bottom, and wire
//! it in `tests/sqlite.rs` (a test there fails when a case is not wired).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::{
    NewSession, NewUser, RotateOutcome, Session, Store, StoreError, User, UserUpdate,
    truncate_to_millis,
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

pub async fn ping_and_backend(store: Arc<dyn Store>) {
    store.ping().await.expect("ping on a healthy store");
    assert!(
        ["sqlite", "mongodb"].contains(&store.backend()),
        "backend() names the adapter, got {}",
        store.backend()
    );
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
    ping_and_backend,
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
