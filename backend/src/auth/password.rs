//! Password hashing (argon2id with the OWASP-recommended m=19 MiB, t=2, p=1, the
//! crate's defaults) and the strength rule. Hashing runs on the blocking pool: it is
//! deliberately slow and must not stall an HTTP worker.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::ApiError;

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// Why a password is refused, in words a person can act on; `None` when acceptable.
pub fn weakness(password: &str, email: &str, display_name: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Some(format!("must be at least {MIN_LEN} characters"));
    }
    if chars > MAX_LEN {
        return Some(format!("must be at most {MAX_LEN} characters"));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Some("must use at least 5 different characters".to_owned());
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Some("must not contain your e-mail address".to_owned());
    }
    let name = display_name.trim().to_lowercase();
    if name.len() >= 4 && lower.contains(&name) {
        return Some("must not contain your name".to_owned());
    }
    const COMMON: [&str; 12] = [
        "password",
        "123456",
        "qwerty",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "abc123",
        "monkey",
        "dragon",
        "football",
        "huggingface",
    ];
    // A well-known word plus a few characters is guessed early by every cracker.
    if COMMON
        .iter()
        .any(|c| lower.contains(c) && lower.replace(c, "").chars().count() < 6)
    {
        return Some("is too easy to guess; add unrelated words or characters".to_owned());
    }
    None
}

pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// Checks `password` against `stored`. With no stored hash (unknown account) it still
/// verifies against a fixed hash, so both cases take the same time.
pub async fn verify(stored: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let dummy = dummy_hash();
        let (phc, real) = match stored.as_deref() {
            Some(s) => (s, true),
            None => (dummy, false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"hfb timing equaliser for unknown accounts")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strength_rule_explains_itself() {
        let cases = [
            ("short", "at least 10"),
            ("aaaaaaaaaaaa", "5 different"),
            ("alice-rocks-2026!", "e-mail"),
            ("Password1234", "too easy"),
        ];
        for (pw, why) in cases {
            let reason = weakness(pw, "alice-rocks@example.com", "Alice").unwrap_or_default();
            assert!(reason.contains(why), "{pw}: {reason}");
        }
        assert_eq!(
            weakness("correct horse battery staple", "a@b.c", "Al"),
            None
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_do() {
        let h = hash("correct horse battery staple".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(h.clone()), "correct horse battery staple".into()).await);
        assert!(!verify(Some(h), "wrong horse battery staple".into()).await);
        assert!(!verify(None, "hfb timing equaliser for unknown accounts".into()).await);
        assert!(!verify(Some("not a phc string".into()), "x".into()).await);
    }
}
