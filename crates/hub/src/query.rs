use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Sort keys of `GET /api/models` (always descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HubSort {
    Downloads,
    Likes,
    LastModified,
    CreatedAt,
    TrendingScore,
}

impl HubSort {
    pub const ALL: [HubSort; 5] = [
        HubSort::Downloads,
        HubSort::Likes,
        HubSort::LastModified,
        HubSort::CreatedAt,
        HubSort::TrendingScore,
    ];

    /// The Hub's spelling: `downloads`, `likes`, `lastModified`, `createdAt`, `trendingScore`.
    pub fn as_str(self) -> &'static str {
        match self {
            HubSort::Downloads => "downloads",
            HubSort::Likes => "likes",
            HubSort::LastModified => "lastModified",
            HubSort::CreatedAt => "createdAt",
            HubSort::TrendingScore => "trendingScore",
        }
    }
}

impl fmt::Display for HubSort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the Hub's sort keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown sort key {0:?} (expected downloads, likes, lastModified, createdAt or trendingScore)"
)]
pub struct UnknownSort(pub String);

impl FromStr for HubSort {
    type Err = UnknownSort;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HubSort::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownSort(s.to_owned()))
    }
}

/// Parameters of `GET /api/models`. `Default` lists everything in the Hub's default order.
///
/// `expand` cannot be combined with `full`, `card_data` or `config`; the Hub answers 400
/// ([`crate::HubError::Upstream`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListModelsQuery {
    /// Substring of the repo id.
    pub search: Option<String>,
    /// Owner (user or organization).
    pub author: Option<String>,
    /// Tags, libraries, languages, `license:…`, `dataset:…`; sent as repeated `filter=`.
    pub filter: Vec<String>,
    pub pipeline_tag: Option<String>,
    pub sort: Option<HubSort>,
    /// Page size (the Hub accepts up to 1000).
    pub limit: Option<u32>,
    /// `full=true`: siblings, sha, lastModified and more.
    pub full: bool,
    /// `cardData=true`.
    pub card_data: bool,
    /// `config=true`.
    pub config: bool,
    /// Only these fields (repeated `expand=`).
    pub expand: Vec<String>,
}

impl ListModelsQuery {
    /// The query string pairs in the order sent: repeated `filter`/`expand`, and
    /// `direction=-1` after `sort` for Hub versions that do not default to descending.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(search) = &self.search {
            pairs.push(("search", search.clone()));
        }
        if let Some(author) = &self.author {
            pairs.push(("author", author.clone()));
        }
        for f in &self.filter {
            pairs.push(("filter", f.clone()));
        }
        if let Some(task) = &self.pipeline_tag {
            pairs.push(("pipeline_tag", task.clone()));
        }
        if let Some(sort) = self.sort {
            pairs.push(("sort", sort.as_str().to_owned()));
            pairs.push(("direction", "-1".to_owned()));
        }
        if let Some(limit) = self.limit {
            pairs.push(("limit", limit.to_string()));
        }
        if self.full {
            pairs.push(("full", "true".to_owned()));
        }
        if self.card_data {
            pairs.push(("cardData", "true".to_owned()));
        }
        if self.config {
            pairs.push(("config", "true".to_owned()));
        }
        for e in &self.expand {
            pairs.push(("expand", e.clone()));
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_query_sends_nothing() {
        assert!(ListModelsQuery::default().pairs().is_empty());
    }

    #[test]
    fn every_parameter_in_hub_spelling() {
        let q = ListModelsQuery {
            search: Some("bert".into()),
            author: Some("google-bert".into()),
            filter: vec!["transformers".into(), "license:apache-2.0".into()],
            pipeline_tag: Some("fill-mask".into()),
            sort: Some(HubSort::TrendingScore),
            limit: Some(50),
            full: true,
            card_data: true,
            config: true,
            expand: vec!["downloads".into(), "likes".into()],
        };
        let pairs = q.pairs();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("search", "bert"),
                ("author", "google-bert"),
                ("filter", "transformers"),
                ("filter", "license:apache-2.0"),
                ("pipeline_tag", "fill-mask"),
                ("sort", "trendingScore"),
                ("direction", "-1"),
                ("limit", "50"),
                ("full", "true"),
                ("cardData", "true"),
                ("config", "true"),
                ("expand", "downloads"),
                ("expand", "likes"),
            ]
        );
    }

    #[test]
    fn sort_keys_round_trip() {
        for key in HubSort::ALL {
            assert_eq!(key.as_str().parse::<HubSort>(), Ok(key));
            assert_eq!(serde_json::to_value(key).unwrap(), key.as_str());
        }
        assert!("popularity".parse::<HubSort>().is_err());
    }
}
