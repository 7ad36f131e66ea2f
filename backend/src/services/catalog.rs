//! The model catalog: validated search with caching, model detail with a sanitized card,
//! live fill-in from the Hugging Face Hub when it is reachable, and imports of
//! Hub-format JSON for air-gapped installs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hfb_cache::CacheExt;
use hfb_hub::{Gated, HubClient, HubError, HubModel, ListModelsQuery, Sibling};
use hfb_shared::ErrorCode;
use hfb_shared::catalog::{
    FacetValue, ImportRejection, ImportReport, ModelDetail, ModelFileInfo, ModelSearchResponse,
    ModelSummary, SearchFacets,
};
use hfb_store::{CatalogModel, CatalogQuery, CatalogSort, CatalogSource, FacetCount, ModelFile};

use crate::error::ApiError;
use crate::state::AppState;

const CARD_TTL: Duration = Duration::from_secs(3600);
/// After a failed Hub call, answer from the local catalog only for this long.
const HUB_COOLDOWN: Duration = Duration::from_secs(60);
pub const MAX_PER_PAGE: u32 = 100;
const MAX_PAGE: u32 = 10_000;
const MAX_TEXT: usize = 200;
const MAX_VALUE: usize = 100;
const MAX_TAGS: usize = 10;

/// The Hub as a live source for the catalog, with a cool-down after failures so an
/// offline install never waits on it twice a minute.
pub struct LiveHub {
    client: HubClient,
    down_until: std::sync::Mutex<Option<Instant>>,
    /// Synced models people opened since the last sync round (bounded).
    opened: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

/// Opened models remembered for the next sync round, at most.
const MAX_OPENED: usize = 500;

impl LiveHub {
    pub fn new(client: HubClient) -> Self {
        Self {
            client,
            down_until: std::sync::Mutex::new(None),
            opened: std::sync::Mutex::new(std::collections::BTreeSet::new()),
        }
    }

    /// Remembers that someone opened `id`, so the sync worker refreshes it.
    pub fn note_opened(&self, id: &str) {
        if let Ok(mut opened) = self.opened.lock()
            && opened.len() < MAX_OPENED
        {
            opened.insert(id.to_owned());
        }
    }

    /// The opened models since the last call.
    pub fn take_opened(&self) -> Vec<String> {
        self.opened
            .lock()
            .map(|mut o| std::mem::take(&mut *o).into_iter().collect())
            .unwrap_or_default()
    }

    pub fn client(&self) -> &HubClient {
        &self.client
    }

    fn available(&self) -> bool {
        self.down_until
            .lock()
            .map(|until| until.is_none_or(|t| Instant::now() >= t))
            .unwrap_or(true)
    }

    fn record(&self, result: Result<(), &HubError>) {
        if let Ok(mut until) = self.down_until.lock() {
            *until = match result {
                Ok(())
                | Err(HubError::NotFound | HubError::Unauthorized | HubError::InvalidRepoId(_)) => {
                    None
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Hugging Face Hub unavailable; serving the local catalog only for a while");
                    Some(Instant::now() + HUB_COOLDOWN)
                }
            };
        }
    }
}

/// A validated search request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub query: CatalogQuery,
    pub page: u32,
    pub per_page: u32,
}

