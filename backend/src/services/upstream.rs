//! Calls to remote deployments (an Inference Endpoint, a Space, a Lambda function URL):
//! a per-call timeout, retries with exponential backoff and full jitter, and a circuit
//! breaker per deployment.
//!
//! Retry rules. A call is tried again only when the upstream cannot have started the
//! work: the connection could not be made, or it answered 429 or 503 (rate limited, or a
//! model still loading). The wait honours `Retry-After` and the Hub's `estimated_time`
//! (`{"error": "Model ... is currently loading", "estimated_time": 20.0}`) up to
//! `HFB_UPSTREAM_MAX_WAIT_SECS`; a longer wait answers 503 with `Retry-After` at once
//! rather than holding the caller. A timeout or any other 5xx is not retried: the
//! upstream may have done (and billed) the work.
//!
//! Breaker. Consecutive failed calls (unreachable, timeout, 5xx, unusable answer) of one
//! deployment open its breaker after `HFB_BREAKER_FAILURES`: calls then answer 503 with
//! `Retry-After` without touching the upstream, for `HFB_BREAKER_COOLDOWN_SECS`. Then one
//! probe call goes through (half-open): success closes the breaker, failure opens it
//! again. Breakers live in each instance's memory: with N instances, each trips on its own.
//!
//! Every answer and error carries `X-Hfb-Attempts` and `X-Hfb-Upstream-Status`, and the
//! counters behind `GET /metrics` count calls by outcome, attempts and breaker trips.
//!
//! Clients. Answers read whole (every call but a streamed chat) go through hyper's pooled
//! client directly ([`direct_client`]); streams, and every call when the environment
//! names a proxy, go through reqwest. Neither follows redirects of these POSTs: a 3xx is
//! reported as the deployment's failure.

// foldhash rather than SipHash: these maps are read on every call (ids and URLs).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hfb_shared::ErrorCode;
use serde_json::Value;

use crate::config::Settings;
use crate::error::{ApiError, UpstreamTrace};

/// Largest upstream answer read (a batch of embeddings as JSON is a few MB).
const MAX_ANSWER_BYTES: usize = 64 << 20;
/// Longest upstream error message repeated to the caller.
const MAX_UPSTREAM_MESSAGE: usize = 300;

#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff: Duration,
    pub max_wait: Duration,
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// `Bearer <HUGGING_FACE_API_KEY>` for Endpoints and Spaces, made once.
    pub hf_authorization: Option<reqwest::header::HeaderValue>,
}

impl UpstreamSettings {
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            timeout: Duration::from_millis(s.upstream_timeout_ms),
            max_attempts: s.upstream_max_attempts,
            backoff: Duration::from_millis(s.upstream_backoff_ms),
            max_wait: Duration::from_secs(s.upstream_max_wait_secs),
            breaker_failures: s.breaker_failures,
            breaker_cooldown: Duration::from_secs(s.breaker_cooldown_secs),
            hf_authorization: s.hugging_face_api_key.as_ref().and_then(|token| {
                let mut value =
                    reqwest::header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                        .ok()?;
                value.set_sensitive(true);
                Some(value)
            }),
        }
    }
}

/// One request to a deployment's upstream.
pub struct UpstreamRequest {
    pub deployment_id: String,
    pub url: reqwest::Url,
    /// `url` as hyper takes it.
    pub uri: http::Uri,
    /// Sent on every attempt (authorization, content type, signatures).
    pub headers: reqwest::header::HeaderMap,
    pub body: actix_web::web::Bytes,
    /// The answer is a stream (server-sent events): the timeout bounds the wait for its
    /// headers and each pause between chunks, not the whole answer.
    pub stream: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BreakerState {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is in flight since this instant.
    HalfOpen {
        since: Instant,
    },
}

#[derive(Debug, Default, Clone)]
struct Stats {
    /// Calls by outcome (`ok`, `timeout`, `unreachable`, `upstream_error`, ...).
    outcomes: HashMap<&'static str, u64>,
    attempts: u64,
    retries: u64,
    breaker_opened: u64,
}

struct Entry {
    state: BreakerState,
    stats: Stats,
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            state: BreakerState::Closed { failures: 0 },
            stats: Stats::default(),
        }
    }
}

