//! One behaviour suite for every `BlobStore`: `LocalBlobStore` on a temporary folder and
//! `S3BlobStore` on moto_server (`HFB_TEST_S3_ENDPOINT`, default http://127.0.0.1:5055;
//! `scripts/test.sh` starts it). Every case gets a fresh store: a new folder, or a new
//! key prefix in a bucket this run creates.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use hfb_blob::{BlobError, BlobKey, BlobSettings, BlobStore, LocalBlobStore, S3BlobStore};
use tokio::io::{AsyncRead, ReadBuf};

type Case = for<'a> fn(&'a dyn BlobStore) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The suite: (name, case). Each case starts from an empty store.
const CASES: &[(&str, Case)] = &[
    ("put_get_head", |s| Box::pin(put_get_head(s))),
    ("put_is_idempotent", |s| Box::pin(put_is_idempotent(s))),
    ("absent_blob", |s| Box::pin(absent_blob(s))),
    ("delete_is_idempotent", |s| {
        Box::pin(delete_is_idempotent(s))
    }),
    ("empty_blob", |s| Box::pin(empty_blob(s))),
    ("put_reader_streams", |s| Box::pin(put_reader_streams(s))),
    ("put_file", |s| Box::pin(put_file(s))),
    ("list_by_prefix", |s| Box::pin(list_by_prefix(s))),
    ("failed_put_leaves_nothing", |s| {
        Box::pin(failed_put_leaves_nothing(s))
    }),
    ("concurrent_identical_puts", |s| {
        Box::pin(concurrent_identical_puts(s))
    }),
];

async fn put_get_head(store: &dyn BlobStore) {
    let bytes = b"{\"model\":\"sentence-transformers/all-MiniLM-L6-v2\"}".to_vec();
    let key = store.put(&bytes).await.unwrap();
    assert_eq!(key, BlobKey::for_bytes(&bytes));
    assert_eq!(store.get(&key).await.unwrap(), Some(bytes.clone()));
    assert_eq!(
        store.head(&key).await.unwrap().unwrap().size,
        bytes.len() as u64
    );
    assert!(store.exists(&key).await.unwrap());
}

async fn put_is_idempotent(store: &dyn BlobStore) {
    let first = store.put(b"same bytes").await.unwrap();
    let second = store.put(b"same bytes").await.unwrap();
    let streamed = store.put_reader(&mut &b"same bytes"[..]).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first, streamed);
    assert_eq!(store.list("").await.unwrap(), vec![first]);
}

async fn absent_blob(store: &dyn BlobStore) {
    let key = BlobKey::for_bytes(b"never stored");
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert_eq!(store.head(&key).await.unwrap(), None);
    assert!(!store.exists(&key).await.unwrap());
}

async fn delete_is_idempotent(store: &dyn BlobStore) {
    let key = store.put(b"short-lived").await.unwrap();
    store.delete(&key).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
    assert!(store.list("").await.unwrap().is_empty());
    store.delete(&key).await.unwrap();
    // Stored again after a delete: back, with the same key.
    assert_eq!(store.put(b"short-lived").await.unwrap(), key);
    assert_eq!(store.get(&key).await.unwrap().unwrap(), b"short-lived");
}

async fn empty_blob(store: &dyn BlobStore) {
    let key = store.put(b"").await.unwrap();
    assert_eq!(key, BlobKey::for_bytes(b""));
    assert_eq!(store.get(&key).await.unwrap(), Some(Vec::new()));
    assert_eq!(store.head(&key).await.unwrap().unwrap().size, 0);
}

