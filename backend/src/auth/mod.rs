//! Authentication and authorization.
//!
//! - [`password`]: argon2id hashes and the strength rule.
//! - [`tokens`]: HS256 access JWTs, opaque refresh tokens (stored as HMAC hashes), API keys.
//! - [`cookies`]: the httpOnly refresh cookie and the CSRF double-submit cookie.
//! - [`extract`]: the [`Principal`] extractor: bearer JWT or API key, per-principal rate limit.
//! - [`policy`]: which role may do what, and which scope each action needs (the one place).

pub mod cookies;
pub mod extract;
pub mod password;
pub mod policy;
pub mod tokens;

pub use extract::Principal;
pub use policy::Action;