/// The upstream client of this instance, with its breakers and counters.
pub struct Upstreams {
    /// Streamed answers, and every call when a proxy is configured.
    client: reqwest::Client,
    /// Whole answers: see [`direct_client`].
    direct: Option<DirectClient>,
    settings: UpstreamSettings,
    entries: Mutex<HashMap<String, Entry>>,
    /// Deployment URLs already parsed (a handful per deployment; cleared when large).
    urls: Mutex<HashMap<String, (reqwest::Url, http::Uri)>>,
}

/// hyper's pooled HTTP/1.1 client (with rustls), without reqwest's layers on top.
type DirectClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<actix_web::web::Bytes>,
>;

const USER_AGENT: &str = concat!("hfb/", env!("CARGO_PKG_VERSION"));

/// The client for calls whose answer is read whole (every inference call but a streamed
/// chat): hyper's own pooled client. reqwest's layers over it (redirect policy, retry
/// policy, re-parsing the URL for each request) cost more than a third of the hop's
/// work (callgrind, bench/README.md), and hfb has its own retry rules and follows no
/// redirect of a POST. `None`, and reqwest makes every call, when the environment names
/// a proxy (reqwest honours `HTTP(S)_PROXY`/`ALL_PROXY`) or no CA certificates load.
fn direct_client(settings: &UpstreamSettings) -> Option<DirectClient> {
    const PROXY_VARS: [&str; 6] = [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ];
    if PROXY_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|value| !value.is_empty()))
    {
        return None;
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(settings.timeout.min(Duration::from_secs(10))));
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .inspect_err(|e| {
            tracing::warn!(error = %e, "no CA certificates for the direct upstream client; using reqwest");
        })
        .ok()?;
    let connector = tls.https_or_http().enable_http1().wrap_connector(http);
    Some(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(hyper_util::rt::TokioTimer::new())
            .build(connector),
    )
}

/// An upstream's answer, its body not read yet, from either client.
enum Reply {
    Reqwest(reqwest::Response),
    Direct {
        response: http::Response<hyper::body::Incoming>,
        /// The end of the call's time (headers and body).
        deadline: tokio::time::Instant,
    },
}

/// Why an attempt got no answer.
enum SendError {
    Timeout,
    /// No connection could be made: the upstream cannot have started the work.
    Connect,
    Other(String),
}

impl Reply {
    fn status(&self) -> u16 {
        match self {
            Self::Reqwest(r) => r.status().as_u16(),
            Self::Direct { response, .. } => response.status().as_u16(),
        }
    }

    fn headers(&self) -> &http::HeaderMap {
        match self {
            Self::Reqwest(r) => r.headers(),
            Self::Direct { response, .. } => response.headers(),
        }
    }

    /// The whole body, at most `limit` bytes, by the call's deadline.
    async fn read_limited(self, limit: usize) -> Result<actix_web::web::Bytes, ApiError> {
        use http_body_util::BodyExt;
        let announced = self
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if announced.is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit)) {
            return Err(too_large(limit));
        }
        let (response, deadline) = match self {
            Self::Reqwest(response) => return read_chunks(response, limit).await.map(Into::into),
            Self::Direct { response, deadline } => (response, deadline),
        };
        let body = http_body_util::Limited::new(response.into_body(), limit);
        match tokio::time::timeout_at(deadline, body.collect()).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
            Ok(Err(_)) => Err(broken_answer()),
            Err(_) => Err(late_answer()),
        }
    }
}

/// URLs kept parsed at most, past which the map starts over.
const MAX_PARSED_URLS: usize = 4096;