impl SearchParams {
    /// A canonical form of the request, for cache keys and ETags.
    fn cache_key(&self) -> String {
        let q = &self.query;
        format!(
            "q={}|task={}|lib={}|lang={}|lic={}|author={}|tags={}|gated={:?}|sort={}|desc={}|page={}|per={}",
            q.text.as_deref().unwrap_or("").to_lowercase().trim(),
            q.task.as_deref().unwrap_or(""),
            q.library.as_deref().unwrap_or(""),
            q.language.as_deref().unwrap_or(""),
            q.license.as_deref().unwrap_or(""),
            q.author.as_deref().unwrap_or("").to_lowercase(),
            {
                let mut tags = q.tags.clone();
                tags.sort();
                tags.join(",")
            },
            q.gated,
            q.sort.as_str(),
            q.descending,
            self.page,
            self.per_page,
        )
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    let message = message.into();
    ApiError::new(ErrorCode::InvalidQuery, format!("{field}: {message}"))
        .with_details(serde_json::json!({ "fields": [{ "field": field, "message": message }] }))
}

/// Filter values are plain identifiers (`text-classification`, `license:mit`, `en`).
fn check_value(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.chars().count() > MAX_VALUE {
        return Err(invalid(field, format!("at most {MAX_VALUE} characters")));
    }
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || "-_.:/ +".contains(c))
    {
        return Err(invalid(
            field,
            "may contain letters, digits and - _ . : / + only",
        ));
    }
    Ok(value.to_owned())
}

fn parse_sort(value: &str) -> Result<CatalogSort, ApiError> {
    Ok(match value {
        "downloads" => CatalogSort::Downloads,
        "likes" => CatalogSort::Likes,
        "trending" | "trendingScore" => CatalogSort::Trending,
        "updated" | "lastModified" => CatalogSort::Updated,
        "created" | "createdAt" => CatalogSort::Created,
        other => {
            return Err(invalid(
                "sort",
                format!("`{other}` is not one of downloads, likes, trending, updated, created"),
            ));
        }
    })
}

fn parse_number(field: &str, value: &str, min: u32, max: u32) -> Result<u32, ApiError> {
    let n: u32 = value
        .parse()
        .map_err(|_| invalid(field, format!("`{value}` is not a whole number")))?;
    if n < min || n > max {
        return Err(invalid(field, format!("must be between {min} and {max}")));
    }
    Ok(n)
}

/// Parses `GET /api/v1/models` query parameters (`tag` may repeat).
pub fn parse_search(query_string: &str) -> Result<SearchParams, ApiError> {
    let mut q = CatalogQuery::default();
    let mut page = 1;
    let mut per_page = 20;
    let mut direction: Option<bool> = None;
    for (key, value) in form_urlencoded::parse(query_string.as_bytes()) {
        let value = value.as_ref();
        let some = |v: String| (!v.is_empty()).then_some(v);
        match key.as_ref() {
            "q" | "search" => {
                if value.chars().count() > MAX_TEXT {
                    return Err(invalid("q", format!("at most {MAX_TEXT} characters")));
                }
                q.text = some(value.trim().to_owned());
            }
            "task" | "pipeline_tag" => q.task = some(check_value("task", value)?),
            "library" => q.library = some(check_value("library", value)?),
            "language" => q.language = some(check_value("language", value)?),
            "license" => q.license = some(check_value("license", value)?),
            "author" => q.author = some(check_value("author", value)?),
            "tag" => {
                let tag = check_value("tag", value)?;
                if !tag.is_empty() {
                    q.tags.push(tag);
                }
                if q.tags.len() > MAX_TAGS {
                    return Err(invalid("tag", format!("at most {MAX_TAGS} tags")));
                }
            }
            "gated" => {
                q.gated = match value {
                    "true" => Some(true),
                    "false" => Some(false),
                    "" => None,
                    other => {
                        return Err(invalid("gated", format!("`{other}` is not true or false")));
                    }
                }
            }
            "sort" => q.sort = parse_sort(value)?,
            "direction" => {
                direction = Some(match value {
                    "desc" | "-1" => true,
                    "asc" | "1" => false,
                    other => {
                        return Err(invalid(
                            "direction",
                            format!("`{other}` is not asc or desc"),
                        ));
                    }
                })
            }
            "page" => page = parse_number("page", value, 1, MAX_PAGE)?,
            "per_page" | "limit" => per_page = parse_number("per_page", value, 1, MAX_PER_PAGE)?,
            other => {
                return Err(invalid(
                    other,
                    "unknown parameter; use q, task, library, language, license, author, tag, gated, sort, direction, page, per_page",
                ));
            }
        }
    }
    q.descending = direction.unwrap_or(true);
    q.limit = per_page;
    q.offset = (page - 1).saturating_mul(per_page);
    Ok(SearchParams {
        query: q,
        page,
        per_page,
    })
}

