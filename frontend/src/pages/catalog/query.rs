//! The catalog's search state and its two spellings: the page URL (`/catalog?q=…`), which
//! makes every search shareable and lets back/forward restore it, and the API query of
//! `GET /api/v1/models`. Pure functions, so they are tested on the host.

/// Results per page; the API allows 1 to 100.
pub const PER_PAGE: u32 = 20;
/// The API's limits (`GET /api/v1/models` answers 400 beyond them).
pub const MAX_TEXT: usize = 200;
pub const MAX_PAGE: u32 = 10_000;
pub const MAX_TAGS: usize = 10;

/// Orders the API knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Downloads,
    Likes,
    Trending,
    Updated,
    Created,
}

impl SortKey {
    pub const ALL: [Self; 5] = [
        Self::Downloads,
        Self::Likes,
        Self::Trending,
        Self::Updated,
        Self::Created,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Downloads => "downloads",
            Self::Likes => "likes",
            Self::Trending => "trending",
            Self::Updated => "updated",
            Self::Created => "created",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Downloads => "Downloads",
            Self::Likes => "Likes",
            Self::Trending => "Trending",
            Self::Updated => "Recently updated",
            Self::Created => "Recently created",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// The filters the search answer counts values for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facet {
    Task,
    Library,
    License,
    Language,
}

impl Facet {
    pub const ALL: [Self; 4] = [Self::Task, Self::Library, Self::License, Self::Language];

    /// The query parameter, in the page URL and the API alike.
    pub const fn param(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Library => "library",
            Self::License => "license",
            Self::Language => "language",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Self::Task => "Task",
            Self::Library => "Library",
            Self::License => "License",
            Self::Language => "Language",
        }
    }
}

/// Everything that decides which models the catalog shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchState {
    /// Free text, trimmed.
    pub q: String,
    pub task: Option<String>,
    pub library: Option<String>,
    pub license: Option<String>,
    pub language: Option<String>,
    pub author: Option<String>,
    /// Every tag must match.
    pub tags: Vec<String>,
    /// `Some(true)`: gated models only; `Some(false)`: open ones only.
    pub gated: Option<bool>,
    pub sort: SortKey,
    pub ascending: bool,
    /// 1-based.
    pub page: u32,
}

impl Default for SearchState {
    fn default() -> Self {
        Self {
            q: String::new(),
            task: None,
            library: None,
            license: None,
            language: None,
            author: None,
            tags: Vec::new(),
            gated: None,
            sort: SortKey::default(),
            ascending: false,
            page: 1,
        }
    }
}

/// A filter value as the API accepts it: trimmed, at most 100 characters of letters,
/// digits and `- _ . : / +` (and spaces); anything else is dropped from the state rather
/// than sent to be refused.
fn filter_value(value: &str) -> Option<String> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.chars().count() <= 100
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.:/ +".contains(c));
    ok.then(|| value.to_owned())
}

