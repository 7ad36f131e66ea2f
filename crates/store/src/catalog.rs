//! The adapter-independent half of the model catalog: normalization, search tokens,
//! fingerprints and facet ordering. Both adapters call these, so they agree by construction.

use std::collections::HashSet;

use crate::{
    CatalogModel, CatalogQuery, CatalogSort, FacetCount, Facets, Result, StoreError,
    truncate_to_millis,
};

/// The names of the facets in the SQLite counts table and in code.
pub(crate) const FACET_TASK: &str = "task";
pub(crate) const FACET_LIBRARY: &str = "library";
pub(crate) const FACET_LICENSE: &str = "license";
pub(crate) const FACET_LANGUAGE: &str = "language";

/// The lookup key of a model id: ids are unique and matched case-insensitively.
pub(crate) fn key(id: &str) -> String {
    id.to_lowercase()
}

/// What the store keeps of a model (see [`CatalogModel`]).
pub(crate) fn normalize(model: &CatalogModel) -> CatalogModel {
    let mut m = model.clone();
    m.created_at = m.created_at.map(truncate_to_millis);
    m.updated_at = m.updated_at.map(truncate_to_millis);
    m.synced_at = truncate_to_millis(m.synced_at);
    // Non-finite scores cannot be stored everywhere, and -0.0 would sort apart from 0.0
    // where the databases see them as equal.
    if !m.trending_score.is_finite() || m.trending_score == 0.0 {
        m.trending_score = 0.0;
    }
    if matches!(m.card_data, Some(serde_json::Value::Null)) {
        m.card_data = None;
    }
    m
}

/// A model ready to be written: normalized, with everything derived from it.
pub(crate) struct Prepared {
    pub key: String,
    pub model: CatalogModel,
    /// The model as JSON (what SQLite stores and what the fingerprint hashes).
    pub json: String,
    pub fingerprint: String,
    /// Distinct search tokens of id, author and tags.
    pub tokens: Vec<String>,
    /// Distinct languages, in order.
    pub languages: Vec<String>,
    /// Distinct tags, in order.
    pub tags: Vec<String>,
    /// Lowercased author.
    pub author_key: Option<String>,
    /// A fingerprint of `tokens`, `tags` and `languages` together: when it is unchanged,
    /// the side tables of a replaced model need no rewrite.
    pub labels_fingerprint: String,
}

/// Normalizes a batch and drops all but the last model of each id (case-insensitively),
/// keeping the order of those last occurrences.
pub(crate) fn prepare_batch(models: &[CatalogModel]) -> Result<Vec<Prepared>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(models.len());
    for model in models.iter().rev() {
        let key = key(&model.id);
        if !seen.insert(key.clone()) {
            continue;
        }
        let model = normalize(model);
        let json = to_json(&model)?;
        let tokens = model_tokens(&model);
        let languages = distinct(&model.languages);
        let tags = distinct(&model.tags);
        let labels = to_json(&(&tokens, &tags, &languages))?;
        out.push(Prepared {
            key,
            fingerprint: fingerprint(&json),
            labels_fingerprint: fingerprint(&labels),
            tokens,
            languages,
            tags,
            author_key: model.author.as_deref().map(str::to_lowercase),
            json,
            model,
        });
    }
    out.reverse();
    Ok(out)
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Internal(format!("catalog model to JSON: {e}")))
}

/// Tokens are compared on at most this many characters (on both sides): longer ones are
/// cut, which keeps every regex and FTS term small whatever the input.
pub(crate) const MAX_TOKEN_CHARS: usize = 100;

/// Lowercases, then splits on every non-alphanumeric character (lowercasing may turn one
/// character into several, so it comes first), and cuts each token to
/// [`MAX_TOKEN_CHARS`]. Query and model text both go through this.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| match t.char_indices().nth(MAX_TOKEN_CHARS) {
            Some((cut, _)) => t[..cut].to_owned(),
            None => t.to_owned(),
        })
        .collect()
}

/// The distinct search tokens of a model: its id, author and tags.
pub(crate) fn model_tokens(model: &CatalogModel) -> Vec<String> {
    let mut seen = HashSet::new();
    let sources = std::iter::once(model.id.as_str())
        .chain(model.author.as_deref())
        .chain(model.tags.iter().map(String::as_str));
    let mut out = Vec::new();
    for source in sources {
        for token in tokens(source) {
            if seen.insert(token.clone()) {
                out.push(token);
            }
        }
    }
    out
}

/// Distinct values in their first order.
pub(crate) fn distinct(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}