pub fn summary(m: &CatalogModel) -> ModelSummary {
    ModelSummary {
        id: m.id.clone(),
        author: m.author.clone(),
        task: m.task.clone(),
        library: m.library.clone(),
        languages: m.languages.clone(),
        license: m.license.clone(),
        tags: m.tags.clone(),
        downloads: m.downloads,
        likes: m.likes,
        trending_score: m.trending_score,
        created_at: m.created_at.map(|t| t.to_rfc3339()),
        updated_at: m.updated_at.map(|t| t.to_rfc3339()),
        gated: m.gated.clone(),
        source: m.source.as_str().to_owned(),
    }
}

fn facets(list: &[FacetCount]) -> Vec<FacetValue> {
    list.iter()
        .map(|f| FacetValue {
            value: f.value.clone(),
            count: f.count,
        })
        .collect()
}

/// The catalog revision plus the request: equal ETags mean an equal answer.
pub fn etag(revision: u64, params: &SearchParams) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    params.cache_key().hash(&mut h);
    format!("W/\"c{revision}-{:x}\"", h.finish())
}

/// Answers a search against the catalog as of `revision` (read by the caller, who also
/// needs it for the ETag). Returns the answer and the revision it belongs to: newer than
/// `revision` when models from the Hub were added on the way.
pub async fn search(
    state: &AppState,
    params: &SearchParams,
    mut revision: u64,
) -> Result<(ModelSearchResponse, u64), ApiError> {
    // Cached pages live HFB_CATALOG_CACHE_TTL_SECS; any catalog change also retires
    // them (the key carries the catalog revision).
    let ttl = Duration::from_secs(state.settings.catalog_cache_ttl_secs);
    let key = format!("catalog:search:{revision}:{}", params.cache_key());
    if !ttl.is_zero()
        && let Ok(Some(hit)) = state.cache.get_json::<ModelSearchResponse>(&key).await
    {
        return Ok((hit, revision));
    }
    let mut page = state.store.search_catalog(&params.query).await?;
    // A text search the local catalog answers poorly is also asked of the Hub.
    if params.page == 1
        && (page.items.len() as u32) < params.per_page
        && let Some(text) = params.query.text.as_deref()
        && fill_from_hub(state, text).await > 0
    {
        revision = state.store.catalog_revision().await?;
        page = state.store.search_catalog(&params.query).await?;
    }
    let pages = page.total.div_ceil(u64::from(params.per_page)) as u32;
    let response = ModelSearchResponse {
        items: page.items.iter().map(summary).collect(),
        total: page.total,
        page: params.page,
        per_page: params.per_page,
        pages,
        facets: SearchFacets {
            tasks: facets(&page.facets.tasks),
            libraries: facets(&page.facets.libraries),
            licenses: facets(&page.facets.licenses),
            languages: facets(&page.facets.languages),
        },
    };
    let key = format!("catalog:search:{revision}:{}", params.cache_key());
    if !ttl.is_zero()
        && let Err(e) = state.cache.set_json(&key, &response, ttl).await
    {
        tracing::debug!(error = %e, "could not cache a catalog search");
    }
    Ok((response, revision))
}

/// Asks the Hub for `text` and stores what it finds; returns how many models changed.
async fn fill_from_hub(state: &AppState, text: &str) -> u64 {
    let Some(live) = state.live_hub.as_ref().filter(|h| h.available()) else {
        return 0;
    };
    let query = ListModelsQuery {
        search: Some(text.to_owned()),
        limit: Some(50),
        full: true,
        card_data: true,
        ..ListModelsQuery::default()
    };
    match live.client.list_models(&query).await {
        Ok(page) => {
            live.record(Ok(()));
            let now = Utc::now();
            let models: Vec<CatalogModel> = page
                .models
                .into_iter()
                .map(|m| from_hub(m, CatalogSource::Synced, now))
                .collect();
            match state.store.upsert_models(&models).await {
                Ok(counts) => counts.inserted + counts.updated,
                Err(e) => {
                    tracing::warn!(error = %e, "could not store models from the Hub");
                    0
                }
            }
        }
        Err(e) => {
            live.record(Err(&e));
            0
        }
    }
}