impl SearchState {
    /// Reads the page URL's query. `values(key)` gives every value of a parameter, in
    /// order. Lenient: unknown parameters and values the API would refuse are ignored, so
    /// a hand-edited or old link still shows a catalog page.
    pub fn parse(values: impl Fn(&str) -> Vec<String>) -> Self {
        let last = |key: &str| values(key).pop();
        let mut state = Self {
            q: last("q")
                .map(|q| clip(q.trim(), MAX_TEXT))
                .unwrap_or_default(),
            task: last("task").and_then(|v| filter_value(&v)),
            library: last("library").and_then(|v| filter_value(&v)),
            license: last("license").and_then(|v| filter_value(&v)),
            language: last("language").and_then(|v| filter_value(&v)),
            author: last("author").and_then(|v| filter_value(&v)),
            tags: Vec::new(),
            gated: match last("gated").as_deref() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            },
            sort: last("sort")
                .and_then(|s| SortKey::parse(&s))
                .unwrap_or_default(),
            ascending: last("direction").as_deref() == Some("asc"),
            page: last("page")
                .and_then(|p| p.parse::<u32>().ok())
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .unwrap_or(1),
        };
        for tag in values("tag").iter().filter_map(|t| filter_value(t)) {
            if !state.tags.contains(&tag) && state.tags.len() < MAX_TAGS {
                state.tags.push(tag);
            }
        }
        state
    }

    /// The parameters that differ from the defaults, in a fixed order.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !self.q.is_empty() {
            out.push(("q", self.q.clone()));
        }
        for facet in Facet::ALL {
            if let Some(value) = self.facet(facet) {
                out.push((facet.param(), value.to_owned()));
            }
        }
        if let Some(author) = &self.author {
            out.push(("author", author.clone()));
        }
        for tag in &self.tags {
            out.push(("tag", tag.clone()));
        }
        if let Some(gated) = self.gated {
            out.push(("gated", gated.to_string()));
        }
        if self.sort != SortKey::default() {
            out.push(("sort", self.sort.as_str().to_owned()));
        }
        if self.ascending {
            out.push(("direction", "asc".to_owned()));
        }
        if self.page > 1 {
            out.push(("page", self.page.to_string()));
        }
        out
    }

    /// The page URL's query string, without `?`; empty for the default state.
    pub fn url_query(&self) -> String {
        join(&self.pairs())
    }

    /// `/catalog` plus the query, for links and navigation.
    pub fn href(&self) -> String {
        let query = self.url_query();
        if query.is_empty() {
            "/catalog".to_owned()
        } else {
            format!("/catalog?{query}")
        }
    }

    /// The API path of this search: `/v1/models?…&per_page=20`.
    pub fn api_path(&self) -> String {
        let mut pairs = self.pairs();
        pairs.push(("per_page", PER_PAGE.to_string()));
        format!("/v1/models?{}", join(&pairs))
    }

    pub fn facet(&self, facet: Facet) -> Option<&str> {
        match facet {
            Facet::Task => self.task.as_deref(),
            Facet::Library => self.library.as_deref(),
            Facet::License => self.license.as_deref(),
            Facet::Language => self.language.as_deref(),
        }
    }

    /// This search with one facet set (or cleared), from page 1.
    pub fn with_facet(&self, facet: Facet, value: Option<String>) -> Self {
        let mut next = self.clone();
        let slot = match facet {
            Facet::Task => &mut next.task,
            Facet::Library => &mut next.library,
            Facet::License => &mut next.license,
            Facet::Language => &mut next.language,
        };
        *slot = value.and_then(|v| filter_value(&v));
        next.page = 1;
        next
    }

    /// This search with other text, from page 1 (the text is trimmed and clipped).
    pub fn with_text(&self, text: &str) -> Self {
        let mut next = self.clone();
        next.q = clip(text.trim(), MAX_TEXT);
        next.page = 1;
        next
    }

    pub fn with_sort(&self, sort: SortKey, ascending: bool) -> Self {
        let mut next = self.clone();
        next.sort = sort;
        next.ascending = ascending;
        next.page = 1;
        next
    }

    pub fn with_page(&self, page: u32) -> Self {
        let mut next = self.clone();
        next.page = page.clamp(1, MAX_PAGE);
        next
    }

    pub fn without_author(&self) -> Self {
        let mut next = self.clone();
        next.author = None;
        next.page = 1;
        next
    }

    pub fn without_tag(&self, tag: &str) -> Self {
        let mut next = self.clone();
        next.tags.retain(|t| t != tag);
        next.page = 1;
        next
    }

    pub fn with_gated(&self, gated: Option<bool>) -> Self {
        let mut next = self.clone();
        next.gated = gated;
        next.page = 1;
        next
    }

    /// How many filters (not counting the text) narrow the search.
    pub fn filter_count(&self) -> usize {
        Facet::ALL
            .iter()
            .filter(|f| self.facet(**f).is_some())
            .count()
            + usize::from(self.author.is_some())
            + self.tags.len()
            + usize::from(self.gated.is_some())
    }

    /// Whether text or any filter narrows the search.
    pub fn is_narrowed(&self) -> bool {
        !self.q.is_empty() || self.filter_count() > 0
    }

    /// No text and no filters, keeping the order.
    pub fn cleared(&self) -> Self {
        Self {
            sort: self.sort,
            ascending: self.ascending,
            ..Self::default()
        }
    }
}

