//! [`LocalBlobStore`]: blobs as files in a folder.
//!
//! Layout: `<root>/sha256/<shard>/<hex>` for blobs and `<root>/.tmp/` for puts in
//! progress. A put writes a temporary file in `.tmp` (same filesystem), fsyncs it, renames
//! it into place and fsyncs the shard folder, so a blob file is either absent or complete,
//! even after a crash. Temporary files a crash left behind are removed on [`open`].
//!
//! [`open`]: LocalBlobStore::open

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::{BlobError, BlobKey, BlobMeta, BlobStore};

const BLOBS_DIR: &str = "sha256";
const TMP_DIR: &str = ".tmp";
/// Temporary files older than this are leftovers of a crash (a put takes seconds).
const STALE_TMP_AGE: Duration = Duration::from_secs(3600);
const CHUNK: usize = 64 * 1024;

/// Blobs stored as files under a root folder.
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    root: PathBuf,
    verify_reads: bool,
}

fn io_err(what: &str, path: &Path) -> impl FnOnce(std::io::Error) -> BlobError {
    let context = format!("{what} {}", path.display());
    move |e| BlobError::Io(format!("{context}: {e}"))
}

impl LocalBlobStore {
    /// Opens (creating it if needed) the store at `root` and removes stale temporary files.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let store = Self {
            root: root.into(),
            verify_reads: true,
        };
        for dir in [store.root.join(BLOBS_DIR), store.tmp_dir()] {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(io_err("creating", &dir))?;
        }
        store.remove_stale_temp_files().await;
        Ok(store)
    }

    /// Whether [`BlobStore::get`] re-hashes what it reads and reports
    /// [`BlobError::Corrupt`] on a mismatch (on by default).
    pub fn verify_reads(mut self, on: bool) -> Self {
        self.verify_reads = on;
        self
    }

    /// The store's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`'s blob.
    pub fn path_of(&self, key: &BlobKey) -> PathBuf {
        let hex = key.sha256_hex();
        self.root.join(BLOBS_DIR).join(&hex[..2]).join(hex)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    async fn remove_stale_temp_files(&self) {
        let dir = self.tmp_dir();
        let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
            return;
        };
        let now = SystemTime::now();
        while let Ok(Some(entry)) = entries.next_entry().await {
            let stale = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > STALE_TMP_AGE));
            if stale && let Err(e) = tokio::fs::remove_file(entry.path()).await {
                tracing::warn!(path = %entry.path().display(), "removing a stale temporary blob: {e}");
            }
        }
    }

    /// A new temporary file in `.tmp`, removed when the returned path is dropped.
    fn temp_file(&self) -> Result<(tokio::fs::File, TempPath), BlobError> {
        let dir = self.tmp_dir();
        let named = tempfile::Builder::new()
            .prefix("put-")
            .tempfile_in(&dir)
            .map_err(io_err("creating a temporary file in", &dir))?;
        let (file, path) = named.into_parts();
        Ok((tokio::fs::File::from_std(file), path))
    }

    /// Whether a complete blob of `size` bytes is at `path` already.
    async fn is_present(path: &Path, size: u64) -> Result<bool, BlobError> {
        match tokio::fs::metadata(path).await {
            Ok(meta) => Ok(meta.is_file() && meta.len() == size),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_err("reading", path)(e)),
        }
    }

    /// Makes a fully written temporary file the blob `key`: fsync, rename, fsync the folder.
    async fn commit(
        &self,
        mut file: tokio::fs::File,
        mut temp: TempPath,
        key: &BlobKey,
        size: u64,
    ) -> Result<(), BlobError> {
        file.flush().await.map_err(io_err("writing", &temp))?;
        file.sync_all().await.map_err(io_err("syncing", &temp))?;
        drop(file);
        let dest = self.path_of(key);
        if Self::is_present(&dest, size).await? {
            return Ok(()); // Same bytes stored before; `temp` is removed on drop.
        }
        let shard = dest.parent().unwrap_or(&self.root).to_path_buf();
        tokio::fs::create_dir_all(&shard)
            .await
            .map_err(io_err("creating", &shard))?;
        tokio::fs::rename(&temp, &dest)
            .await
            .map_err(io_err("moving a blob into", &dest))?;
        // The rename is done: the temporary path no longer exists and must not be cleaned up.
        temp.disable_cleanup(true);
        let dir = tokio::fs::File::open(&shard)
            .await
            .map_err(io_err("opening", &shard))?;
        dir.sync_all().await.map_err(io_err("syncing", &shard))?;
        Ok(())
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    fn backend(&self) -> &'static str {
        "local"
    }

    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn check(&self) -> Result<(), BlobError> {
        let (mut file, temp) = self.temp_file()?;
        file.write_all(b"probe")
            .await
            .map_err(io_err("writing", &temp))?;
        Ok(())
    }

    async fn put(&self, bytes: &[u8]) -> Result<BlobKey, BlobError> {
        let key = BlobKey::for_bytes(bytes);
        let size = bytes.len() as u64;
        if Self::is_present(&self.path_of(&key), size).await? {
            return Ok(key);
        }
        let (mut file, temp) = self.temp_file()?;
        file.write_all(bytes)
            .await
            .map_err(io_err("writing", &temp))?;
        self.commit(file, temp, &key, size).await?;
        Ok(key)
    }

    async fn put_reader(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<BlobKey, BlobError> {
        let (mut file, temp) = self.temp_file()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            // On any error `temp` is dropped, which removes the partial file.
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| BlobError::Input(e.to_string()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n])
                .await
                .map_err(io_err("writing", &temp))?;
            size += n as u64;
        }
        let key = BlobKey::from_digest(&hasher.finalize());
        self.commit(file, temp, &key, size).await?;
        Ok(key)
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path_of(key);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("reading", &path)(e)),
        };
        if self.verify_reads {
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != key.sha256_hex() {
                return Err(BlobError::Corrupt {
                    key: key.clone(),
                    actual,
                });
            }
        }
        Ok(Some(bytes))
    }

    async fn head(&self, key: &BlobKey) -> Result<Option<BlobMeta>, BlobError> {
        let path = self.path_of(key);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() => Ok(Some(BlobMeta { size: meta.len() })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("reading", &path)(e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path_of(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("removing", &path)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        let blobs = self.root.join(BLOBS_DIR);
        let mut shards = tokio::fs::read_dir(&blobs)
            .await
            .map_err(io_err("listing", &blobs))?;
        let mut keys = Vec::new();
        while let Some(shard) = shards
            .next_entry()
            .await
            .map_err(io_err("listing", &blobs))?
        {
            let Ok(shard_name) = shard.file_name().into_string() else {
                continue;
            };
            let shard_key = format!("{BLOBS_DIR}/{shard_name}/");
            if !shard_key.starts_with(prefix) && !prefix.starts_with(&shard_key) {
                continue;
            }
            let dir = shard.path();
            let mut files = match tokio::fs::read_dir(&dir).await {
                Ok(files) => files,
                Err(e) if e.kind() == ErrorKind::NotADirectory => continue,
                Err(e) => return Err(io_err("listing", &dir)(e)),
            };
            while let Some(file) = files.next_entry().await.map_err(io_err("listing", &dir))? {
                let Ok(name) = file.file_name().into_string() else {
                    continue;
                };
                if let Ok(key) = format!("{shard_key}{name}").parse::<BlobKey>()
                    && key.as_str().starts_with(prefix)
                {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}
