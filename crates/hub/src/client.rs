use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, LINK, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::headers::{next_link, parse_ratelimit_reset, parse_retry_after};
use crate::{HubConfig, HubError, HubModel, ListModelsQuery, validate_repo_id};

/// Wait before the first retry (doubled per attempt, capped by `max_backoff`, full jitter).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// Largest success body read (a `full=true` page of 1000 models is a few MB).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Largest page size the Hub accepts; `list_all` asks for this much when no limit is set.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Bytes of an error body kept for [`HubError::Upstream`] messages.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
const MAX_ERROR_MESSAGE_CHARS: usize = 500;
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One page of `GET /api/models`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelPage {
    pub models: Vec<HubModel>,
    /// Absolute URL of the next page (from the `Link: <…>; rel="next"` header).
    pub next: Option<String>,
}

/// Client of the Hub's model API. Cheap to clone (one shared connection pool).
///
/// Every request is a GET retried on network errors, timeouts, 429 and 5xx (see
/// [`HubConfig`]). The token is sent only to the configured endpoint's origin.
#[derive(Clone)]
pub struct HubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Url,
    auth: Option<HeaderValue>,
    /// Kept only to scrub it from upstream messages.
    token: Option<String>,
    max_retries: u32,
    max_backoff: Duration,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &display_url(&self.inner.endpoint))
            .field("authenticated", &self.inner.auth.is_some())
            .field("max_retries", &self.inner.max_retries)
            .field("max_backoff", &self.inner.max_backoff)
            .finish_non_exhaustive()
    }
}

/// A successful response, fully read.
pub(crate) struct Fetched {
    /// After redirects.
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Fetched {
    /// The body as JSON of type `T`; `what` names it in the error.
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, HubError> {
        serde_json::from_slice(&self.body).map_err(|e| HubError::Malformed(format!("{what}: {e}")))
    }
}

/// How a failure status becomes a [`HubError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorMode {
    /// The read-only model API: 401/403 means a gated or private repository, other 4xx
    /// are [`HubError::Upstream`].
    Read,
    /// The management APIs (Inference Endpoints, Spaces): 401/403 is about the token
    /// ([`HubError::MissingToken`], [`HubError::TokenRejected`]), 409 is
    /// [`HubError::Conflict`], 400/422 are [`HubError::Invalid`] with the Hub's message.
    Manage,
}

/// A request body and its content type.
pub(crate) struct Body {
    content_type: &'static str,
    bytes: Vec<u8>,
}

impl Body {
    pub(crate) fn json(value: &impl Serialize) -> Result<Self, HubError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| HubError::InvalidArgument(format!("request body: {e}")))?;
        Ok(Body {
            content_type: "application/json",
            bytes,
        })
    }

    pub(crate) fn ndjson(bytes: Vec<u8>) -> Self {
        Body {
            content_type: "application/x-ndjson",
            bytes,
        }
    }
}

/// One logical request, sent once or more.
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Body>,
    /// Whether sending it twice is harmless. A call that is not is retried only when the
    /// server cannot have acted on it (429, 503, connection not established), never after
    /// a timeout or another 5xx.
    pub(crate) idempotent: bool,
    pub(crate) mode: ErrorMode,
}

/// A failed attempt and the server's requested wait, if any.
struct Failure {
    error: HubError,
    retry_after: Option<Duration>,
    /// The request never reached the server (connection refused, DNS).
    not_sent: bool,
}

impl From<HubError> for Failure {
    fn from(error: HubError) -> Self {
        Failure {
            error,
            retry_after: None,
            not_sent: false,
        }
    }
}

impl Failure {
    fn may_retry(&self, idempotent: bool) -> bool {
        if idempotent {
            return self.error.is_retryable();
        }
        self.not_sent
            || matches!(
                self.error,
                HubError::RateLimited { .. } | HubError::Upstream { status: 503, .. }
            )
    }
}