fn clip(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

fn join(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes like `encodeURIComponent` (UTF-8; letters, digits and `-_.!~*'()`
/// stay as they are).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The page numbers a pager shows around `current`: the first, the last, and up to two
/// on each side of the current page; `None` marks a gap.
pub fn page_window(current: u32, pages: u32) -> Vec<Option<u32>> {
    if pages == 0 {
        return Vec::new();
    }
    let current = current.clamp(1, pages);
    let mut shown: Vec<u32> = vec![1, pages];
    shown.extend(current.saturating_sub(2).max(1)..=(current + 2).min(pages));
    shown.sort_unstable();
    shown.dedup();
    let mut out = Vec::with_capacity(shown.len() + 2);
    let mut previous = 0;
    for page in shown {
        if page > previous + 1 {
            // A gap of exactly one page shows that page instead of an ellipsis.
            if page == previous + 2 {
                out.push(Some(previous + 1));
            } else {
                out.push(None);
            }
        }
        out.push(Some(page));
        previous = page;
    }
    out
}

/// `1–20 of 1,234`: the range of results on `page` and the total.
pub fn range_label(page: u32, per_page: u32, shown: usize, total: u64) -> String {
    if total == 0 || shown == 0 {
        return format!("0 of {}", crate::format::grouped(total));
    }
    let first = u64::from(page.saturating_sub(1)) * u64::from(per_page) + 1;
    let last = first + shown as u64 - 1;
    format!(
        "{}–{} of {}",
        crate::format::grouped(first),
        crate::format::grouped(last),
        crate::format::grouped(total)
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(query: &[(&str, &str)]) -> SearchState {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in query {
            map.entry((*k).to_owned())
                .or_default()
                .push((*v).to_owned());
        }
        SearchState::parse(|key| map.get(key).cloned().unwrap_or_default())
    }

    #[test]
    fn the_default_state_is_the_bare_page() {
        let state = parse(&[]);
        assert_eq!(state, SearchState::default());
        assert_eq!(state.href(), "/catalog");
        assert_eq!(state.api_path(), "/v1/models?per_page=20");
        assert!(!state.is_narrowed());
    }

    #[test]
    fn urls_round_trip_in_a_fixed_order() {
        let state = parse(&[
            ("page", "3"),
            ("tag", "license:mit"),
            ("q", "  mini lm "),
            ("direction", "asc"),
            ("sort", "likes"),
            ("library", "sentence-transformers"),
            ("task", "feature-extraction"),
            ("tag", "en"),
            ("gated", "false"),
            ("author", "google"),
        ]);
        assert_eq!(state.q, "mini lm");
        assert_eq!(
            state.url_query(),
            "q=mini%20lm&task=feature-extraction&library=sentence-transformers&author=google&tag=license%3Amit&tag=en&gated=false&sort=likes&direction=asc&page=3"
        );
        assert_eq!(
            state.api_path(),
            format!("/v1/models?{}&per_page=20", state.url_query())
        );
        assert_eq!(state.filter_count(), 6);
    }

    #[test]
    fn values_the_api_would_refuse_are_dropped() {
        let state = parse(&[
            ("task", "$ne"),
            ("library", "{\"$gt\":1}"),
            ("sort", "best"),
            ("direction", "sideways"),
            ("page", "0"),
            ("gated", "maybe"),
            ("colour", "red"),
        ]);
        assert_eq!(state, SearchState::default());
        assert_eq!(parse(&[("page", "10001")]).page, 1);
        assert_eq!(parse(&[("q", &"a".repeat(300))]).q.len(), MAX_TEXT);
        let many: Vec<(&str, String)> = (0..15).map(|i| ("tag", format!("t{i}"))).collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(parse(&many).tags.len(), MAX_TAGS);
    }

    #[test]
    fn changes_start_again_from_page_one() {
        let state = parse(&[("q", "bert"), ("page", "4")]);
        assert_eq!(
            state.with_facet(Facet::Task, Some("fill-mask".into())).page,
            1
        );
        assert_eq!(state.with_text("roberta").page, 1);
        assert_eq!(state.with_sort(SortKey::Likes, true).page, 1);
        assert_eq!(state.with_gated(Some(true)).page, 1);
        assert_eq!(state.with_page(2).page, 2);
        let filtered = state.with_facet(Facet::Library, Some("transformers".into()));
        assert_eq!(filtered.facet(Facet::Library), Some("transformers"));
        assert_eq!(filtered.with_facet(Facet::Library, None).library, None);
        let cleared = filtered.with_sort(SortKey::Created, true).cleared();
        assert_eq!(cleared.href(), "/catalog?sort=created&direction=asc");
    }

    #[test]
    fn encoding_matches_encode_uri_component() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(encode_component("Az09-_.!~*'()"), "Az09-_.!~*'()");
    }

    #[test]
    fn page_windows_keep_both_ends_and_the_neighbourhood() {
        assert_eq!(page_window(1, 0), vec![]);
        assert_eq!(page_window(1, 1), vec![Some(1)]);
        assert_eq!(page_window(1, 3), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(
            page_window(1, 10),
            vec![Some(1), Some(2), Some(3), None, Some(10)]
        );
        assert_eq!(
            page_window(6, 12),
            vec![
                Some(1),
                None,
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                None,
                Some(12)
            ]
        );
        // A gap of one page shows the page.
        assert_eq!(
            page_window(4, 6),
            vec![Some(1), Some(2), Some(3), Some(4), Some(5), Some(6)]
        );
        assert_eq!(page_window(99, 5).last(), Some(&Some(5)));
    }

    #[test]
    fn ranges_read_like_a_pager() {
        assert_eq!(range_label(1, 20, 20, 1_234), "1–20 of 1,234");
        assert_eq!(range_label(62, 20, 14, 1_234), "1,221–1,234 of 1,234");
        assert_eq!(range_label(1, 20, 0, 0), "0 of 0");
    }
}