/// The entry of a deployment, made on first use (no key copy when it exists).
fn entry_of<'m>(entries: &'m mut HashMap<String, Entry>, id: &str) -> &'m mut Entry {
    if !entries.contains_key(id) {
        entries.insert(id.to_owned(), Entry::default());
    }
    match entries.get_mut(id) {
        Some(entry) => entry,
        None => unreachable!("inserted above"),
    }
}

/// Leave to call a deployment's upstream, from its breaker; settle it with the outcome.
#[must_use]
pub struct Permit<'a> {
    upstreams: &'a Upstreams,
    deployment_id: String,
    settled: bool,
}

impl Permit<'_> {
    /// The call worked: the breaker closes.
    pub fn succeeded(mut self, trace: UpstreamTrace) {
        self.settled = true;
        self.upstreams.settle(&self.deployment_id, trace, Ok(()));
    }

    /// The call failed in a way that counts against the upstream.
    pub fn failed(mut self, trace: UpstreamTrace, outcome: &'static str, counts: bool) {
        self.settled = true;
        self.upstreams
            .settle(&self.deployment_id, trace, Err((outcome, counts)));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        // Abandoned (the caller went away): a half-open probe must not block others forever.
        if !self.settled {
            let mut entries = self.upstreams.lock();
            if let Some(e) = entries.get_mut(&self.deployment_id)
                && matches!(e.state, BreakerState::HalfOpen { .. })
            {
                e.state = BreakerState::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

/// A 2xx answer whose body has not been read yet (streams).
pub struct Answer<'a> {
    pub response: reqwest::Response,
    pub trace: UpstreamTrace,
    pub permit: Permit<'a>,
}

/// A 2xx answer read whole, not parsed yet.
pub struct RawAnswer<'a> {
    pub raw: actix_web::web::Bytes,
    pub trace: UpstreamTrace,
    pub permit: Permit<'a>,
}

impl<'a> RawAnswer<'a> {
    /// The answer parsed as JSON; a 502 `invalid_response` (counted against the
    /// deployment) when it is not.
    pub fn json(self) -> Result<JsonAnswer<'a>, ApiError> {
        let Self { raw, trace, permit } = self;
        match serde_json::from_slice(&raw) {
            Ok(value) => Ok(JsonAnswer {
                value,
                raw,
                trace,
                permit,
            }),
            Err(_) => {
                permit.failed(trace, "invalid_response", true);
                Err(invalid_response("the deployment's answer is not JSON").with_upstream(trace))
            }
        }
    }
}

