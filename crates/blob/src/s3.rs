//! [`S3BlobStore`]: blobs as objects in an S3 bucket, `<prefix>sha256/<shard>/<hex>`.
//!
//! Every put is a single PutObject that carries the blob's SHA-256
//! (`x-amz-checksum-sha256`): S3 stores the object only if the received bytes match, and
//! an interrupted upload stores nothing, so no partial object is ever visible. Streamed
//! puts are spooled to a temporary file first, because the key (the hash of all the
//! bytes) is only known at the end; a reader error therefore happens before anything is
//! sent. PutObject takes up to 5 GiB, far above hfb's artifacts (manifests, model files).

use std::path::PathBuf;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::{BlobError, BlobKey, BlobMeta, BlobStore};

/// Region used when neither the settings nor the AWS chain name one.
pub const DEFAULT_REGION: &str = "us-east-1";
const CHUNK: usize = 64 * 1024;

/// Where an [`S3BlobStore`] keeps its blobs. Credentials come from the standard AWS chain.
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket (`""` for none); a trailing `/` is added when missing.
    pub prefix: String,
    /// Region; else the AWS chain's (`AWS_REGION`, profile), else [`DEFAULT_REGION`].
    pub region: Option<String>,
    /// A custom endpoint (MinIO, moto, another S3-compatible service).
    pub endpoint: Option<String>,
    /// Path-style addressing; `None` means "on when `endpoint` is set".
    pub force_path_style: Option<bool>,
}

/// Blobs stored in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    prefix: String,
    verify_reads: bool,
    spool_dir: Option<PathBuf>,
}

impl S3BlobStore {
    /// A store on the bucket the settings name, with the standard AWS credential chain.
    /// Does not contact S3 (see [`BlobStore::check`]).
    pub async fn connect(settings: &S3Settings) -> Result<Self, BlobError> {
        if settings.bucket.trim().is_empty() {
            return Err(BlobError::Config("the S3 bucket name is empty".into()));
        }
        let region = RegionProviderChain::first_try(settings.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::from_static(DEFAULT_REGION));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(region);
        if let Some(endpoint) = &settings.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let sdk = loader.load().await;
        let path_style = settings
            .force_path_style
            .unwrap_or(settings.endpoint.is_some());
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(path_style)
            .build();
        Ok(Self::new(
            Client::from_conf(config),
            settings.bucket.trim(),
            &settings.prefix,
        ))
    }

    /// A store on `bucket` through a ready client; `prefix` as in [`S3Settings::prefix`].
    pub fn new(client: Client, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_start_matches('/');
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        Self {
            client,
            bucket: bucket.into(),
            prefix,
            verify_reads: true,
            spool_dir: None,
        }
    }

    /// Whether [`BlobStore::get`] re-hashes what it downloads (on by default).
    pub fn verify_reads(mut self, on: bool) -> Self {
        self.verify_reads = on;
        self
    }

    /// Folder for spooling streamed puts (default: the system temporary folder).
    pub fn spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key of a blob: the prefix followed by the blob key.
    pub fn object_key(&self, key: &BlobKey) -> String {
        format!("{}{}", self.prefix, key.as_str())
    }

    async fn size_of(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(out) => Ok(Some(
                out.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) => Err(sdk_error("HeadObject", e)),
        }
    }

    /// One PutObject, verified by S3 against the blob's SHA-256.
    async fn upload(
        &self,
        key: &BlobKey,
        digest: &[u8],
        size: u64,
        body: ByteStream,
    ) -> Result<(), BlobError> {
        let length = i64::try_from(size)
            .map_err(|_| BlobError::Backend(format!("blob of {size} bytes is too large")))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .content_length(length)
            .content_type("application/octet-stream")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(aws_smithy_types::base64::encode(digest))
            .body(body)
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(())
    }

    fn spool_file(&self) -> Result<tempfile::NamedTempFile, BlobError> {
        let mut builder = tempfile::Builder::new();
        builder.prefix("hfb-blob-");
        match &self.spool_dir {
            Some(dir) => builder.tempfile_in(dir),
            None => builder.tempfile(),
        }
        .map_err(|e| BlobError::Io(format!("creating a spool file for an S3 upload: {e}")))
    }
}

/// Maps an SDK failure to [`BlobError`]: network trouble, throttling and 5xx are
/// retryable ([`BlobError::Unavailable`]); other refusals carry S3's code and message.
fn sdk_error<E>(op: &str, err: SdkError<E>) -> BlobError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            BlobError::Unavailable(format!("{op}: {}", DisplayErrorContext(&err)))
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code().unwrap_or_default();
            let text = match (code, se.err().message()) {
                ("", _) => format!("{op}: HTTP {status}"),
                (code, Some(message)) => format!("{op}: {code}: {message}"),
                (code, None) => format!("{op}: {code} (HTTP {status})"),
            };
            let throttled = matches!(
                code,
                "SlowDown" | "RequestTimeout" | "Throttling" | "ThrottlingException"
            );
            if status >= 500 || status == 429 || throttled {
                BlobError::Unavailable(text)
            } else {
                BlobError::Backend(text)
            }
        }
        _ => BlobError::Backend(format!("{op}: {}", DisplayErrorContext(&err))),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn backend(&self) -> &'static str {
        "s3"
    }

    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    async fn check(&self) -> Result<(), BlobError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Err(
                BlobError::Backend(format!("bucket {:?} does not exist", self.bucket)),
            ),
            Err(e) => Err(sdk_error("HeadBucket", e)),
        }
    }

    async fn put(&self, bytes: &[u8]) -> Result<BlobKey, BlobError> {
        let digest = Sha256::digest(bytes);
        let key = BlobKey::from_digest(&digest);
        let size = bytes.len() as u64;
        if self.size_of(&key).await? == Some(size) {
            return Ok(key);
        }
        self.upload(&key, &digest, size, ByteStream::from(bytes.to_vec()))
            .await?;
        Ok(key)
    }

    async fn put_reader(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
    ) -> Result<BlobKey, BlobError> {
        // `temp` removes the spool file when dropped, on every path out of this function.
        let (file, temp) = self.spool_file()?.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let spool_err = |e: std::io::Error| BlobError::Io(format!("spooling an S3 upload: {e}"));
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; CHUNK];
        let mut size = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| BlobError::Input(e.to_string()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await.map_err(spool_err)?;
            size += n as u64;
        }
        file.flush().await.map_err(spool_err)?;
        drop(file);
        let digest = hasher.finalize();
        let key = BlobKey::from_digest(&digest);
        if self.size_of(&key).await? == Some(size) {
            return Ok(key);
        }
        let body = ByteStream::from_path(&temp)
            .await
            .map_err(|e| BlobError::Io(format!("reading the spool file: {e}")))?;
        self.upload(&key, &digest, size, body).await?;
        Ok(key)
    }

    async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Ok(None);
            }
            Err(e) => return Err(sdk_error("GetObject", e)),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(format!("GetObject {key}: {e}")))?
            .to_vec();
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
        Ok(self.size_of(key).await?.map(|size| BlobMeta { size }))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object_key(key))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, BlobError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(format!("{}{prefix}", self.prefix))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| sdk_error("ListObjectsV2", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key()?.strip_prefix(&self.prefix)?.parse().ok()),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}