impl HubClient {
    /// Builds the client (no request is sent). Fails on an endpoint that is not an
    /// http(s) URL, a zero timeout, or a token/user agent that cannot be a header.
    pub fn new(config: HubConfig) -> Result<Self, HubError> {
        let endpoint = Url::parse(config.endpoint.trim())
            .map_err(|e| HubError::InvalidConfig(format!("endpoint is not a URL: {e}")))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.cannot_be_a_base() {
            return Err(HubError::InvalidConfig(
                "endpoint must be an http(s) URL".to_owned(),
            ));
        }
        if config.timeout.is_zero() {
            return Err(HubError::InvalidConfig(
                "timeout must be positive".to_owned(),
            ));
        }
        let token = config
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let auth = match &token {
            Some(t) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {t}")).map_err(|_| {
                    HubError::InvalidConfig(
                        "token contains characters not allowed in an HTTP header".to_owned(),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let user_agent = HeaderValue::from_str(&config.user_agent).map_err(|_| {
            HubError::InvalidConfig(
                "user agent contains characters not allowed in an HTTP header".to_owned(),
            )
        })?;
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .user_agent(user_agent)
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(MAX_CONNECT_TIMEOUT))
            .build()
            .map_err(|e| HubError::InvalidConfig(error_chain(&e)))?;

        Ok(HubClient {
            inner: Arc::new(Inner {
                http,
                endpoint,
                auth,
                token,
                max_retries: config.max_retries,
                max_backoff: config.max_backoff,
            }),
        })
    }

    /// The Hub base URL requests go to.
    pub fn endpoint(&self) -> &str {
        self.inner.endpoint.as_str()
    }

    /// Whether a token is sent.
    pub fn is_authenticated(&self) -> bool {
        self.inner.auth.is_some()
    }

    /// `GET /api/models?…`: one page and the link to the next.
    pub async fn list_models(&self, query: &ListModelsQuery) -> Result<ModelPage, HubError> {
        let mut url = self.url(&["api", "models"]);
        let pairs = query.pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        self.fetch_page(url).await
    }

    /// Follows a `next` URL from a previous [`ModelPage`] (a relative one is resolved
    /// against the endpoint). The token is sent only if it is on the endpoint's origin.
    pub async fn list_models_from(&self, next_url: &str) -> Result<ModelPage, HubError> {
        let url = self
            .inner
            .endpoint
            .join(next_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| HubError::Malformed("next-page URL is not an http(s) URL".to_owned()))?;
        self.fetch_page(url).await
    }

    /// Follows pages until the Hub sends no `next` link or `max_items` models are read
    /// (the result is cut to `max_items`). Without `query.limit`, pages of
    /// `min(max_items, 1000)` are asked for.
    pub async fn list_all(
        &self,
        query: &ListModelsQuery,
        max_items: usize,
    ) -> Result<Vec<HubModel>, HubError> {
        if max_items == 0 {
            return Ok(Vec::new());
        }
        let mut query = query.clone();
        if query.limit.is_none() {
            query.limit =
                Some(u32::try_from(max_items).map_or(MAX_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE)));
        }
        let mut page = self.list_models(&query).await?;
        let mut models = Vec::new();
        let mut followed = HashSet::new();
        let mut pages = 1usize;
        loop {
            let empty = page.models.is_empty();
            models.extend(page.models);
            if models.len() >= max_items {
                models.truncate(max_items);
                break;
            }
            // An empty page or a link already followed would loop forever.
            match page.next {
                Some(next) if !empty && followed.insert(next.clone()) => {
                    page = self.list_models_from(&next).await?;
                    pages += 1;
                }
                _ => break,
            }
        }
        tracing::debug!(pages, models = models.len(), max_items, "listed Hub models");
        Ok(models)
    }

    /// `GET /api/models/{id}` or `/api/models/{id}/revision/{revision}` (renamed repos are
    /// followed through their redirect). An empty revision means the default branch.
    pub async fn model_info(&self, id: &str, revision: Option<&str>) -> Result<HubModel, HubError> {
        validate_repo_id(id)?;
        let mut segments = vec!["api", "models"];
        segments.extend(id.split('/'));
        if let Some(rev) = revision.filter(|r| !r.is_empty()) {
            segments.extend(["revision", rev]);
        }
        let fetched = self.get(self.url(&segments)).await?;
        serde_json::from_slice(&fetched.body)
            .map_err(|e| HubError::Malformed(format!("model info: {e}")))
    }

