//! Content-addressed blob storage for hfb behind one trait, [`BlobStore`].
//!
//! A blob's key is the SHA-256 of its bytes ([`BlobKey`], `sha256/ab/ab…`), so a put is
//! idempotent (the same bytes always land on the same key and are not written again) and
//! a reader can check what it got. No partial object is ever visible: a put either makes
//! the whole blob readable under its key or leaves the store as it was.
//!
//! - [`LocalBlobStore`]: a folder (default `<data_dir>/artifacts`); each blob is written
//!   to a temporary file on the same filesystem, fsynced, then renamed into place.
//! - [`S3BlobStore`]: an S3 bucket (optionally under a prefix) through aws-sdk-s3; each
//!   blob is one PutObject carrying its SHA-256, which S3 checks before storing it.
//!
//! [`open`] picks one from plain settings: S3 when a bucket is given, else the folder.

mod key;
mod local;
mod s3;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::AsyncRead;

pub use key::BlobKey;
pub use local::LocalBlobStore;
pub use s3::{S3BlobStore, S3Settings};

/// Folder under the data dir that [`open`] uses when no bucket is configured.
pub const DEFAULT_LOCAL_DIR: &str = "artifacts";

/// Blob store failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// A string is not a well-formed [`BlobKey`].
    #[error("invalid blob key {0:?}: expected sha256/<2 hex digits>/<64 lowercase hex digits>")]
    InvalidKey(String),
    /// Reading the input of a put failed; nothing was stored.
    #[error("reading the blob to store failed: {0}")]
    Input(String),
    /// The stored bytes no longer hash to their key.
    #[error("blob {key} is corrupt: its content hashes to sha256 {actual}")]
    Corrupt { key: BlobKey, actual: String },
    /// Local file system error.
    #[error("blob store I/O: {0}")]
    Io(String),
    /// The remote store is unreachable, timed out, throttled or failed on its side: retry later.
    #[error("blob store unavailable: {0}")]
    Unavailable(String),
    /// The remote store refused the request (missing bucket, access denied, …).
    #[error("blob store error: {0}")]
    Backend(String),
    /// The store could not be set up from its settings.
    #[error("blob store configuration: {0}")]
    Config(String),
}

impl BlobError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// What [`BlobStore::head`] tells about a stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobMeta {
    /// Size in bytes.
    pub size: u64,
}

/// A content-addressed blob store.
///
/// Keys come from the store ([`BlobStore::put`]) or from [`BlobKey::for_bytes`]; a blob
/// never changes once stored, so blobs can be cached forever by key.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// "local" or "s3".
    fn backend(&self) -> &'static str;

    /// Where blobs go, for logs and the admin page: a folder or `s3://bucket/prefix`.
    fn location(&self) -> String;

    /// Checks that the store is usable (the folder is writable, the bucket answers).
    async fn check(&self) -> Result<(), BlobError>;

    /// Stores `bytes` and returns their key. Storing bytes that are already present
    /// writes nothing and returns the same key.
    async fn put(&self, bytes: &[u8]) -> Result<BlobKey, BlobError>;

    /// Stores everything `reader` yields, without holding it in memory. If the reader
    /// fails, nothing becomes visible and [`BlobError::Input`] is returned.
    async fn put_reader(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<BlobKey, BlobError>;

    /// The blob's bytes, or `None` when it is absent.
    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError>;

    /// The blob's size, or `None` when it is absent.
    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError>;

    /// Whether the blob is present.
    async fn exists(&self, key: &BlobKey) -> Result<bool, BlobError> {
        Ok(self.head(key).await?.is_some())
    }

    /// Removes the blob; removing an absent blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;

    /// Keys whose string form starts with `prefix` (`""` for all, `sha256/ab` for one
    /// shard), sorted. Reads the whole listing: meant for maintenance, not hot paths.
    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError>;

    /// Stores the content of a file (streamed).
    async fn put_file(&self, path: &std::path::Path) -> Result<BlobKey, BlobError> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| BlobError::Input(format!("{}: {e}", path.display())))?;
        self.put_reader(&mut file).await
    }
}

/// Plain settings for [`open`]; the server's configuration fills them from its
/// environment (`S3_BUCKET`, …). AWS credentials come from the standard AWS chain
/// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles, SSO, container or instance roles).
#[derive(Debug, Clone, Default)]
pub struct BlobSettings {
    /// The server's data dir; the local store uses `<data_dir>/artifacts`.
    pub data_dir: PathBuf,
    /// The local folder, when not `<data_dir>/artifacts`.
    pub local_dir: Option<PathBuf>,
    /// S3 is used when this is set (and not empty).
    pub s3_bucket: Option<String>,
    /// Key prefix inside the bucket, e.g. `hfb/`.
    pub s3_prefix: Option<String>,
    /// Region; else the AWS chain's, else `us-east-1`.
    pub s3_region: Option<String>,
    /// A custom endpoint (MinIO, moto, another S3-compatible service).
    pub s3_endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); `None` means "on when a custom
    /// endpoint is set", which is what S3-compatible servers expect.
    pub s3_force_path_style: Option<bool>,
}

/// The store the settings describe: S3 when a bucket is set, else the local folder.
/// Does not contact S3; call [`BlobStore::check`] for that.
pub async fn open(settings: &BlobSettings) -> Result<Arc<dyn BlobStore>, BlobError> {
    match settings.s3_bucket.as_deref().map(str::trim) {
        Some(bucket) if !bucket.is_empty() => {
            let s3 = S3Settings {
                bucket: bucket.to_owned(),
                prefix: settings.s3_prefix.clone().unwrap_or_default(),
                region: settings.s3_region.clone(),
                endpoint: settings.s3_endpoint.clone(),
                force_path_style: settings.s3_force_path_style,
            };
            Ok(Arc::new(S3BlobStore::connect(&s3).await?))
        }
        _ => {
            let dir = settings
                .local_dir
                .clone()
                .unwrap_or_else(|| settings.data_dir.join(DEFAULT_LOCAL_DIR));
            Ok(Arc::new(LocalBlobStore::open(dir).await?))
        }
    }
}
