//! [`BlobKey`]: the content address of a blob, `sha256/<first two hex digits>/<64 hex digits>`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::BlobError;

const SCHEME: &str = "sha256/";
const HEX_LEN: usize = 64;
/// `sha256/` + two shard digits + `/` + 64 digits.
const KEY_LEN: usize = SCHEME.len() + 3 + HEX_LEN;

/// The content address of a blob: the SHA-256 of its bytes, sharded by the first byte so
/// that no folder (or S3 listing page) holds every blob, e.g.
/// `sha256/9f/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`.
///
/// Only well-formed keys exist: lowercase hex, shard equal to the first two digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    /// The key of `bytes`.
    pub fn for_bytes(bytes: &[u8]) -> Self {
        Self::from_digest(&Sha256::digest(bytes))
    }

    /// The key of a finished SHA-256 hash.
    pub(crate) fn from_digest(digest: &[u8]) -> Self {
        let digits = hex::encode(digest);
        Self(format!("{SCHEME}{}/{digits}", &digits[..2]))
    }

    /// The key for a SHA-256 given as 64 hex digits (either case).
    pub fn from_sha256_hex(hex: &str) -> Result<Self, BlobError> {
        let hex = hex.to_ascii_lowercase();
        if hex.len() != HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BlobError::InvalidKey(hex));
        }
        Ok(Self(format!("{SCHEME}{}/{hex}", &hex[..2])))
    }

    /// The full key, e.g. `sha256/ab/ab12…`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 64 lowercase hex digits of the SHA-256.
    pub fn sha256_hex(&self) -> &str {
        &self.0[KEY_LEN - HEX_LEN..]
    }
}

impl FromStr for BlobKey {
    type Err = BlobError;

    /// Accepts exactly the form [`BlobKey::as_str`] produces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || BlobError::InvalidKey(s.to_owned());
        let rest = s.strip_prefix(SCHEME).ok_or_else(invalid)?;
        let (shard, hex) = rest.split_once('/').ok_or_else(invalid)?;
        let lower_hex = |t: &str| t.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if hex.len() != HEX_LEN || !lower_hex(hex) || shard != &hex[..2] {
            return Err(invalid());
        }
        Ok(Self(s.to_owned()))
    }
}

impl TryFrom<String> for BlobKey {
    type Error = BlobError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<BlobKey> for String {
    fn from(key: BlobKey) -> Self {
        key.0
    }
}

impl AsRef<str> for BlobKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobKey({})", self.0)
    }
}

impl Serialize for BlobKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BlobKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SHA-256 of "test" (FIPS 180-2 style known answer, checked with `sha256sum`).
    const TEST_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn key_of_known_bytes() {
        let key = BlobKey::for_bytes(b"test");
        assert_eq!(key.as_str(), format!("sha256/9f/{TEST_SHA}"));
        assert_eq!(key.sha256_hex(), TEST_SHA);
        assert_eq!(BlobKey::for_bytes(b"").sha256_hex(), EMPTY_SHA);
    }

    #[test]
    fn parse_round_trips_and_rejects_malformed_keys() {
        let key = BlobKey::for_bytes(b"test");
        assert_eq!(key.as_str().parse::<BlobKey>().unwrap(), key);
        assert_eq!(
            BlobKey::from_sha256_hex(&TEST_SHA.to_uppercase()).unwrap(),
            key
        );
        for bad in [
            "",
            "sha256/",
            &format!("sha256/9e/{TEST_SHA}"), // wrong shard
            &format!("sha256/9F/{}", TEST_SHA.to_uppercase()), // uppercase
            &format!("sha1/9f/{TEST_SHA}"),
            &format!("sha256/9f/{}", &TEST_SHA[1..]), // 63 digits
            &format!("sha256/9f/{TEST_SHA}0"),
            &format!("sha256/9f/{TEST_SHA}/x"),
            &format!("sha256/9f/../{}", &TEST_SHA[3..]),
            &format!("sha256/9f/{}g", &TEST_SHA[..63]),
        ] {
            assert!(
                matches!(bad.parse::<BlobKey>(), Err(BlobError::InvalidKey(_))),
                "{bad:?} must be rejected"
            );
        }
        assert!(BlobKey::from_sha256_hex("xyz").is_err());
    }

    #[test]
    fn serde_uses_the_string_form_and_validates() {
        let key = BlobKey::for_bytes(b"test");
        let json = format!("\"sha256/9f/{TEST_SHA}\"");
        assert_eq!(serde_json::to_string(&key).unwrap(), json);
        assert_eq!(serde_json::from_str::<BlobKey>(&json).unwrap(), key);
        assert!(serde_json::from_str::<BlobKey>("\"sha256/00/00\"").is_err());
    }
}