    /// The model card: `GET /{id}/raw/{revision or main}/README.md` (markdown with YAML
    /// front matter).
    pub async fn model_card(&self, id: &str, revision: Option<&str>) -> Result<String, HubError> {
        validate_repo_id(id)?;
        let rev = revision.filter(|r| !r.is_empty()).unwrap_or("main");
        let mut segments: Vec<&str> = id.split('/').collect();
        segments.extend(["raw", rev, "README.md"]);
        let fetched = self.get(self.url(&segments)).await?;
        Ok(String::from_utf8_lossy(&fetched.body).into_owned())
    }

    /// The endpoint with `segments` appended, each percent-encoded as one segment
    /// (so a revision like `refs/pr/1` stays one segment).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn fetch_page(&self, url: Url) -> Result<ModelPage, HubError> {
        let fetched = self.get(url).await?;
        let next = next_link(
            fetched
                .headers
                .get_all(LINK)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
        .map(|next| {
            fetched
                .url
                .join(&next)
                .map(String::from)
                .map_err(|e| HubError::Malformed(format!("Link header URL: {e}")))
        })
        .transpose()?;
        let entries: Vec<Value> = serde_json::from_slice(&fetched.body)
            .map_err(|e| HubError::Malformed(format!("model list: {e}")))?;
        let total = entries.len();
        let mut models = Vec::with_capacity(total);
        let mut last_error = None;
        for entry in entries {
            let id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
            match serde_json::from_value::<HubModel>(entry) {
                Ok(model) => models.push(model),
                Err(e) => {
                    // One odd entry should not hide a page; a wholly unreadable page is an error.
                    tracing::warn!(id = id.as_deref().unwrap_or("?"), error = %e, "skipping unreadable Hub model entry");
                    last_error = Some(e);
                }
            }
        }
        if let Some(e) = last_error
            && models.is_empty()
        {
            return Err(HubError::Malformed(format!(
                "model list: no readable entry of {total}: {e}"
            )));
        }
        Ok(ModelPage { models, next })
    }

    /// GET of the read-only API, with retries.
    async fn get(&self, url: Url) -> Result<Fetched, HubError> {
        self.send(Call {
            method: Method::GET,
            url,
            body: None,
            idempotent: true,
            mode: ErrorMode::Read,
        })
        .await
    }

    /// Sends `call`, retrying as its `idempotent` flag allows (see [`HubConfig`]).
    pub(crate) async fn send(&self, call: Call) -> Result<Fetched, HubError> {
        let max_retries = self.inner.max_retries;
        let url = &call.url;
        let mut attempt = 0u32;
        loop {
            let failure = match self.attempt(&call).await {
                Ok(fetched) => return Ok(fetched),
                Err(failure) => failure,
            };
            let may_retry = failure.may_retry(call.idempotent);
            if !may_retry || attempt >= max_retries {
                if attempt > 0 && may_retry {
                    tracing::warn!(method = %call.method, url = %display_url(url), attempts = attempt + 1, error = %failure.error, "Hub request failed after retries");
                }
                return Err(failure.error);
            }
            let delay = match failure.retry_after {
                // Retrying before the server's time would only spend quota.
                Some(wait) if wait > self.inner.max_backoff => {
                    tracing::warn!(method = %call.method, url = %display_url(url), retry_after_s = wait.as_secs(), max_backoff_ms = self.inner.max_backoff.as_millis() as u64, error = %failure.error, "Hub asks to wait longer than max_backoff; giving up");
                    return Err(failure.error);
                }
                Some(wait) => wait,
                None => full_jitter(attempt, self.inner.max_backoff),
            };
            attempt += 1;
            tracing::warn!(
                method = %call.method,
                url = %display_url(url),
                attempt,
                max_retries,
                delay_ms = delay.as_millis() as u64,
                error = %failure.error,
                "retrying Hub request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, call: &Call) -> Result<Fetched, Failure> {
        let url = &call.url;
        tracing::debug!(method = %call.method, url = %display_url(url), "Hub request");
        let mut request = self.inner.http.request(call.method.clone(), url.clone());
        if let Some(auth) = &self.inner.auth
            && url.origin() == self.inner.endpoint.origin()
        {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, body.content_type)
                .body(body.bytes.clone());
        }
        let mut response = request.send().await.map_err(|e| self.map_reqwest(&e))?;
        let status = response.status();
        let final_url = response.url().clone();
        let headers = std::mem::take(response.headers_mut());

        if status.is_success() {
            let body = read_body(&mut response, MAX_BODY_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge => Failure::from(HubError::Malformed(format!(
                        "response body larger than {MAX_BODY_BYTES} bytes"
                    ))),
                    BodyError::Read(e) => self.map_reqwest(&e),
                })?;
            return Ok(Fetched {
                url: final_url,
                headers,
                body,
            });
        }

        let retry_after = retry_after(&headers);
        // The body only feeds the message; a failure to read it must not mask the status.
        let body = read_body(&mut response, MAX_ERROR_BODY_BYTES)
            .await
            .unwrap_or_default();
        let error_code = headers
            .get("x-error-code")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let message = || self.scrub(error_message(&body, status));
        let anonymous_manage = call.mode == ErrorMode::Manage && self.inner.auth.is_none();
        let error = match status {
            // Without a token the Hub hides repos behind 401 + `RepoNotFound`: the missing
            // token is the actionable part.
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if anonymous_manage => {
                HubError::MissingToken
            }
            StatusCode::NOT_FOUND => HubError::NotFound,
            _ if matches!(
                error_code,
                "RepoNotFound" | "RevisionNotFound" | "EntryNotFound"
            ) =>
            {
                HubError::NotFound
            }
            StatusCode::TOO_MANY_REQUESTS => HubError::RateLimited { retry_after },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => match call.mode {
                ErrorMode::Read => HubError::Unauthorized,
                ErrorMode::Manage => HubError::TokenRejected {
                    status: status.as_u16(),
                    message: message(),
                },
            },
            StatusCode::CONFLICT if call.mode == ErrorMode::Manage => {
                HubError::Conflict { message: message() }
            }
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
                if call.mode == ErrorMode::Manage =>
            {
                HubError::Invalid {
                    status: status.as_u16(),
                    message: message(),
                }
            }
            _ => HubError::Upstream {
                status: status.as_u16(),
                message: message(),
            },
        };
        Err(Failure {
            error,
            retry_after,
            not_sent: false,
        })
    }