/// A stable 64-bit FNV-1a hash of a model's JSON, as 16 hex digits: unchanged models are
/// recognized by it without reading them back.
pub(crate) fn fingerprint(json: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// A [`CatalogQuery`] with its text tokenized and blank conditions dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Search {
    pub tokens: Vec<String>,
    pub task: Option<String>,
    pub library: Option<String>,
    pub language: Option<String>,
    pub license: Option<String>,
    pub author_key: Option<String>,
    /// Distinct, non-empty.
    pub tags: Vec<String>,
    pub gated: Option<bool>,
    pub sort: CatalogSort,
    pub descending: bool,
    pub limit: u32,
    pub offset: u32,
}

fn non_blank(value: Option<&String>) -> Option<String> {
    value.filter(|v| !v.is_empty()).cloned()
}

impl Search {
    pub(crate) fn new(query: &CatalogQuery) -> Self {
        let mut seen = HashSet::new();
        let tokens = query
            .text
            .as_deref()
            .map(|text| {
                tokens(text)
                    .into_iter()
                    .filter(|t| seen.insert(t.clone()))
                    .take(CatalogQuery::MAX_TEXT_TOKENS)
                    .collect()
            })
            .unwrap_or_default();
        let tags: Vec<String> = query
            .tags
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
        Self {
            tokens,
            task: non_blank(query.task.as_ref()),
            library: non_blank(query.library.as_ref()),
            language: non_blank(query.language.as_ref()),
            license: non_blank(query.license.as_ref()),
            author_key: non_blank(query.author.as_ref()).map(|a| a.to_lowercase()),
            tags: distinct(&tags),
            gated: query.gated,
            sort: query.sort,
            descending: query.descending,
            limit: query.limit.min(CatalogQuery::MAX_LIMIT),
            offset: query.offset,
        }
    }

    /// True when every model matches (no text, no filter).
    pub(crate) fn matches_all(&self) -> bool {
        self.tokens.is_empty()
            && self.task.is_none()
            && self.library.is_none()
            && self.language.is_none()
            && self.license.is_none()
            && self.author_key.is_none()
            && self.tags.is_empty()
            && self.gated.is_none()
    }
}

/// Orders counts as [`Facets`] promises and keeps the first [`Facets::MAX_VALUES`].
pub(crate) fn top_values(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<FacetCount> {
    let mut out: Vec<FacetCount> = counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(value, count)| FacetCount { value, count })
        .collect();
    out.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out.truncate(Facets::MAX_VALUES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_split_on_non_alphanumerics_and_lowercase() {
        let t = tokens("sentence-transformers/all-MiniLM-L6-v2");
        assert_eq!(t, ["sentence", "transformers", "all", "minilm", "l6", "v2"]);
        let t = tokens(r#".*$("*^' a_b.c  Zoë/日本語"#);
        assert_eq!(t, ["a", "b", "c", "zoë", "日本語"]);
        assert_eq!(
            tokens("license:apache-2.0"),
            ["license", "apache", "2", "0"]
        );
        assert!(tokens(".*$()\"*^'").is_empty());
        let long = tokens(&format!("{} x", "é".repeat(150)));
        assert_eq!(long, ["é".repeat(MAX_TOKEN_CHARS), "x".into()]);
    }

    #[test]
    fn search_drops_blanks_dedupes_and_caps() {
        let q = CatalogQuery {
            text: Some("Mini mini BERT".into()),
            task: Some(String::new()),
            author: Some("Sentence-Transformers".into()),
            tags: vec!["a".into(), String::new(), "a".into(), "b".into()],
            limit: 5000,
            ..CatalogQuery::default()
        };
        let s = Search::new(&q);
        assert_eq!(s.tokens, ["mini", "bert"]);
        assert_eq!(s.task, None);
        assert_eq!(s.author_key.as_deref(), Some("sentence-transformers"));
        assert_eq!(s.tags, ["a", "b"]);
        assert_eq!(s.limit, CatalogQuery::MAX_LIMIT);
        assert!(!s.matches_all());
        assert!(Search::new(&CatalogQuery::default()).matches_all());
        let long = (0..100)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = Search::new(&CatalogQuery {
            text: Some(long),
            ..CatalogQuery::default()
        });
        assert_eq!(s.tokens.len(), CatalogQuery::MAX_TEXT_TOKENS);
    }

    #[test]
    fn facet_values_order_and_limit() {
        let counts = (0..60).map(|i| (format!("v{i:02}"), u64::from(i % 3 == 0) + 1));
        let top = top_values(counts);
        assert_eq!(top.len(), Facets::MAX_VALUES);
        assert_eq!(top[0].value, "v00");
        assert_eq!(top[0].count, 2);
        assert_eq!(top[20].value, "v01");
        assert!(
            top.windows(2).all(|w| w[0].count > w[1].count
                || (w[0].count == w[1].count && w[0].value < w[1].value))
        );
    }

    #[test]
    fn fingerprint_is_stable() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
    }
}