/// A model by id; unknown ids are looked up on the Hub (when reachable) and kept.
pub async fn model(state: &AppState, id: &str) -> Result<CatalogModel, ApiError> {
    hfb_hub::validate_repo_id(id)
        .map_err(|e| ApiError::new(ErrorCode::InvalidPath, e.to_string()))?;
    if let Some(model) = state.store.catalog_model(id).await? {
        return Ok(model);
    }
    let not_found = || ApiError::not_found(format!("no model `{id}` in the catalog"));
    let Some(live) = state.live_hub.as_ref().filter(|h| h.available()) else {
        return Err(not_found());
    };
    match live.client.model_info(id, None).await {
        Ok(found) => {
            live.record(Ok(()));
            let model = from_hub(found, CatalogSource::Synced, Utc::now());
            state
                .store
                .upsert_models(std::slice::from_ref(&model))
                .await?;
            Ok(model)
        }
        Err(e) => {
            live.record(Err(&e));
            Err(not_found())
        }
    }
}

pub async fn detail(state: &AppState, id: &str) -> Result<ModelDetail, ApiError> {
    let model = model(state, id).await?;
    if model.source == CatalogSource::Synced
        && let Some(live) = state.live_hub.as_ref()
    {
        live.note_opened(&model.id);
    }
    let card_html = card(state, &model).await;
    Ok(ModelDetail {
        model: summary(&model),
        sha: model.sha.clone(),
        files: model
            .files
            .iter()
            .map(|f| ModelFileInfo {
                path: f.path.clone(),
                size: f.size,
            })
            .collect(),
        card_html,
        card_metadata: model.card_data.clone(),
        hub_url: (model.source != CatalogSource::Local).then(|| {
            format!(
                "{}/{}",
                state.settings.hf_endpoint.trim_end_matches('/'),
                model.id
            )
        }),
    })
}

/// The rendered card: cached per model revision; fetched from the Hub when reachable.
async fn card(state: &AppState, model: &CatalogModel) -> Option<String> {
    let key = format!(
        "catalog:card:{}:{}",
        model.id.to_lowercase(),
        model.sha.as_deref().unwrap_or("-")
    );
    if let Ok(Some(html)) = state.cache.get(&key).await {
        return String::from_utf8(html).ok();
    }
    let markdown = match model.source {
        CatalogSource::Local => std::fs::read_to_string(
            state
                .settings
                .data_dir
                .join("models")
                .join(&model.id)
                .join("README.md"),
        )
        .ok(),
        _ => {
            let live = state.live_hub.as_ref().filter(|h| h.available())?;
            match live
                .client
                .model_card(&model.id, model.sha.as_deref())
                .await
            {
                Ok(md) => {
                    live.record(Ok(()));
                    Some(md)
                }
                Err(e) => {
                    live.record(Err(&e));
                    None
                }
            }
        }
    }?;
    let html = render_card(&markdown);
    let _ = state.cache.set(&key, html.as_bytes(), CARD_TTL).await;
    Some(html)
}

/// Splits `---\nyaml\n---\n` front matter from a card.
pub fn split_front_matter(markdown: &str) -> (Option<&str>, &str) {
    let text = markdown.strip_prefix('\u{feff}').unwrap_or(markdown);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    match rest.find("\n---") {
        Some(end) => {
            let body = &rest[end + 4..];
            let body = body.split_once('\n').map_or("", |(_, b)| b);
            (Some(&rest[..end]), body)
        }
        None => (None, text),
    }
}