    fn map_reqwest(&self, e: &reqwest::Error) -> Failure {
        let not_sent = e.is_connect();
        let error = if e.is_timeout() {
            HubError::Timeout
        } else if e.is_redirect() {
            HubError::Malformed(format!("redirects: {}", self.scrub(error_chain(e))))
        } else if e.is_builder() {
            HubError::InvalidConfig(self.scrub(error_chain(e)))
        } else {
            HubError::Network(self.scrub(error_chain(e)))
        };
        Failure {
            error,
            retry_after: None,
            not_sent,
        }
    }

    fn scrub(&self, text: String) -> String {
        match &self.inner.token {
            Some(token) if text.contains(token.as_str()) => {
                text.replace(token.as_str(), "<redacted>")
            }
            _ => text,
        }
    }
}

/// Random wait in `[0, min(max_backoff, INITIAL_BACKOFF * 2^attempt)]` ("full jitter").
fn full_jitter(attempt: u32, max_backoff: Duration) -> Duration {
    let exp = INITIAL_BACKOFF.saturating_mul(2u32.saturating_pow(attempt.min(20)));
    let cap = u64::try_from(exp.min(max_backoff).as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::random_range(0..=cap))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
        .or_else(|| {
            headers
                .get("ratelimit")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_ratelimit_reset)
        })
}

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

