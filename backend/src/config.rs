//! Typed settings, read once at start from the environment (and an optional `.env`).
//!
//! Every setting is optional and has an embedded default, so `hfb` runs on a fresh
//! machine with no configuration. Secrets are wrapped in [`Secret`], whose `Debug`
//! and `Serialize` never show the value.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

/// A value that must never reach a log line or an API answer.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Development,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One JSON object per line (production, log shippers, CloudWatch).
    Json,
    /// Human-readable, coloured when a terminal (development).
    Pretty,
}

/// The server's settings. The README's configuration table lists the same names.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// `HFB_ENV`: `development` (default) or `production`. Production refuses
    /// generated secrets and defaults to JSON logs.
    pub environment: Environment,
    /// `HFB_BIND`: address to listen on; port 0 picks a free port. Default `127.0.0.1:3000`.
    pub bind: String,
    /// `PUBLIC_APP_URL`: the URL people use to reach hfb. Default `http://localhost:3000`.
    pub public_app_url: String,
    /// `HFB_DATA_DIR`: where embedded data lives (SQLite file, generated secrets,
    /// artifacts, models). Default `./data`.
    pub data_dir: PathBuf,
    /// `HFB_STATIC_DIR`: the built web app (trunk's `dist`). Default `./dist`.
    pub static_dir: PathBuf,
    /// `MONGODB_URI`: use MongoDB instead of the embedded SQLite store.
    pub mongodb_uri: Option<Secret>,
    /// `HFB_MONGODB_DATABASE`: database name inside MongoDB. Default `hfb`.
    pub mongodb_database: String,
    /// `REDIS_URL`: use Redis for cache, rate limits and pub/sub instead of in-process.
    pub redis_url: Option<Secret>,
    /// `JWT_SECRET`: signs access tokens. Generated and kept under the data dir in
    /// development when unset; required in production.
    pub jwt_secret: Secret,
    /// `JWT_REFRESH_SECRET`: keys the hashes of refresh tokens. Same rules as `JWT_SECRET`.
    pub jwt_refresh_secret: Secret,
    /// `HUGGING_FACE_API_KEY`: token for the Hugging Face Hub and Inference APIs.
    pub hugging_face_api_key: Option<Secret>,
    /// `HF_ENDPOINT`: the Hugging Face Hub base URL. Default `https://huggingface.co`.
    pub hf_endpoint: String,
    /// `AWS_REGION`: region for S3 and Lambda. Default `us-east-1`.
    pub aws_region: String,
    /// `S3_BUCKET`: store artifacts in this bucket instead of the data dir.
    pub s3_bucket: Option<String>,
    /// `HFB_LOG_FORMAT`: `json` or `pretty`. Default pretty in development, json in production.
    pub log_format: LogFormat,
    /// `HFB_LOG` (or `RUST_LOG`): tracing filter. Default `info`.
    pub log_filter: String,
    /// `HFB_WORKERS`: HTTP worker threads. Default: one per CPU core.
    pub workers: Option<usize>,
    /// `HFB_MAX_BODY_BYTES`: largest JSON body accepted. Default 1 MiB.
    pub max_body_bytes: usize,
    /// `HFB_WS_HEARTBEAT_MS`: WebSocket heartbeat interval. Default 5000.
    #[serde(with = "millis")]
    pub ws_heartbeat: Duration,
    /// `HFB_SHUTDOWN_TIMEOUT_SECS`: grace period for in-flight requests on shutdown. Default 30.
    pub shutdown_timeout_secs: u64,
    /// `HFB_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser
    /// (CORS with credentials). Default: none (same-origin only).
    pub cors_origins: Vec<String>,
    /// `HFB_TRUST_PROXY`: take the client IP from `X-Forwarded-For`/`Forwarded` (behind a
    /// load balancer). Default `false`: the TCP peer address.
    pub trust_proxy: bool,
    /// `HFB_RATE_LIMIT_AUTH_PER_MIN`: sign-up, login and refresh calls per client IP per minute. Default 20.
    pub rate_limit_auth_per_min: u32,
    /// `HFB_RATE_LIMIT_PER_MIN`: API calls per user or API key per minute. Default 1200.
    pub rate_limit_per_min: u32,
    /// `HFB_CATALOG_LIVE`: also ask the Hugging Face Hub for searches and models the local
    /// catalog lacks (when reachable). Default `true`; `false` for air-gapped installs.
    pub catalog_live: bool,
    /// `HFB_CATALOG_PUBLIC`: let anonymous visitors browse the catalog. Default `true`.
    pub catalog_public: bool,
    /// `HFB_CATALOG_CACHE_TTL_SECS`: how long search results stay cached. Default 300;
    /// 0 disables the cache (benchmarks).
    pub catalog_cache_ttl_secs: u64,
    /// `HFB_CATALOG_SYNC_INTERVAL_SECS`: how often the catalog copies the Hub's most
    /// downloaded models (when the Hub is enabled). Default 21600 (6 h); 0 disables.
    pub catalog_sync_interval_secs: u64,
    /// `HFB_CATALOG_SYNC_TOP`: how many of the most downloaded models each round copies. Default 1000.
    pub catalog_sync_top: u32,
    /// `HFB_HUB_PAGE_SIZE`: page size of the Hub-compatible listing when the client sends
    /// no `limit` (the client follows the `Link` header for more). Default 100.
    pub hub_page_size: u32,
    /// `HFB_ADMIN_EMAILS`: comma-separated e-mails of platform operators (catalog import).
    pub admin_emails: Vec<String>,
    /// `HFB_RECONCILE_INTERVAL_MS`: how often the deployment reconciler looks for work
    /// (it is also woken by every change). Default 1000.
    pub reconcile_interval_ms: u64,
    /// `HFB_RECONCILE_CONCURRENCY`: deployments reconciled at once per instance. Default 4.
    pub reconcile_concurrency: usize,
    /// `HFB_RECONCILE_LEASE_SECS`: how long an instance holds a deployment while acting on
    /// it; after a crash another instance (or the restarted one) takes over after this. Default 30.
    pub reconcile_lease_secs: u64,
    /// `HFB_RECONCILE_MAX_ATTEMPTS`: failed attempts before a deployment is marked failed. Default 5.
    pub reconcile_max_attempts: u32,
    /// `HFB_RECONCILE_POLL_SECS`: how often provisioning cloud deployments are polled. Default 10.
    pub reconcile_poll_secs: u64,
    /// `HFB_HF_NAMESPACE`: the Hugging Face user or organization that owns the Inference
    /// Endpoints and Spaces hfb creates (with `HUGGING_FACE_API_KEY`).
    pub hf_namespace: Option<String>,
    /// `HFB_HF_API_ENDPOINT`: base URL of the Inference Endpoints API.
    /// Default `https://api.endpoints.huggingface.cloud/v2`.
    pub hf_endpoints_api: String,
    /// `HFB_LAMBDA_ROLE_ARN`: the IAM role AWS Lambda functions run as.
    pub lambda_role_arn: Option<String>,
    /// `HFB_LAMBDA_IMAGE_URI`: the container image (in ECR) serving models on Lambda.
    pub lambda_image_uri: Option<String>,
    /// `AWS_ENDPOINT_URL`: another S3/Lambda endpoint (e.g. moto or MinIO in tests).
    pub aws_endpoint_url: Option<String>,
    /// `HFB_UPSTREAM_TIMEOUT_MS`: time allowed for one call to a remote deployment (an
    /// Endpoint, Space or Lambda URL), from sending to the whole answer. Default 60000.
    pub upstream_timeout_ms: u64,
    /// `HFB_UPSTREAM_MAX_ATTEMPTS`: tries per inference call when the upstream could not be
    /// reached or answered 429/503 (never after it may have started the work). Default 3.
    pub upstream_max_attempts: u32,
    /// `HFB_UPSTREAM_BACKOFF_MS`: first retry delay; doubles per retry, full jitter. Default 200.
    pub upstream_backoff_ms: u64,
    /// `HFB_UPSTREAM_MAX_WAIT_SECS`: the longest an inference call waits on an upstream's
    /// `Retry-After` or a loading model's `estimated_time`; longer waits answer 503 with
    /// `Retry-After` at once. Default 20.
    pub upstream_max_wait_secs: u64,
    /// `HFB_BREAKER_FAILURES`: consecutive failed calls that open a deployment's circuit
    /// breaker (calls then answer 503 at once). Default 5.
    pub breaker_failures: u32,
    /// `HFB_BREAKER_COOLDOWN_SECS`: how long an open breaker stays open before one probe
    /// call is let through (half-open). Default 30.
    pub breaker_cooldown_secs: u64,
    /// `HFB_AUTH_CACHE_MS`: how long this instance reuses what an API key resolved to
    /// (its team, role, scopes) before reading the store again. Default 5000; 0 disables.
    pub auth_cache_ms: u64,
    /// `HFB_DEPLOYMENT_CACHE_MS`: how long this instance reuses a deployment, or a team's
    /// deployment list (routes that name a model), read for an inference call. Default
    /// 1000; 0 disables.
    pub deployment_cache_ms: u64,
    /// `HFB_METRICS_TOKEN`: when set, `GET /metrics` needs it as a bearer token.
    pub metrics_token: Option<Secret>,
    /// `HFB_BATCH_MAX_ITEMS`: most items in one `/batch` call. Default 1000.
    pub batch_max_items: usize,
    /// `HFB_BATCH_MAX_BYTES`: largest `/batch` body. Default 8 MiB.
    pub batch_max_bytes: usize,
    /// Set when development secrets were generated and kept in this file (logged at start).
    #[serde(skip)]
    pub generated_secrets_file: Option<PathBuf>,
}

