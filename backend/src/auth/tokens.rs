//! Access tokens (HS256 JWT, algorithm pinned on verification), refresh tokens (random,
//! stored only as HMAC-SHA256 hashes keyed by `JWT_REFRESH_SECRET`) and API keys
//! (random, `hfb_` prefix, stored as SHA-256 hashes: they carry 240 bits of entropy).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hfb_shared::auth::Scope;
use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
pub const REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
pub const API_KEY_PREFIX: &str = "hfb_";
/// Characters of a key shown in listings (`hfb_` + 8).
pub const API_KEY_DISPLAY_LEN: usize = 12;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session (refresh family) id.
    pub sid: String,
    /// The team this token acts for.
    pub team: String,
    /// Scopes at issue time; the request-time role still bounds them.
    pub scopes: Vec<Scope>,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is invalid")]
    Invalid,
}

pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    refresh_mac: Hmac<Sha256>,
}

#[derive(Debug, thiserror::Error)]
#[error("unusable token secret: {0}")]
pub struct KeyError(String);

impl TokenKeys {
    pub fn new(jwt_secret: &str, refresh_secret: &str) -> Result<Self, KeyError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Only HS256: `alg: none`, RS/ES confusion and any other algorithm are refused.
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        let key_error = |e: &dyn std::fmt::Display| KeyError(e.to_string());
        Ok(Self {
            encoding: EncodingKey::from_secret(jwt_secret.as_bytes()).map_err(|e| key_error(&e))?,
            decoding: DecodingKey::from_secret(jwt_secret.as_bytes()).map_err(|e| key_error(&e))?,
            validation,
            refresh_mac: <Hmac<Sha256> as KeyInit>::new_from_slice(refresh_secret.as_bytes())
                .map_err(|e| key_error(&e))?,
        })
    }

    pub fn issue_access(
        &self,
        user_id: &str,
        session_id: &str,
        team_id: &str,
        scopes: Vec<Scope>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            team: team_id.to_owned(),
            scopes,
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TTL.as_secs() as i64,
            jti: uuid::Uuid::new_v4().simple().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify_access(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }

    /// The stored form of a refresh token.
    pub fn refresh_hash(&self, token: &str) -> String {
        let mut mac = self.refresh_mac.clone();
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// `bytes` random bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A new API key: `hfb_` and 40 random URL-safe characters.
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_token(30))
}

pub fn api_key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn looks_like_api_key(token: &str) -> bool {
    token.starts_with(API_KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    fn keys() -> TokenKeys {
        TokenKeys::new(&"k".repeat(40), &"r".repeat(40)).unwrap()
    }

    fn issue(keys: &TokenKeys, at: chrono::DateTime<chrono::Utc>) -> String {
        keys.issue_access("u1", "s1", "t1", vec![Scope::Read], at)
            .unwrap()
    }

    #[test]
    fn a_fresh_token_verifies_with_its_claims() {
        let k = keys();
        let claims = k.verify_access(&issue(&k, chrono::Utc::now())).unwrap();
        assert_eq!(
            (
                claims.sub.as_str(),
                claims.sid.as_str(),
                claims.team.as_str()
            ),
            ("u1", "s1", "t1")
        );
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn expired_tampered_foreign_and_unsigned_tokens_are_refused() {
        let k = keys();
        let old = issue(&k, chrono::Utc::now() - chrono::Duration::hours(1));
        assert_eq!(k.verify_access(&old), Err(TokenError::Expired));

        let good = issue(&k, chrono::Utc::now());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(&parts[1]).unwrap()).unwrap();
        claims["team"] = "someone-elses-team".into();
        parts[1] = B64.encode(serde_json::to_vec(&claims).unwrap());
        assert_eq!(
            k.verify_access(&parts.join(".")),
            Err(TokenError::Invalid),
            "tampered payload"
        );

        let other = TokenKeys::new(&"x".repeat(40), &"r".repeat(40)).unwrap();
        assert_eq!(
            k.verify_access(&issue(&other, chrono::Utc::now())),
            Err(TokenError::Invalid),
            "wrong key"
        );

        let none_header = B64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            k.verify_access(&unsigned),
            Err(TokenError::Invalid),
            "alg none"
        );

        let hs512_header = B64.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
        let good_payload: Vec<&str> = good.split('.').collect();
        let other_alg = format!("{hs512_header}.{}.{}", good_payload[1], good_payload[2]);
        assert_eq!(
            k.verify_access(&other_alg),
            Err(TokenError::Invalid),
            "wrong algorithm"
        );
        assert_eq!(k.verify_access("garbage"), Err(TokenError::Invalid));
    }

    #[test]
    fn refresh_hashes_are_keyed_and_api_keys_recognisable() {
        let a = keys().refresh_hash("tok");
        let b = TokenKeys::new(&"k".repeat(40), &"other".repeat(10))
            .unwrap()
            .refresh_hash("tok");
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let key = new_api_key();
        assert!(looks_like_api_key(&key) && key.len() == 44, "{key}");
        assert_ne!(api_key_hash(&key), api_key_hash(&new_api_key()));
        assert_eq!(random_token(32).len(), 43);
    }
}