/// Reads the body chunk by chunk, refusing more than `max` bytes.
async fn read_body(response: &mut reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The message of an error body: `{"error": "..."}` (string or list) as the Hub sends it,
/// `{"message": "..."}` (with `error` as its prefix when both are present), or a
/// FastAPI-style `{"detail": "..." | [{"loc": [...], "msg": "..."}]}`; else the text itself.
fn error_message(body: &[u8], status: StatusCode) -> String {
    let from_json = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| json_error_message(&v));
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    match text.char_indices().nth(MAX_ERROR_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn json_error_message(v: &Value) -> Option<String> {
    let error = match v.get("error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    };
    let message = v.get("message").and_then(Value::as_str).map(str::to_owned);
    let detail = match v.get("detail") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|item| {
                    let msg = item
                        .get("msg")
                        .and_then(Value::as_str)
                        .map_or_else(|| item.to_string(), str::to_owned);
                    let loc = item
                        .get("loc")
                        .and_then(Value::as_array)
                        .map(|parts| {
                            parts
                                .iter()
                                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .filter(|l| !l.is_empty());
                    match loc {
                        Some(loc) => format!("{loc}: {msg}"),
                        None => msg,
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    };
    let detail = message.or(detail);
    match (error, detail) {
        (Some(e), Some(d)) if e != d && !d.contains(&e) => Some(format!("{e}: {d}")),
        (_, Some(d)) => Some(d),
        (Some(e), None) => Some(e),
        (None, None) => None,
    }
}

/// An error and its sources (reqwest shows the URL without user info; the token is in a
/// header, never in the URL).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// A URL for logs: user info removed.
fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_under_the_cap() {
        let max = Duration::from_secs(30);
        for attempt in 0..40 {
            let cap = INITIAL_BACKOFF
                .saturating_mul(2u32.saturating_pow(attempt.min(20)))
                .min(max);
            for _ in 0..50 {
                assert!(full_jitter(attempt, max) <= cap);
            }
        }
        assert_eq!(full_jitter(3, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn error_messages_from_hub_bodies() {
        let s = StatusCode::BAD_REQUEST;
        assert_eq!(
            error_message(br#"{"error":"Invalid sort"}"#, s),
            "Invalid sort"
        );
        assert_eq!(error_message(br#"{"error":["a","b"]}"#, s), "a; b");
        assert_eq!(error_message(b"  plain text \n", s), "plain text");
        assert_eq!(error_message(b"", s), "Bad Request");
        assert_eq!(
            error_message(br#"{"message":"Instance size x9 is not available"}"#, s),
            "Instance size x9 is not available"
        );
        assert_eq!(
            error_message(br#"{"error":"Bad Request","message":"unknown vendor"}"#, s),
            "Bad Request: unknown vendor"
        );
        assert_eq!(
            error_message(
                br#"{"detail":[{"loc":["body","compute","instanceSize"],"msg":"field required"}]}"#,
                s
            ),
            "body.compute.instanceSize: field required"
        );
        let long = "é".repeat(2000);
        assert_eq!(
            error_message(long.as_bytes(), s).chars().count(),
            MAX_ERROR_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn display_url_drops_credentials() {
        let url = Url::parse("https://user:secret@hub.example/api/models?x=1").unwrap();
        assert_eq!(display_url(&url), "https://hub.example/api/models?x=1");
    }

    #[test]
    fn bad_configs_are_refused() {
        for config in [
            HubConfig {
                endpoint: "not a url".into(),
                ..HubConfig::default()
            },
            HubConfig {
                endpoint: "ftp://hub.example".into(),
                ..HubConfig::default()
            },
            HubConfig {
                endpoint: "mailto:x@y".into(),
                ..HubConfig::default()
            },
            HubConfig {
                timeout: Duration::ZERO,
                ..HubConfig::default()
            },
            HubConfig {
                token: Some("hf_\nabc".into()),
                ..HubConfig::default()
            },
            HubConfig {
                user_agent: "a\u{7f}b".into(),
                ..HubConfig::default()
            },
        ] {
            let err = HubClient::new(config.clone()).unwrap_err();
            assert!(
                matches!(err, HubError::InvalidConfig(_)),
                "{config:?}: {err}"
            );
            assert!(!err.to_string().contains("abc"));
        }
    }

    #[test]
    fn urls_keep_an_endpoint_prefix_and_encode_segments() {
        let client = HubClient::new(HubConfig {
            endpoint: "https://hub.example/mirror/".into(),
            ..HubConfig::default()
        })
        .unwrap();
        assert_eq!(
            client
                .url(&["api", "models", "a", "b", "revision", "refs/pr/1"])
                .as_str(),
            "https://hub.example/mirror/api/models/a/b/revision/refs%2Fpr%2F1"
        );
        let client = HubClient::new(HubConfig::default()).unwrap();
        assert_eq!(
            client.url(&["api", "models"]).as_str(),
            "https://huggingface.co/api/models"
        );
    }

    #[test]
    fn blank_token_means_anonymous() {
        let client = HubClient::new(HubConfig {
            token: Some("  ".into()),
            ..HubConfig::default()
        })
        .unwrap();
        assert!(!client.is_authenticated());
        let client = HubClient::new(HubConfig {
            token: Some("hf_abc\n".into()),
            ..HubConfig::default()
        })
        .unwrap();
        assert!(client.is_authenticated());
    }
}