mod millis {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "{0} must be set in production (HFB_ENV=production); generated secrets are for development only"
    )]
    MissingSecret(&'static str),
    #[error("cannot keep generated secrets under {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
}

/// Shortest secret accepted: 32 bytes of key material for HS256.
const MIN_SECRET_LEN: usize = 32;

impl Settings {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass a map instead of the
    /// process environment. Secrets that are unset are generated (development only).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let environment = match get("HFB_ENV").as_deref() {
            None | Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    "HFB_ENV",
                    format!("`{other}` is not development or production"),
                ));
            }
        };
        let log_format = match get("HFB_LOG_FORMAT").as_deref() {
            None => match environment {
                Environment::Development => LogFormat::Pretty,
                Environment::Production => LogFormat::Json,
            },
            Some("json") => LogFormat::Json,
            Some("pretty" | "text") => LogFormat::Pretty,
            Some(other) => {
                return Err(invalid(
                    "HFB_LOG_FORMAT",
                    format!("`{other}` is not json or pretty"),
                ));
            }
        };
        let data_dir = PathBuf::from(get("HFB_DATA_DIR").unwrap_or_else(|| "data".into()));
        let public_app_url =
            get("PUBLIC_APP_URL").unwrap_or_else(|| "http://localhost:3000".into());
        if !(public_app_url.starts_with("http://") || public_app_url.starts_with("https://")) {
            return Err(invalid(
                "PUBLIC_APP_URL",
                "must start with http:// or https://".into(),
            ));
        }
        let hf_endpoint = get("HF_ENDPOINT").unwrap_or_else(|| "https://huggingface.co".into());
        if !(hf_endpoint.starts_with("http://") || hf_endpoint.starts_with("https://")) {
            return Err(invalid(
                "HF_ENDPOINT",
                "must start with http:// or https://".into(),
            ));
        }
        let redis_url = get("REDIS_URL").map(Secret::new);
        if let Some(url) = &redis_url
            && !(url.0.starts_with("redis://") || url.0.starts_with("rediss://"))
        {
            return Err(invalid(
                "REDIS_URL",
                "must start with redis:// or rediss://".into(),
            ));
        }
        let mongodb_uri = get("MONGODB_URI").map(Secret::new);
        if let Some(uri) = &mongodb_uri
            && !(uri.0.starts_with("mongodb://") || uri.0.starts_with("mongodb+srv://"))
        {
            return Err(invalid(
                "MONGODB_URI",
                "must start with mongodb:// or mongodb+srv://".into(),
            ));
        }
        let workers = match get("HFB_WORKERS") {
            None => None,
            Some(v) => Some(parse_range("HFB_WORKERS", &v, 1, 512)?),
        };
        let max_body_bytes = match get("HFB_MAX_BODY_BYTES") {
            None => 1024 * 1024,
            Some(v) => parse_range("HFB_MAX_BODY_BYTES", &v, 1024, 1024 * 1024 * 1024)?,
        };
        let ws_heartbeat = match get("HFB_WS_HEARTBEAT_MS") {
            None => Duration::from_secs(5),
            Some(v) => {
                Duration::from_millis(parse_range("HFB_WS_HEARTBEAT_MS", &v, 100, 600_000)? as u64)
            }
        };
        let shutdown_timeout_secs = match get("HFB_SHUTDOWN_TIMEOUT_SECS") {
            None => 30,
            Some(v) => parse_range("HFB_SHUTDOWN_TIMEOUT_SECS", &v, 0, 3600)? as u64,
        };

        let cors_origins: Vec<String> = get("HFB_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(invalid(
                "HFB_CORS_ORIGINS",
                format!("`{bad}` is not an http(s) origin"),
            ));
        }
        let trust_proxy = parse_bool("HFB_TRUST_PROXY", get("HFB_TRUST_PROXY"), false)?;
        let rate_limit_auth_per_min = match get("HFB_RATE_LIMIT_AUTH_PER_MIN") {
            None => 20,
            Some(v) => parse_range("HFB_RATE_LIMIT_AUTH_PER_MIN", &v, 1, 1_000_000)? as u32,
        };
        let rate_limit_per_min = match get("HFB_RATE_LIMIT_PER_MIN") {
            None => 1200,
            Some(v) => parse_range("HFB_RATE_LIMIT_PER_MIN", &v, 1, 10_000_000)? as u32,
        };
        let catalog_live = parse_bool("HFB_CATALOG_LIVE", get("HFB_CATALOG_LIVE"), true)?;
        let catalog_public = parse_bool("HFB_CATALOG_PUBLIC", get("HFB_CATALOG_PUBLIC"), true)?;
        let catalog_cache_ttl_secs = match get("HFB_CATALOG_CACHE_TTL_SECS") {
            None => 300,
            Some(v) => parse_range("HFB_CATALOG_CACHE_TTL_SECS", &v, 0, 86_400)? as u64,
        };
        let catalog_sync_interval_secs = match get("HFB_CATALOG_SYNC_INTERVAL_SECS") {
            None => 6 * 3600,
            Some(v) => parse_range("HFB_CATALOG_SYNC_INTERVAL_SECS", &v, 0, 30 * 86_400)? as u64,
        };
        let catalog_sync_top = match get("HFB_CATALOG_SYNC_TOP") {
            None => 1000,
            Some(v) => parse_range("HFB_CATALOG_SYNC_TOP", &v, 1, 100_000)? as u32,
        };
        let hub_page_size = match get("HFB_HUB_PAGE_SIZE") {
            None => 100,
            Some(v) => parse_range("HFB_HUB_PAGE_SIZE", &v, 1, 1000)? as u32,
        };
        let admin_emails = get("HFB_ADMIN_EMAILS")
            .map(|v| {
                v.split(',')
                    .map(|e| e.trim().to_lowercase())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let reconcile_interval_ms = match get("HFB_RECONCILE_INTERVAL_MS") {
            None => 1000,
            Some(v) => parse_range("HFB_RECONCILE_INTERVAL_MS", &v, 10, 600_000)? as u64,
        };
        let reconcile_concurrency = match get("HFB_RECONCILE_CONCURRENCY") {
            None => 4,
            Some(v) => parse_range("HFB_RECONCILE_CONCURRENCY", &v, 1, 256)?,
        };
        let reconcile_lease_secs = match get("HFB_RECONCILE_LEASE_SECS") {
            None => 30,
            Some(v) => parse_range("HFB_RECONCILE_LEASE_SECS", &v, 1, 3600)? as u64,
        };
        let reconcile_max_attempts = match get("HFB_RECONCILE_MAX_ATTEMPTS") {
            None => 5,
            Some(v) => parse_range("HFB_RECONCILE_MAX_ATTEMPTS", &v, 1, 100)? as u32,
        };
        let reconcile_poll_secs = match get("HFB_RECONCILE_POLL_SECS") {
            None => 10,
            Some(v) => parse_range("HFB_RECONCILE_POLL_SECS", &v, 0, 3600)? as u64,
        };
        let num = |name: &'static str, default: usize, min: usize, max: usize| match get(name) {
            None => Ok(default),
            Some(v) => parse_range(name, &v, min, max),
        };
        let upstream_timeout_ms = num("HFB_UPSTREAM_TIMEOUT_MS", 60_000, 1, 3_600_000)? as u64;
        let upstream_max_attempts = num("HFB_UPSTREAM_MAX_ATTEMPTS", 3, 1, 10)? as u32;
        let upstream_backoff_ms = num("HFB_UPSTREAM_BACKOFF_MS", 200, 0, 60_000)? as u64;
        let upstream_max_wait_secs = num("HFB_UPSTREAM_MAX_WAIT_SECS", 20, 0, 600)? as u64;
        let breaker_failures = num("HFB_BREAKER_FAILURES", 5, 1, 1000)? as u32;
        let breaker_cooldown_secs = num("HFB_BREAKER_COOLDOWN_SECS", 30, 1, 3600)? as u64;
        let auth_cache_ms = num("HFB_AUTH_CACHE_MS", 5_000, 0, 600_000)? as u64;
        let deployment_cache_ms = num("HFB_DEPLOYMENT_CACHE_MS", 1_000, 0, 600_000)? as u64;
        let batch_max_items = num("HFB_BATCH_MAX_ITEMS", 1000, 1, 100_000)?;
        let batch_max_bytes = num("HFB_BATCH_MAX_BYTES", 8 << 20, 1024, 1 << 30)?;
        let hf_endpoints_api =
            get("HFB_HF_API_ENDPOINT").unwrap_or_else(|| hfb_hub::DEFAULT_ENDPOINTS_API.into());
        let jwt_secret = get("JWT_SECRET").map(Secret::new);
        let jwt_refresh_secret = get("JWT_REFRESH_SECRET").map(Secret::new);
        let (jwt_secret, jwt_refresh_secret, generated_secrets_file) =
            resolve_secrets(environment, &data_dir, jwt_secret, jwt_refresh_secret)?;

        Ok(Self {
            environment,
            bind: get("HFB_BIND").unwrap_or_else(|| "127.0.0.1:3000".into()),
            public_app_url,
            static_dir: PathBuf::from(get("HFB_STATIC_DIR").unwrap_or_else(|| "dist".into())),
            data_dir,
            mongodb_uri,
            mongodb_database: get("HFB_MONGODB_DATABASE").unwrap_or_else(|| "hfb".into()),
            redis_url,
            jwt_secret,
            jwt_refresh_secret,
            hugging_face_api_key: get("HUGGING_FACE_API_KEY").map(Secret::new),
            hf_endpoint,
            aws_region: get("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            s3_bucket: get("S3_BUCKET"),
            log_format,
            log_filter: get("HFB_LOG")
                .or_else(|| get("RUST_LOG"))
                .unwrap_or_else(|| "info".into()),
            workers,
            max_body_bytes,
            ws_heartbeat,
            shutdown_timeout_secs,
            cors_origins,
            trust_proxy,
            rate_limit_auth_per_min,
            rate_limit_per_min,
            catalog_live,
            catalog_public,
            admin_emails,
            hub_page_size,
            catalog_cache_ttl_secs,
            catalog_sync_interval_secs,
            catalog_sync_top,
            reconcile_interval_ms,
            reconcile_concurrency,
            reconcile_lease_secs,
            reconcile_max_attempts,
            reconcile_poll_secs,
            hf_namespace: get("HFB_HF_NAMESPACE"),
            hf_endpoints_api,
            lambda_role_arn: get("HFB_LAMBDA_ROLE_ARN"),
            lambda_image_uri: get("HFB_LAMBDA_IMAGE_URI"),
            aws_endpoint_url: get("AWS_ENDPOINT_URL"),
            upstream_timeout_ms,
            upstream_max_attempts,
            upstream_backoff_ms,
            upstream_max_wait_secs,
            breaker_failures,
            breaker_cooldown_secs,
            auth_cache_ms,
            deployment_cache_ms,
            metrics_token: get("HFB_METRICS_TOKEN").map(Secret::new),
            batch_max_items,
            batch_max_bytes,
            generated_secrets_file,
        })
    }

    /// The SQLite file of the embedded store.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("hfb.sqlite3")
    }
}