/// A deterministic pseudo-random payload (no two chunks alike).
fn payload(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

async fn put_reader_streams(store: &dyn BlobStore) {
    // Larger than one read chunk, odd-sized, delivered in small uneven pieces.
    let bytes = payload(3 * 1024 * 1024 + 7);
    let mut reader = Trickle {
        data: bytes.clone(),
        pos: 0,
        step: 10_007,
        fail_at: None,
    };
    let key = store.put_reader(&mut reader).await.unwrap();
    assert_eq!(key, BlobKey::for_bytes(&bytes));
    assert_eq!(
        store.head(&key).await.unwrap().unwrap().size,
        bytes.len() as u64
    );
    assert!(store.get(&key).await.unwrap().unwrap() == bytes);
}

async fn put_file(store: &dyn BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifest.json");
    tokio::fs::write(&path, b"{\"version\":3}").await.unwrap();
    let key = store.put_file(&path).await.unwrap();
    assert_eq!(key, BlobKey::for_bytes(b"{\"version\":3}"));
    assert!(store.exists(&key).await.unwrap());
    let missing = store.put_file(&dir.path().join("missing")).await;
    assert!(matches!(missing, Err(BlobError::Input(_))), "{missing:?}");
}

async fn list_by_prefix(store: &dyn BlobStore) {
    let mut keys = Vec::new();
    for i in 0..12 {
        keys.push(store.put(format!("blob {i}").as_bytes()).await.unwrap());
    }
    keys.sort();
    assert_eq!(store.list("").await.unwrap(), keys);
    assert_eq!(store.list("sha256/").await.unwrap(), keys);
    let shard = &keys[0].as_str()[..9]; // "sha256/ab"
    let in_shard: Vec<BlobKey> = keys
        .iter()
        .filter(|k| k.as_str().starts_with(shard))
        .cloned()
        .collect();
    assert_eq!(store.list(shard).await.unwrap(), in_shard);
    let exact = store.list(keys[3].as_str()).await.unwrap();
    assert_eq!(exact, vec![keys[3].clone()]);
    assert!(store.list("sha256/zz").await.unwrap().is_empty());
}

async fn failed_put_leaves_nothing(store: &dyn BlobStore) {
    let bytes = payload(2 * 1024 * 1024);
    let mut reader = Trickle {
        data: bytes.clone(),
        pos: 0,
        step: 64 * 1024,
        fail_at: Some(1024 * 1024 + 5),
    };
    let err = store.put_reader(&mut reader).await.unwrap_err();
    assert!(
        matches!(err, BlobError::Input(ref m) if m.contains("connection reset")),
        "{err:?}"
    );
    assert!(
        store.list("").await.unwrap().is_empty(),
        "a failed put left a blob behind"
    );
    // Neither the full content nor the part read before the failure is visible.
    assert!(!store.exists(&BlobKey::for_bytes(&bytes)).await.unwrap());
    assert!(
        !store
            .exists(&BlobKey::for_bytes(&bytes[..1024 * 1024 + 5]))
            .await
            .unwrap()
    );
    // The store still works afterwards.
    let key = store.put(&bytes).await.unwrap();
    assert_eq!(store.list("").await.unwrap(), vec![key]);
}

async fn concurrent_identical_puts(store: &dyn BlobStore) {
    let bytes = payload(256 * 1024);
    let (a, b, c) = tokio::join!(store.put(&bytes), store.put(&bytes), store.put(&bytes));
    let key = a.unwrap();
    assert_eq!(b.unwrap(), key);
    assert_eq!(c.unwrap(), key);
    assert_eq!(store.get(&key).await.unwrap().unwrap(), bytes);
    assert_eq!(store.list("").await.unwrap(), vec![key]);
}

/// A reader that yields `data` `step` bytes at a time and, with `fail_at`, fails with
/// `ConnectionReset` once that many bytes were delivered.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail_at: Option<usize>,
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let end = self.fail_at.unwrap_or(self.data.len()).min(self.data.len());
        if self.fail_at.is_some() && self.pos >= end {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset mid-upload",
            )));
        }
        let n = self.step.min(end - self.pos).min(buf.remaining());
        let pos = self.pos;
        buf.put_slice(&self.data[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

async fn run_suite<F, Fut>(backend: &str, mut fresh_store: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Box<dyn BlobStore>>,
{
    for (name, case) in CASES {
        let store = fresh_store().await;
        assert_eq!(store.backend(), backend);
        eprintln!("{backend}: {name}");
        case(store.as_ref()).await;
    }
}

// ---------- local folder ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_conformance() {
    let root = tempfile::tempdir().unwrap();
    let mut n = 0;
    run_suite("local", || {
        n += 1;
        let dir = root.path().join(format!("case-{n}"));
        async move { Box::new(LocalBlobStore::open(dir).await.unwrap()) as Box<dyn BlobStore> }
    })
    .await;
}

#[tokio::test]
async fn local_failed_put_leaves_no_temporary_file() {
    let root = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(root.path()).await.unwrap();
    let mut reader = Trickle {
        data: payload(512 * 1024),
        pos: 0,
        step: 4096,
        fail_at: Some(100_000),
    };
    store.put_reader(&mut reader).await.unwrap_err();
    let mut tmp = tokio::fs::read_dir(root.path().join(".tmp")).await.unwrap();
    assert!(
        tmp.next_entry().await.unwrap().is_none(),
        "the partial temporary file was not removed"
    );
    store.check().await.unwrap();
    let mut tmp = tokio::fs::read_dir(root.path().join(".tmp")).await.unwrap();
    assert!(
        tmp.next_entry().await.unwrap().is_none(),
        "check() left its probe file"
    );
}

#[tokio::test]
async fn local_layout_and_corruption_detection() {
    let root = tempfile::tempdir().unwrap();
    let store = LocalBlobStore::open(root.path()).await.unwrap();
    let key = store.put(b"test").await.unwrap();
    let path = root
        .path()
        .join("sha256/9f/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    assert_eq!(store.path_of(&key), path);
    assert_eq!(std::fs::read(&path).unwrap(), b"test");

    // Same size, different content: a put does not rewrite it, a get reports it.
    std::fs::write(&path, b"tEst").unwrap();
    let err = store.get(&key).await.unwrap_err();
    assert!(matches!(err, BlobError::Corrupt { .. }), "{err:?}");
    let unverified = LocalBlobStore::open(root.path())
        .await
        .unwrap()
        .verify_reads(false);
    assert_eq!(unverified.get(&key).await.unwrap().unwrap(), b"tEst");

    // A truncated file (wrong size) is replaced by the next put of the same bytes.
    std::fs::write(&path, b"te").unwrap();
    store.put(b"test").await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().unwrap(), b"test");

    // Files that are not blobs are not listed.
    std::fs::write(root.path().join("sha256/9f/notes.txt"), b"x").unwrap();
    std::fs::write(root.path().join("sha256/README"), b"x").unwrap();
    assert_eq!(store.list("").await.unwrap(), vec![key]);
}

#[tokio::test]
async fn open_picks_local_without_a_bucket_and_s3_with_one() {
    let data = tempfile::tempdir().unwrap();
    let local = hfb_blob::open(&BlobSettings {
        data_dir: data.path().to_path_buf(),
        s3_bucket: Some("  ".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(local.backend(), "local");
    assert_eq!(
        local.location(),
        data.path().join("artifacts").display().to_string()
    );
    let key = local.put(b"manifest").await.unwrap();
    assert!(data.path().join("artifacts").join(key.as_str()).is_file());

    let s3 = hfb_blob::open(&BlobSettings {
        data_dir: data.path().to_path_buf(),
        s3_bucket: Some("hfb-artifacts".into()),
        s3_prefix: Some("prod".into()),
        s3_region: Some("eu-west-1".into()),
        s3_endpoint: Some(s3_endpoint()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(s3.backend(), "s3");
    assert_eq!(s3.location(), "s3://hfb-artifacts/prod/");
}

// ---------- S3 on moto_server ----------

fn s3_endpoint() -> String {
    std::env::var("HFB_TEST_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5055".into())
}

/// A client for moto, or a failure that says how to start moto.
async fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(s3_endpoint())
        .force_path_style(true)
        .credentials_provider(Credentials::new("test", "test", None, None, "hfb-tests"))
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    if let Err(e) = client.list_buckets().send().await {
        panic!(
            "moto_server does not answer at HFB_TEST_S3_ENDPOINT ({}): {}. Start it with \
             `pip install 'moto[server]' && moto_server -H 127.0.0.1 -p 5055` (scripts/test.sh \
             does this through scripts/lib/moto.sh)",
            s3_endpoint(),
            aws_sdk_s3::error::DisplayErrorContext(&e)
        );
    }
    client
}

/// A new, empty bucket on moto.
async fn test_bucket(client: &aws_sdk_s3::Client) -> String {
    let bucket = format!("hfb-test-{}", uuid::Uuid::new_v4().simple());
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    bucket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_conformance_on_moto() {
    let client = s3_client().await;
    let bucket = test_bucket(&client).await;
    let mut n = 0;
    run_suite("s3", || {
        n += 1;
        let store = S3BlobStore::new(client.clone(), &bucket, &format!("case-{n}"));
        async move { Box::new(store) as Box<dyn BlobStore> }
    })
    .await;
}

#[tokio::test]
async fn s3_objects_carry_the_prefix_and_a_sha256_checksum() {
    let client = s3_client().await;
    let bucket = test_bucket(&client).await;
    let store = S3BlobStore::new(client.clone(), &bucket, "/hfb/artifacts");
    assert_eq!(store.location(), format!("s3://{bucket}/hfb/artifacts/"));
    store.check().await.unwrap();
    let key = store.put(b"test").await.unwrap();
    let object_key = format!("hfb/artifacts/{}", key.as_str());
    assert_eq!(store.object_key(&key), object_key);
    let head = client
        .head_object()
        .bucket(&bucket)
        .key(&object_key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(4));
    // The SHA-256 S3 checked the upload against (base64 of sha256("test")). moto stores
    // it but does not verify it; S3 refuses a body that does not match.
    assert_eq!(
        head.checksum_sha256(),
        Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")
    );

    // Objects under the prefix that are not blobs are ignored by list.
    client
        .put_object()
        .bucket(&bucket)
        .key("hfb/artifacts/sha256/readme.txt")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(store.list("").await.unwrap(), vec![key.clone()]);

    // A tampered object is reported as corrupt.
    client
        .put_object()
        .bucket(&bucket)
        .key(&object_key)
        .body(b"tEst".to_vec().into())
        .send()
        .await
        .unwrap();
    let err = store.get(&key).await.unwrap_err();
    assert!(matches!(err, BlobError::Corrupt { .. }), "{err:?}");
}

#[tokio::test]
async fn s3_missing_bucket_is_a_typed_error_and_nothing_is_stored() {
    let client = s3_client().await;
    let missing = format!("hfb-missing-{}", uuid::Uuid::new_v4().simple());
    let store = S3BlobStore::new(client.clone(), &missing, "");
    let err = store.check().await.unwrap_err();
    assert!(
        matches!(err, BlobError::Backend(ref m) if m.contains("does not exist")),
        "{err:?}"
    );
    let err = store.put(b"artifact").await.unwrap_err();
    assert!(
        matches!(err, BlobError::Backend(ref m) if m.contains("NoSuchBucket")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    let err = store.put_reader(&mut &b"artifact"[..]).await.unwrap_err();
    assert!(matches!(err, BlobError::Backend(_)), "{err:?}");
    let err = store.list("").await.unwrap_err();
    assert!(
        matches!(err, BlobError::Backend(ref m) if m.contains("NoSuchBucket")),
        "{err:?}"
    );
    // The bucket was not created as a side effect.
    let buckets = client.list_buckets().send().await.unwrap();
    assert!(
        buckets
            .buckets()
            .iter()
            .all(|b| b.name() != Some(missing.as_str()))
    );
}

#[tokio::test]
async fn s3_unreachable_endpoint_is_retryable() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .credentials_provider(Credentials::new("test", "test", None, None, "hfb-tests"))
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .build();
    let store = S3BlobStore::new(aws_sdk_s3::Client::from_conf(config), "bucket", "");
    let err = store.put(b"x").await.unwrap_err();
    assert!(
        matches!(err, BlobError::Unavailable(_)) && err.is_retryable(),
        "{err:?}"
    );
}