/// A 2xx answer read and parsed as JSON, with its bytes as they arrived.
pub struct JsonAnswer<'a> {
    pub value: Value,
    pub raw: actix_web::web::Bytes,
    pub trace: UpstreamTrace,
    pub permit: Permit<'a>,
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    if let Ok(secs) = value.trim().parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The message in an upstream error body: `{"error": "..."}`, `{"error": ["..."]}`,
/// `{"error": {"message": "..."}}`, `{"message": "..."}`, or the start of the text.
fn upstream_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let e = v.get("error").unwrap_or(&Value::Null);
            e.as_str()
                .map(str::to_owned)
                .or_else(|| e.get("message").and_then(Value::as_str).map(str::to_owned))
                .or_else(|| {
                    e.as_array().map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                })
                .or_else(|| v.get("message").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| v.to_string())
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let text = text.trim();
    match text.char_indices().nth(MAX_UPSTREAM_MESSAGE) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn estimated_time(body: &[u8]) -> Option<Duration> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let secs = v.get("estimated_time")?.as_f64()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Upstreams {
    pub fn new(settings: UpstreamSettings) -> Self {
        let client = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .read_timeout(settings.timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            client,
            direct: direct_client(&settings),
            settings,
            entries: Mutex::new(HashMap::default()),
            urls: Mutex::new(HashMap::default()),
        }
    }

    /// `url` parsed (for reqwest and for hyper), from a small cache: a deployment's URL is
    /// parsed once, not per call.
    pub fn parse_url(&self, url: &str) -> Result<(reqwest::Url, http::Uri), ApiError> {
        let mut urls = self
            .urls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(parsed) = urls.get(url) {
            return Ok(parsed.clone());
        }
        let unusable = |e: &dyn std::fmt::Display| {
            ApiError::new(
                ErrorCode::UpstreamError,
                format!("the deployment's URL `{url}` is not usable: {e}"),
            )
            .with_details(serde_json::json!({ "reason": "invalid_url" }))
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| unusable(&e))?;
        let uri = http::Uri::try_from(parsed.as_str()).map_err(|e| unusable(&e))?;
        if urls.len() >= MAX_PARSED_URLS {
            urls.clear();
        }
        urls.insert(url.to_owned(), (parsed.clone(), uri.clone()));
        Ok((parsed, uri))
    }

    /// The authorization header for Hugging Face Endpoints and Spaces, if configured.
    pub fn hf_authorization(&self) -> Option<&reqwest::header::HeaderValue> {
        self.settings.hf_authorization.as_ref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Leave to call, or a 503 while the deployment's breaker is open.
    pub fn admit(&self, deployment_id: &str) -> Result<Permit<'_>, ApiError> {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entry_of(&mut entries, deployment_id);
        let probe_limit =
            self.settings.timeout * self.settings.max_attempts + self.settings.max_wait;
        let refused = |wait: Duration, entry: &mut Entry| {
            *entry.stats.outcomes.entry("breaker_open").or_default() += 1;
            Err(ApiError::new(
                ErrorCode::ServiceUnavailable,
                "the deployment failed repeatedly; calls are paused for a moment (circuit breaker open)",
            )
            .with_retry_after(ceil_secs(wait).max(1))
            .with_details(serde_json::json!({ "reason": "circuit_open" }))
            .with_upstream(UpstreamTrace::default()))
        };
        match entry.state {
            BreakerState::Closed { .. } => {}
            BreakerState::Open { until } if now < until => return refused(until - now, entry),
            BreakerState::Open { .. } => entry.state = BreakerState::HalfOpen { since: now },
            BreakerState::HalfOpen { since } if now.duration_since(since) < probe_limit => {
                return refused(
                    self.settings.breaker_cooldown.min(Duration::from_secs(5)),
                    entry,
                );
            }
            BreakerState::HalfOpen { .. } => entry.state = BreakerState::HalfOpen { since: now },
        }
        Ok(Permit {
            upstreams: self,
            deployment_id: deployment_id.to_owned(),
            settled: false,
        })
    }

    fn settle(
        &self,
        deployment_id: &str,
        trace: UpstreamTrace,
        outcome: Result<(), (&'static str, bool)>,
    ) {
        let mut entries = self.lock();
        let entry = entry_of(&mut entries, deployment_id);
        entry.stats.attempts += u64::from(trace.attempts);
        entry.stats.retries += u64::from(trace.attempts.saturating_sub(1));
        match outcome {
            Ok(()) => {
                *entry.stats.outcomes.entry("ok").or_default() += 1;
                entry.state = BreakerState::Closed { failures: 0 };
            }
            Err((name, counts)) => {
                *entry.stats.outcomes.entry(name).or_default() += 1;
                if !counts {
                    // The upstream works (it answered); only a probe's fate is decided.
                    if matches!(entry.state, BreakerState::HalfOpen { .. }) {
                        entry.state = BreakerState::Closed { failures: 0 };
                    }
                    return;
                }
                let failures = match entry.state {
                    BreakerState::Closed { failures } => failures + 1,
                    _ => self.settings.breaker_failures,
                };
                if failures >= self.settings.breaker_failures {
                    if !matches!(entry.state, BreakerState::Open { .. }) {
                        entry.stats.breaker_opened += 1;
                        tracing::warn!(
                            deployment = deployment_id,
                            failures,
                            "circuit breaker opened"
                        );
                    }
                    entry.state = BreakerState::Open {
                        until: Instant::now() + self.settings.breaker_cooldown,
                    };
                } else {
                    entry.state = BreakerState::Closed { failures };
                }
            }
        }
    }

    /// Forgets a deployment's breaker and counters (it was deleted).
    pub fn forget(&self, deployment_id: &str) {
        self.lock().remove(deployment_id);
    }

    fn backoff(&self, retry: u32) -> Duration {
        let cap = self
            .settings
            .backoff
            .saturating_mul(1 << retry.min(16))
            .min(self.settings.max_wait.max(self.settings.backoff));
        cap.mul_f64(rand::random::<f64>())
    }

    /// Sends `req` until a 2xx answer (returned unread, with the permit to settle) or an
    /// error that says what happened upstream. Failures are settled here. Streams go
    /// through reqwest; [`call_json`](Self::call_json) uses the direct client.
    pub async fn send(&self, req: &UpstreamRequest) -> Result<Answer<'_>, ApiError> {
        let (reply, trace, permit) = self.exchange(req, false).await?;
        match reply {
            Reply::Reqwest(response) => Ok(Answer {
                response,
                trace,
                permit,
            }),
            Reply::Direct { .. } => Err(ApiError::internal(
                "a direct answer where a stream was asked",
            )),
        }
    }

    /// One attempt: through the direct client when `direct` (and there is one), else reqwest.
    async fn attempt(&self, req: &UpstreamRequest, direct: bool) -> Result<Reply, SendError> {
        if let Some(client) = self.direct.as_ref().filter(|_| direct && !req.stream) {
            let deadline = tokio::time::Instant::now() + self.settings.timeout;
            let mut request = http::Request::new(http_body_util::Full::new(req.body.clone()));
            *request.method_mut() = http::Method::POST;
            *request.uri_mut() = req.uri.clone();
            *request.headers_mut() = req.headers.clone();
            request.headers_mut().insert(
                http::header::USER_AGENT,
                http::HeaderValue::from_static(USER_AGENT),
            );
            return match tokio::time::timeout_at(deadline, client.request(request)).await {
                Ok(Ok(response)) => Ok(Reply::Direct { response, deadline }),
                Ok(Err(e)) if e.is_connect() => Err(SendError::Connect),
                Ok(Err(e)) => Err(SendError::Other(e.to_string())),
                Err(_) => Err(SendError::Timeout),
            };
        }
        let builder = self
            .client
            .post(req.url.clone())
            .headers(req.headers.clone())
            .body(req.body.clone());
        // A whole answer is bounded by reqwest's own timeout; a stream's wait for its
        // headers by this one (its chunks by the client's read timeout).
        let sent = if req.stream {
            match tokio::time::timeout(self.settings.timeout, builder.send()).await {
                Ok(sent) => sent,
                Err(_) => return Err(SendError::Timeout),
            }
        } else {
            builder.timeout(self.settings.timeout).send().await
        };
        match sent {
            Ok(response) => Ok(Reply::Reqwest(response)),
            Err(e) if e.is_timeout() => Err(SendError::Timeout),
            Err(e) if e.is_connect() => Err(SendError::Connect),
            Err(e) => Err(SendError::Other(e.to_string())),
        }
    }

    /// The attempts of one call (see the module docs for the retry rules).
    async fn exchange(
        &self,
        req: &UpstreamRequest,
        direct: bool,
    ) -> Result<(Reply, UpstreamTrace, Permit<'_>), ApiError> {
        let permit = self.admit(&req.deployment_id)?;
        let mut trace = UpstreamTrace::default();
        let started = Instant::now();
        loop {
            trace.attempts += 1;
            let last = trace.attempts >= self.settings.max_attempts;
            let (wait, failure) = match self.attempt(req, direct).await {
                Ok(reply) if (200..300).contains(&reply.status()) => {
                    trace.status = Some(reply.status());
                    return Ok((reply, trace, permit));
                }
                Ok(reply) => {
                    let status = reply.status();
                    trace.status = Some(status);
                    let header_wait = retry_after(reply.headers());
                    let body = reply.read_limited(64 << 10).await.unwrap_or_default();
                    let message = upstream_message(&body);
                    match status {
                        429 | 503 => {
                            let loading = estimated_time(&body);
                            let hinted = header_wait.or(loading);
                            (
                                hinted,
                                self.refused_error(status, hinted, loading, &message),
                            )
                        }
                        _ => {
                            let (error, counts) = status_error(status, &message);
                            permit.failed(trace, outcome_name(error.code), counts);
                            return Err(error.with_upstream(trace));
                        }
                    }
                }
                Err(SendError::Timeout) => {
                    permit.failed(trace, "timeout", true);
                    return Err(self.timeout_error().with_upstream(trace));
                }
                Err(SendError::Connect) => (
                    None,
                    ApiError::new(
                        ErrorCode::UpstreamError,
                        "the deployment could not be reached".to_owned(),
                    )
                    .with_details(serde_json::json!({ "reason": "unreachable" })),
                ),
                Err(SendError::Other(why)) => {
                    tracing::warn!(error = why, url = %req.url, "upstream call failed");
                    let error = ApiError::new(
                        ErrorCode::UpstreamError,
                        "the call to the deployment broke off",
                    )
                    .with_details(serde_json::json!({ "reason": "broken" }));
                    permit.failed(trace, "upstream_error", true);
                    return Err(error.with_upstream(trace));
                }
            };
            // Retryable: unreachable, 429 or 503.
            let backoff = self.backoff(trace.attempts - 1);
            let delay = wait.map_or(backoff, |w| w.max(backoff));
            let budget = self.settings.max_wait.saturating_sub(started.elapsed());
            if last || wait.is_some_and(|w| w > budget) || delay > budget {
                let counts = trace.status.is_none_or(|s| s == 503 && wait.is_none());
                let mut error = failure;
                if let Some(w) = wait {
                    error = error.with_retry_after(ceil_secs(w).max(1));
                }
                permit.failed(trace, outcome_name(error.code), counts);
                return Err(error.with_upstream(trace));
            }
            tokio::time::sleep(delay).await;
        }
    }

    fn timeout_error(&self) -> ApiError {
        let ms = u64::try_from(self.settings.timeout.as_millis()).unwrap_or(u64::MAX);
        ApiError::new(
            ErrorCode::Timeout,
            format!("the deployment did not answer within {ms} ms"),
        )
        .with_details(serde_json::json!({ "reason": "timeout", "timeout_ms": ms }))
    }

    fn refused_error(
        &self,
        status: u16,
        wait: Option<Duration>,
        loading: Option<Duration>,
        message: &str,
    ) -> ApiError {
        if status == 429 {
            return ApiError::new(
                ErrorCode::RateLimited,
                format!("the deployment is rate limiting calls: {message}"),
            )
            .with_details(serde_json::json!({ "reason": "upstream_rate_limited" }))
            .with_retry_after(wait.map_or(1, ceil_secs).max(1));
        }
        let mut details = serde_json::json!({ "reason": if loading.is_some() { "loading" } else { "unavailable" } });
        if let Some(t) = loading {
            details["estimated_time"] = serde_json::json!(t.as_secs_f64());
        }
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            format!("the deployment is unavailable: {message}"),
        )
        .with_details(details)
        .with_retry_after(wait.map_or(1, ceil_secs).max(1))
    }

    /// The attempts of [`send`](Self::send) through the direct client, then the whole
    /// answer read (up to the answer size limit). The caller settles the permit once it
    /// has checked the answer.
    pub async fn call_raw(&self, req: &UpstreamRequest) -> Result<RawAnswer<'_>, ApiError> {
        let (reply, trace, permit) = self.exchange(req, true).await?;
        match reply.read_limited(MAX_ANSWER_BYTES).await {
            Ok(raw) => Ok(RawAnswer { raw, trace, permit }),
            Err(e) => {
                permit.failed(trace, "upstream_error", true);
                Err(e.with_upstream(trace))
            }
        }
    }

    /// [`call_raw`](Self::call_raw), with the answer parsed as JSON. An answer that is
    /// not JSON is settled as a failure (502 `upstream_error`, reason `invalid_response`).
    pub async fn call_json(&self, req: &UpstreamRequest) -> Result<JsonAnswer<'_>, ApiError> {
        self.call_raw(req).await?.json()
    }

    /// Counters in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let entries = self.lock();
        let mut ids: Vec<&String> = entries.keys().collect();
        ids.sort();
        let _ = writeln!(
            out,
            "# HELP hfb_upstream_calls_total Inference calls to remote deployments, by outcome."
        );
        let _ = writeln!(out, "# TYPE hfb_upstream_calls_total counter");
        for id in &ids {
            let mut outcomes: Vec<_> = entries[*id].stats.outcomes.iter().collect();
            outcomes.sort();
            for (outcome, n) in outcomes {
                let _ = writeln!(
                    out,
                    "hfb_upstream_calls_total{{deployment=\"{id}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        for (name, help, get) in [
            (
                "hfb_upstream_attempts_total",
                "HTTP attempts made to remote deployments.",
                (|s: &Stats| s.attempts) as fn(&Stats) -> u64,
            ),
            (
                "hfb_upstream_retries_total",
                "Attempts that were retries.",
                |s: &Stats| s.retries,
            ),
            (
                "hfb_upstream_breaker_opened_total",
                "Times a deployment's circuit breaker opened.",
                |s: &Stats| s.breaker_opened,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for id in &ids {
                let _ = writeln!(
                    out,
                    "{name}{{deployment=\"{id}\"}} {}",
                    get(&entries[*id].stats)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP hfb_upstream_breaker_state Circuit breaker per deployment: 0 closed, 1 open, 2 half-open."
        );
        let _ = writeln!(out, "# TYPE hfb_upstream_breaker_state gauge");
        for id in &ids {
            let state = match entries[*id].state {
                BreakerState::Closed { .. } => 0,
                BreakerState::Open { .. } => 1,
                BreakerState::HalfOpen { .. } => 2,
            };
            let _ = writeln!(
                out,
                "hfb_upstream_breaker_state{{deployment=\"{id}\"}} {state}"
            );
        }
    }
}

/// A 502 for an answer that is not what the task promises.
pub fn invalid_response(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::UpstreamError, message)
        .with_details(serde_json::json!({ "reason": "invalid_response" }))
}

fn outcome_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Timeout => "timeout",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::ServiceUnavailable => "unavailable",
        ErrorCode::UpstreamError => "upstream_error",
        _ => "rejected",
    }
}