fn invalid(name: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { name, reason }
}

fn parse_bool(
    name: &'static str,
    value: Option<String>,
    default: bool,
) -> Result<bool, ConfigError> {
    match value.as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(invalid(name, format!("`{other}` is not true or false"))),
    }
}

fn parse_range(
    name: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let n: usize = value
        .parse()
        .map_err(|_| invalid(name, format!("`{value}` is not a whole number")))?;
    if n < min || n > max {
        return Err(invalid(name, format!("{n} is outside {min}..={max}")));
    }
    Ok(n)
}

/// File under the data dir that keeps generated development secrets across restarts.
const SECRETS_FILE: &str = "secrets.env";

fn resolve_secrets(
    environment: Environment,
    data_dir: &Path,
    jwt: Option<Secret>,
    refresh: Option<Secret>,
) -> Result<(Secret, Secret, Option<PathBuf>), ConfigError> {
    for (name, value) in [("JWT_SECRET", &jwt), ("JWT_REFRESH_SECRET", &refresh)] {
        if let Some(v) = value
            && v.0.len() < MIN_SECRET_LEN
        {
            return Err(invalid(
                name,
                format!("must be at least {MIN_SECRET_LEN} characters"),
            ));
        }
    }
    if let (Some(jwt), Some(refresh)) = (&jwt, &refresh) {
        return Ok((jwt.clone(), refresh.clone(), None));
    }
    if environment == Environment::Production {
        let missing = if jwt.is_none() {
            "JWT_SECRET"
        } else {
            "JWT_REFRESH_SECRET"
        };
        return Err(ConfigError::MissingSecret(missing));
    }
    let (a, b) = load_or_create_secrets(data_dir)?;
    Ok((
        jwt.unwrap_or(a),
        refresh.unwrap_or(b),
        Some(data_dir.join(SECRETS_FILE)),
    ))
}