/// The card's front matter as JSON (for local models; Hub models carry `cardData`).
pub fn front_matter_json(markdown: &str) -> Option<serde_json::Value> {
    let (yaml, _) = split_front_matter(markdown);
    yaml_serde::from_str::<serde_json::Value>(yaml?)
        .ok()
        .filter(|v| v.is_object())
}

/// Markdown to HTML, then sanitized: no scripts, styles, event handlers, forms or
/// `javascript:` links; links get `rel="noopener noreferrer"`.
pub fn render_card(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let (_, body) = split_front_matter(markdown);
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    let mut raw = String::new();
    html::push_html(&mut raw, Parser::new_ext(body, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(&raw)
        .to_string()
}

fn tag_value(tags: &[String], prefix: &str) -> Option<String> {
    tags.iter()
        .find_map(|t| t.strip_prefix(prefix))
        .map(str::to_owned)
}

pub fn from_hub(m: HubModel, source: CatalogSource, now: DateTime<Utc>) -> CatalogModel {
    let license = m.license().or_else(|| tag_value(&m.tags, "license:"));
    let languages = m.languages();
    let author = m
        .author
        .clone()
        .or_else(|| m.id.split_once('/').map(|(owner, _)| owner.to_owned()));
    CatalogModel {
        author,
        task: m.pipeline_tag,
        library: m.library_name,
        languages,
        license,
        downloads: m
            .downloads
            .map_or(0, |d| i64::try_from(d).unwrap_or(i64::MAX)),
        downloads_all_time: m
            .downloads_all_time
            .map(|d| i64::try_from(d).unwrap_or(i64::MAX)),
        likes: m.likes.map_or(0, |d| i64::try_from(d).unwrap_or(i64::MAX)),
        trending_score: m.trending_score.unwrap_or(0.0),
        created_at: m.created_at,
        updated_at: m.last_modified,
        gated: match m.gated {
            Gated::Ungated => "false",
            Gated::Auto => "auto",
            Gated::Manual => "manual",
        }
        .to_owned(),
        private: m.private.unwrap_or(false),
        sha: m.sha,
        files: m
            .siblings
            .into_iter()
            .map(|s| ModelFile {
                path: s.rfilename,
                size: s.size.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            })
            .collect(),
        card_data: m.card_data,
        tags: m.tags,
        id: m.id,
        source,
        synced_at: now,
    }
}

/// A catalog entry in the Hub's own JSON shape (for the Hub-compatible routes).
pub fn to_hub(m: &CatalogModel, full: bool) -> HubModel {
    HubModel {
        object_id: Some(hub_object_id(&m.id)),
        id: m.id.clone(),
        model_id: Some(m.id.clone()),
        author: m.author.clone(),
        sha: m.sha.clone(),
        private: Some(m.private),
        disabled: Some(false),
        gated: match m.gated.as_str() {
            "auto" => Gated::Auto,
            "manual" => Gated::Manual,
            _ => Gated::Ungated,
        },
        last_modified: m.updated_at,
        created_at: m.created_at,
        downloads: Some(u64::try_from(m.downloads).unwrap_or(0)),
        downloads_all_time: m.downloads_all_time.and_then(|d| u64::try_from(d).ok()),
        likes: Some(u64::try_from(m.likes).unwrap_or(0)),
        trending_score: Some(m.trending_score),
        library_name: m.library.clone(),
        pipeline_tag: m.task.clone(),
        tags: m.tags.clone(),
        card_data: if full { m.card_data.clone() } else { None },
        siblings: if full {
            m.files
                .iter()
                .map(|f| Sibling {
                    rfilename: f.path.clone(),
                    size: f.size.and_then(|s| u64::try_from(s).ok()),
                    ..Sibling::default()
                })
                .collect()
        } else {
            Vec::new()
        },
        ..HubModel::default()
    }
}

/// A stable 24-hex-digit id in the Hub's `_id` style, derived from the model id.
fn hub_object_id(id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.to_lowercase().as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Imports a JSON array in the Hub's `/api/models?full=true` format. Entries that do not
/// parse or have an invalid id are reported with their index and skipped.
pub async fn import(store: &dyn hfb_store::Store, json: &[u8]) -> Result<ImportReport, ApiError> {
    let entries: Vec<serde_json::Value> = serde_json::from_slice(json).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("expected a JSON array of Hub model entries: {e}"),
        )
    })?;
    let now = Utc::now();
    let mut models = Vec::with_capacity(entries.len());
    let mut rejected = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let id = entry
            .get("id")
            .or_else(|| entry.get("modelId"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        match serde_json::from_value::<HubModel>(entry.clone()) {
            Ok(model) => match hfb_hub::validate_repo_id(&model.id) {
                Ok(()) => models.push(from_hub(model, CatalogSource::Imported, now)),
                Err(e) => rejected.push(ImportRejection {
                    index,
                    id,
                    reason: e.to_string(),
                }),
            },
            Err(e) => rejected.push(ImportRejection {
                index,
                id,
                reason: e.to_string(),
            }),
        }
    }
    let mut inserted = 0;
    let mut updated = 0;
    for chunk in models.chunks(1000) {
        let counts = store.upsert_models(chunk).await?;
        inserted += counts.inserted;
        updated += counts.updated;
    }
    Ok(ImportReport {
        received: entries.len(),
        inserted,
        updated,
        unchanged: models.len() as u64 - inserted - updated,
        rejected,
    })
}

pub fn live_hub(settings: &crate::config::Settings) -> Option<Arc<LiveHub>> {
    if !settings.catalog_live {
        return None;
    }
    let config = hfb_hub::HubConfig {
        endpoint: settings.hf_endpoint.clone(),
        token: settings
            .hugging_face_api_key
            .as_ref()
            .map(|s| s.expose().to_owned()),
        timeout: Duration::from_secs(5),
        max_retries: 1,
        max_backoff: Duration::from_secs(2),
        ..hfb_hub::HubConfig::default()
    };
    match HubClient::new(config) {
        Ok(client) => Some(Arc::new(LiveHub::new(client))),
        Err(e) => {
            tracing::warn!(error = %e, "Hub client unavailable; the catalog works from local data only");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters_are_validated() {
        let p = parse_search("q=mini&task=feature-extraction&tag=en&tag=license:mit&sort=likes&direction=asc&page=3&per_page=10")
            .unwrap();
        assert_eq!(p.query.text.as_deref(), Some("mini"));
        assert_eq!(p.query.tags, ["en", "license:mit"]);
        assert_eq!(
            (
                p.query.sort,
                p.query.descending,
                p.query.offset,
                p.query.limit
            ),
            (CatalogSort::Likes, false, 20, 10)
        );
        for bad in [
            "sort=best",
            "per_page=500",
            "page=0",
            "gated=maybe",
            "task=$ne",
            "tag={\"$gt\":1}",
            "color=red",
            "page=x",
        ] {
            let err = parse_search(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidQuery, "{bad}");
        }
        assert!(parse_search(&format!("q={}", "a".repeat(201))).is_err());
        // Regex and operator characters in free text are just text.
        assert_eq!(
            parse_search("q=.*%24where(").unwrap().query.text.as_deref(),
            Some(".*$where(")
        );
    }

    #[test]
    fn cards_are_rendered_and_sanitized() {
        let md = "---\nlicense: apache-2.0\nlanguage: [en]\n---\n# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> [ok](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let html = render_card(md);
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
        for bad in ["<script", "javascript:", "onerror", "license: apache"] {
            assert!(!html.contains(bad), "{bad} in {html}");
        }
        assert!(html.contains("rel=\"noopener noreferrer\""), "{html}");
        let meta = front_matter_json(md).unwrap();
        assert_eq!(meta["license"], "apache-2.0");
        assert_eq!(meta["language"][0], "en");
    }
}