/// The error for a non-retryable upstream status, and whether it counts against the
/// upstream's health (its own faults do; the caller's bad input does not).
fn status_error(status: u16, message: &str) -> (ApiError, bool) {
    let details = serde_json::json!({ "reason": "upstream_status", "upstream_status": status });
    match status {
        400 | 422 => (
            ApiError::new(
                if status == 400 { ErrorCode::BadRequest } else { ErrorCode::ValidationFailed },
                format!("the deployment rejected the input: {message}"),
            )
            .with_details(details),
            false,
        ),
        413 => (
            ApiError::new(ErrorCode::PayloadTooLarge, format!("the deployment found the input too large: {message}"))
                .with_details(details),
            false,
        ),
        401 | 403 => (
            ApiError::new(
                ErrorCode::UpstreamError,
                format!("the deployment refused hfb's credentials (HTTP {status}); an operator must check them"),
            )
            .with_details(details),
            true,
        ),
        _ => (
            ApiError::new(
                ErrorCode::UpstreamError,
                format!("the deployment failed (HTTP {status}): {message}"),
            )
            .with_details(details),
            status >= 500 || status == 404,
        ),
    }
}

fn late_answer() -> ApiError {
    ApiError::new(
        ErrorCode::Timeout,
        "the deployment's answer did not arrive in time",
    )
    .with_details(serde_json::json!({ "reason": "timeout" }))
}