fn load_or_create_secrets(data_dir: &Path) -> Result<(Secret, Secret), ConfigError> {
    let path = data_dir.join(SECRETS_FILE);
    let io_err = |source| ConfigError::SecretFile {
        path: path.display().to_string(),
        source,
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        let find = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(|v| Secret::new(v.trim()))
                .filter(|s| s.0.len() >= MIN_SECRET_LEN)
        };
        if let (Some(a), Some(b)) = (find("JWT_SECRET"), find("JWT_REFRESH_SECRET")) {
            return Ok((a, b));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let (a, b) = (random_secret(), random_secret());
    let body = format!(
        "# Generated by hfb for development. Set JWT_SECRET and JWT_REFRESH_SECRET in production.\nJWT_SECRET={}\nJWT_REFRESH_SECRET={}\n",
        a.0, b.0
    );
    write_private(&path, body.as_bytes()).map_err(io_err)?;
    Ok((a, b))
}

fn random_secret() -> Secret {
    let bytes: [u8; 32] = rand::random();
    Secret(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration_and_generate_persistent_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let first = settings(&[("HFB_DATA_DIR", data)]).unwrap();
        assert_eq!(first.bind, "127.0.0.1:3000");
        assert_eq!(first.environment, Environment::Development);
        assert_eq!(first.log_format, LogFormat::Pretty);
        assert!(first.mongodb_uri.is_none() && first.redis_url.is_none());
        assert!(first.jwt_secret.expose().len() >= MIN_SECRET_LEN);
        assert_ne!(first.jwt_secret, first.jwt_refresh_secret);
        let second = settings(&[("HFB_DATA_DIR", data)]).unwrap();
        assert_eq!(
            first.jwt_secret, second.jwt_secret,
            "generated secret survives a restart"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRETS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "secrets file is private");
        }
    }

    #[test]
    fn production_refuses_missing_or_short_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let err = settings(&[("HFB_ENV", "production"), ("HFB_DATA_DIR", data)]).unwrap_err();
        assert!(
            matches!(err, ConfigError::MissingSecret("JWT_SECRET")),
            "{err}"
        );
        let err = settings(&[
            ("HFB_ENV", "production"),
            ("JWT_SECRET", "short"),
            ("JWT_REFRESH_SECRET", "short"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
        let long = "x".repeat(40);
        let ok = settings(&[
            ("HFB_ENV", "production"),
            ("JWT_SECRET", &long),
            ("JWT_REFRESH_SECRET", &long),
        ])
        .unwrap();
        assert_eq!(ok.log_format, LogFormat::Json);
        assert!(!dir.path().join(SECRETS_FILE).exists());
    }

    #[test]
    fn secrets_never_show_in_debug_or_json() {
        let long = "s3cr3t-value-that-must-not-leak-0123456789";
        let s = settings(&[
            ("JWT_SECRET", long),
            ("JWT_REFRESH_SECRET", long),
            (
                "REDIS_URL",
                "redis://:s3cr3t-value-that-must-not-leak@localhost",
            ),
            ("HUGGING_FACE_API_KEY", "hf_s3cr3t-value-that-must-not-leak"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            !debug.contains("s3cr3t") && !json.contains("s3cr3t"),
            "{debug}\n{json}"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        let long = "y".repeat(40);
        let base = [
            ("JWT_SECRET", long.as_str()),
            ("JWT_REFRESH_SECRET", long.as_str()),
        ];
        for (name, value) in [
            ("HFB_ENV", "staging"),
            ("HFB_WORKERS", "0"),
            ("HFB_MAX_BODY_BYTES", "lots"),
            ("REDIS_URL", "http://localhost"),
            ("MONGODB_URI", "postgres://x"),
            ("PUBLIC_APP_URL", "localhost:3000"),
            ("HFB_LOG_FORMAT", "xml"),
        ] {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            let err = settings(&pairs).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }
}