fn broken_answer() -> ApiError {
    ApiError::new(
        ErrorCode::UpstreamError,
        "the deployment's answer broke off",
    )
    .with_details(serde_json::json!({ "reason": "broken" }))
}

fn too_large(limit: usize) -> ApiError {
    invalid_response(format!(
        "the deployment's answer is larger than {limit} bytes"
    ))
}

/// Reads at most `limit` bytes of a reqwest answer (its announced length is checked by
/// [`Reply::read_limited`]).
async fn read_chunks(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(late_answer()),
            Err(_) => return Err(broken_answer()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstreams(failures: u32, cooldown_ms: u64) -> Upstreams {
        Upstreams::new(UpstreamSettings {
            timeout: Duration::from_secs(1),
            max_attempts: 1,
            backoff: Duration::ZERO,
            max_wait: Duration::ZERO,
            breaker_failures: failures,
            breaker_cooldown: Duration::from_millis(cooldown_ms),
            hf_authorization: None,
        })
    }

    fn fail(u: &Upstreams) {
        u.admit("d").unwrap().failed(
            UpstreamTrace {
                attempts: 1,
                status: Some(500),
            },
            "upstream_error",
            true,
        );
    }

    #[test]
    fn the_breaker_opens_after_repeated_failures_and_half_opens_to_probe() {
        let u = upstreams(3, 50);
        fail(&u);
        fail(&u);
        u.admit("d").unwrap().succeeded(UpstreamTrace {
            attempts: 1,
            status: Some(200),
        });
        fail(&u);
        fail(&u);
        assert!(u.admit("d").is_ok(), "a success in between reset the count");
        fail(&u);
        let refused = u.admit("d").err().unwrap();
        assert_eq!(refused.code, ErrorCode::ServiceUnavailable);
        assert!(refused.retry_after.is_some());
        assert!(u.admit("other").is_ok(), "breakers are per deployment");
        std::thread::sleep(Duration::from_millis(60));
        let probe = u.admit("d").unwrap();
        assert!(u.admit("d").is_err(), "one probe at a time while half-open");
        probe.failed(
            UpstreamTrace {
                attempts: 1,
                status: None,
            },
            "unreachable",
            true,
        );
        assert!(u.admit("d").is_err(), "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(60));
        u.admit("d").unwrap().succeeded(UpstreamTrace {
            attempts: 1,
            status: Some(200),
        });
        assert!(u.admit("d").is_ok());
        let mut metrics = String::new();
        u.render_metrics(&mut metrics);
        assert!(
            metrics.contains("hfb_upstream_breaker_opened_total{deployment=\"d\"} 2"),
            "{metrics}"
        );
        assert!(
            metrics
                .contains("hfb_upstream_calls_total{deployment=\"d\",outcome=\"breaker_open\"} 3"),
            "{metrics}"
        );
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let u = upstreams(1, 0);
        fail(&u);
        drop(u.admit("d").unwrap());
        assert!(u.admit("d").is_ok());
    }

    #[test]
    fn upstream_messages_are_read_from_the_usual_shapes() {
        assert_eq!(
            upstream_message(br#"{"error":"Model is loading"}"#),
            "Model is loading"
        );
        assert_eq!(upstream_message(br#"{"error":["a","b"]}"#), "a; b");
        assert_eq!(upstream_message(br#"{"error":{"message":"m"}}"#), "m");
        assert_eq!(upstream_message(b"<html>oops</html>"), "<html>oops</html>");
        assert_eq!(
            upstream_message("x".repeat(400).as_bytes()).chars().count(),
            301
        );
        assert_eq!(
            estimated_time(br#"{"error":"loading","estimated_time":1.5}"#),
            Some(Duration::from_millis(1500))
        );
    }
}
