//! Model entries as the Hub serves them (`GET /api/models`, `GET /api/models/{id}`).
//!
//! Field names are the Hub's, so a [`HubModel`] serializes back into Hub-compatible JSON;
//! absent optional fields stay absent (empty lists are left out too).

use std::fmt;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// Access gating of a repository: JSON `false`, `"auto"` or `"manual"`.
///
/// Legacy `true` reads as [`Gated::Auto`] (gating predates manual approval); `null` as
/// [`Gated::Ungated`]; an unknown string as [`Gated::Manual`] so new modes stay gated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Gated {
    /// `false`: anyone may download.
    #[default]
    Ungated,
    /// `"auto"`: users must accept the terms; access is granted at once.
    Auto,
    /// `"manual"`: the authors approve each request.
    Manual,
}

impl Gated {
    pub fn is_gated(self) -> bool {
        self != Gated::Ungated
    }
}

impl Serialize for Gated {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Gated::Ungated => serializer.serialize_bool(false),
            Gated::Auto => serializer.serialize_str("auto"),
            Gated::Manual => serializer.serialize_str("manual"),
        }
    }
}

impl<'de> Deserialize<'de> for Gated {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GatedVisitor;

        impl Visitor<'_> for GatedVisitor {
            type Value = Gated;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"false, true, "auto" or "manual""#)
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Gated, E> {
                Ok(if v { Gated::Auto } else { Gated::Ungated })
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Gated, E> {
                Ok(match v {
                    "auto" | "true" => Gated::Auto,
                    "false" | "" => Gated::Ungated,
                    _ => Gated::Manual,
                })
            }

            fn visit_unit<E: de::Error>(self) -> Result<Gated, E> {
                Ok(Gated::Ungated)
            }

            fn visit_none<E: de::Error>(self) -> Result<Gated, E> {
                Ok(Gated::Ungated)
            }
        }

        deserializer.deserialize_any(GatedVisitor)
    }
}

/// One file of a repository (`siblings` in model info / `full=true` listings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Sibling {
    pub rfilename: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(rename = "blobId", default, skip_serializing_if = "Option::is_none")]
    pub blob_id: Option<String>,
    /// `{sha256, size, pointerSize}` for files stored in LFS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lfs: Option<Value>,
}

/// A model entry of the Hub API. Only `id` is required; when the Hub sends just the
/// legacy `modelId`, it becomes `id` too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "HubModelWire")]
pub struct HubModel {
    /// The Hub's internal (Mongo) id, `_id`.
    #[serde(rename = "_id", skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// `owner/name` (or a bare legacy `name`).
    pub id: String,
    /// Legacy duplicate of `id`, `modelId`.
    #[serde(rename = "modelId", skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Commit of the revision described.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    pub gated: Gated,
    #[serde(
        rename = "lastModified",
        serialize_with = "hub_time::serialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_modified: Option<DateTime<Utc>>,
    #[serde(
        rename = "createdAt",
        serialize_with = "hub_time::serialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<DateTime<Utc>>,
    /// Downloads over the last 30 days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downloads: Option<u64>,
    #[serde(rename = "downloadsAllTime", skip_serializing_if = "Option::is_none")]
    pub downloads_all_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    #[serde(rename = "trendingScore", skip_serializing_if = "Option::is_none")]
    pub trending_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub library_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline_tag: Option<String>,
    /// Includes `license:…`, language codes, `dataset:…`, `region:…`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The card's YAML front matter as JSON.
    #[serde(rename = "cardData", skip_serializing_if = "Option::is_none")]
    pub card_data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<Sibling>,
    /// `{parameters: {F32: n, …}, total}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safetensors: Option<Value>,
    /// Spaces using this model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spaces: Vec<String>,
    /// Serverless inference state, e.g. `"warm"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference: Option<String>,
}

/// Two-letter tags that name a language (ISO 639-1).
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// Three-letter tags the Hub uses for libraries, model types and techniques, not languages.
const NOT_LANGUAGES: &[&str] = &[
    "asr", "awq", "bit", "bnb", "cnn", "ctc", "cvt", "dit", "dpo", "dpt", "esm", "gan", "git",
    "gpt", "hqq", "jax", "kto", "lcm", "led", "llm", "mlc", "mlx", "moe", "mpt", "nat", "ner",
    "nli", "nlp", "ocr", "opt", "phi", "ppo", "pvt", "rag", "rnn", "sam", "sew", "sft", "ssd",
    "sts", "svm", "tei", "tgi", "trl", "tts", "vad", "vae", "van", "vit", "vqa", "xlm",
];

impl HubModel {
    /// The `license:` tag, else `cardData.license` (first entry when it is a list).
    pub fn license(&self) -> Option<String> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix("license:"))
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .or_else(|| self.card_strings("license").into_iter().next())
    }

    /// Languages: `cardData.language` (string or list), plus language-code tags.
    ///
    /// Two-letter tags count when they are ISO 639-1 codes. Three-letter tags are
    /// ambiguous (`jax`, `phi`, `git` are tags too), so they count only when the card
    /// declares no language and the tag is not a known library/model-type name.
    pub fn languages(&self) -> Vec<String> {
        let mut out = self.card_strings("language");
        let card_has_languages = !out.is_empty();
        for tag in &self.tags {
            let is_language = match tag.len() {
                2 => ISO_639_1.contains(&tag.as_str()),
                3 => {
                    !card_has_languages
                        && tag.bytes().all(|b| b.is_ascii_lowercase())
                        && !NOT_LANGUAGES.contains(&tag.as_str())
                }
                _ => false,
            };
            if is_language {
                push_unique(&mut out, tag);
            }
        }
        out
    }

    /// Datasets: `dataset:` tags plus `cardData.datasets` (string or list).
    pub fn datasets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for tag in &self.tags {
            if let Some(d) = tag.strip_prefix("dataset:").filter(|d| !d.is_empty()) {
                push_unique(&mut out, d);
            }
        }
        for d in self.card_strings("datasets") {
            push_unique(&mut out, &d);
        }
        out
    }

    /// Total parameter count from `safetensors.total`, when the Hub computed it.
    pub fn parameters(&self) -> Option<u64> {
        self.safetensors.as_ref()?.get("total")?.as_u64()
    }

    /// A `cardData` field that is a string or a list of strings, trimmed, blanks dropped.
    fn card_strings(&self, key: &str) -> Vec<String> {
        let mut out = Vec::new();
        match self.card_data.as_ref().and_then(|c| c.get(key)) {
            Some(Value::String(s)) => push_unique(&mut out, s.trim()),
            Some(Value::Array(items)) => {
                for s in items.iter().filter_map(Value::as_str) {
                    push_unique(&mut out, s.trim());
                }
            }
            _ => {}
        }
        out
    }
}

fn push_unique(out: &mut Vec<String>, value: &str) {
    if !value.is_empty() && !out.iter().any(|v| v == value) {
        out.push(value.to_owned());
    }
}

/// What the Hub sends; [`HubModel`] differs only in `id` being required.
#[derive(Deserialize)]
struct HubModelWire {
    #[serde(rename = "_id", default)]
    object_id: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "modelId", default)]
    model_id: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    sha: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    gated: Gated,
    #[serde(
        rename = "lastModified",
        default,
        deserialize_with = "hub_time::deserialize"
    )]
    last_modified: Option<DateTime<Utc>>,
    #[serde(
        rename = "createdAt",
        default,
        deserialize_with = "hub_time::deserialize"
    )]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    downloads: Option<u64>,
    #[serde(rename = "downloadsAllTime", default)]
    downloads_all_time: Option<u64>,
    #[serde(default)]
    likes: Option<u64>,
    #[serde(rename = "trendingScore", default)]
    trending_score: Option<f64>,
    #[serde(default)]
    library_name: Option<String>,
    #[serde(default)]
    pipeline_tag: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    tags: Vec<String>,
    #[serde(rename = "cardData", default)]
    card_data: Option<Value>,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    siblings: Vec<Sibling>,
    #[serde(default)]
    safetensors: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    spaces: Vec<String>,
    #[serde(default)]
    inference: Option<String>,
}

impl TryFrom<HubModelWire> for HubModel {
    type Error = String;

    fn try_from(w: HubModelWire) -> Result<Self, Self::Error> {
        let id =
            w.id.or_else(|| w.model_id.clone())
                .ok_or_else(|| "missing field `id` (and `modelId`)".to_owned())?;
        Ok(HubModel {
            object_id: w.object_id,
            id,
            model_id: w.model_id,
            author: w.author,
            sha: w.sha,
            private: w.private,
            disabled: w.disabled,
            gated: w.gated,
            last_modified: w.last_modified,
            created_at: w.created_at,
            downloads: w.downloads,
            downloads_all_time: w.downloads_all_time,
            likes: w.likes,
            trending_score: w.trending_score,
            library_name: w.library_name,
            pipeline_tag: w.pipeline_tag,
            tags: w.tags,
            card_data: w.card_data,
            config: w.config,
            siblings: w.siblings,
            safetensors: w.safetensors,
            spaces: w.spaces,
            inference: w.inference,
        })
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Hub timestamps: ISO-8601 with milliseconds and `Z` (`2024-02-19T11:06:12.000Z`).
mod hub_time {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => serializer.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => serializer.serialize_none(),
        }
    }

    /// RFC 3339, or a zone-less timestamp read as UTC (some mirrors drop the `Z`).
    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|t| Some(t.and_utc()))
            .map_err(|_| de::Error::custom(format!("invalid timestamp {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model(value: Value) -> HubModel {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn gated_reads_every_hub_form() {
        for (raw, want) in [
            (json!(false), Gated::Ungated),
            (json!(true), Gated::Auto),
            (json!("auto"), Gated::Auto),
            (json!("manual"), Gated::Manual),
            (json!(null), Gated::Ungated),
            (json!("some-future-mode"), Gated::Manual),
        ] {
            assert_eq!(
                serde_json::from_value::<Gated>(raw.clone()).unwrap(),
                want,
                "{raw}"
            );
        }
        assert!(serde_json::from_value::<Gated>(json!(3)).is_err());
        assert_eq!(model(json!({"id": "a/b"})).gated, Gated::Ungated);
        assert_eq!(
            model(json!({"id": "a/b", "gated": null})).gated,
            Gated::Ungated
        );
    }

    #[test]
    fn gated_writes_hub_form() {
        assert_eq!(serde_json::to_value(Gated::Ungated).unwrap(), json!(false));
        assert_eq!(serde_json::to_value(Gated::Auto).unwrap(), json!("auto"));
        assert_eq!(
            serde_json::to_value(Gated::Manual).unwrap(),
            json!("manual")
        );
    }

    #[test]
    fn model_id_stands_in_for_a_missing_id() {
        let m = model(json!({"modelId": "gpt2"}));
        assert_eq!(m.id, "gpt2");
        assert_eq!(m.model_id.as_deref(), Some("gpt2"));
        let m = model(json!({"id": "new/name", "modelId": "old/name"}));
        assert_eq!(m.id, "new/name");
        assert!(serde_json::from_value::<HubModel>(json!({"likes": 3})).is_err());
    }

    #[test]
    fn nulls_read_as_absent() {
        let m = model(
            json!({"id": "a/b", "tags": null, "siblings": null, "spaces": null,
                             "cardData": null, "lastModified": null}),
        );
        assert!(m.tags.is_empty() && m.siblings.is_empty() && m.spaces.is_empty());
        assert_eq!(m.card_data, None);
        assert_eq!(m.last_modified, None);
    }

    #[test]
    fn timestamps_keep_the_hub_format() {
        let m = model(
            json!({"id": "a/b", "lastModified": "2024-02-19T11:06:12.000Z",
                             "createdAt": "2022-03-02T23:29:04"}),
        );
        let out = serde_json::to_value(&m).unwrap();
        assert_eq!(out["lastModified"], "2024-02-19T11:06:12.000Z");
        assert_eq!(out["createdAt"], "2022-03-02T23:29:04.000Z");
        assert!(
            serde_json::from_value::<HubModel>(json!({"id": "a", "createdAt": "yesterday"}))
                .is_err()
        );
    }

    #[test]
    fn minimal_entry_serializes_minimally() {
        let out = serde_json::to_value(model(json!({"id": "a/b"}))).unwrap();
        assert_eq!(out, json!({"id": "a/b", "gated": false}));
    }

    #[test]
    fn license_prefers_the_tag_then_the_card() {
        let m = model(
            json!({"id": "a", "tags": ["license:apache-2.0"], "cardData": {"license": "mit"}}),
        );
        assert_eq!(m.license().as_deref(), Some("apache-2.0"));
        let m = model(json!({"id": "a", "tags": [], "cardData": {"license": "mit"}}));
        assert_eq!(m.license().as_deref(), Some("mit"));
        let m = model(json!({"id": "a", "cardData": {"license": ["cc-by-4.0", "mit"]}}));
        assert_eq!(m.license().as_deref(), Some("cc-by-4.0"));
        assert_eq!(model(json!({"id": "a"})).license(), None);
    }

    #[test]
    fn languages_skip_library_and_model_type_tags() {
        let m = model(json!({"id": "a", "tags": [
            "transformers", "pytorch", "tf", "jax", "rust", "bert", "fill-mask", "en", "fil",
            "phi", "dataset:wikipedia", "license:apache-2.0", "region:us"
        ]}));
        assert_eq!(m.languages(), ["en", "fil"]);

        let m = model(json!({"id": "a", "tags": ["en", "de", "fil"],
                             "cardData": {"language": ["en", "fr"]}}));
        assert_eq!(m.languages(), ["en", "fr", "de"]);

        let m = model(json!({"id": "a", "cardData": {"language": "multilingual"}}));
        assert_eq!(m.languages(), ["multilingual"]);
    }

    #[test]
    fn datasets_merge_tags_and_card() {
        let m = model(json!({"id": "a",
            "tags": ["dataset:bookcorpus", "dataset:wikipedia"],
            "cardData": {"datasets": ["wikipedia", "c4"]}}));
        assert_eq!(m.datasets(), ["bookcorpus", "wikipedia", "c4"]);
        let m = model(json!({"id": "a", "cardData": {"datasets": "squad"}}));
        assert_eq!(m.datasets(), ["squad"]);
    }

    #[test]
    fn parameters_from_safetensors_total() {
        let m = model(
            json!({"id": "a", "safetensors": {"parameters": {"F32": 22713216}, "total": 22713216}}),
        );
        assert_eq!(m.parameters(), Some(22_713_216));
        assert_eq!(model(json!({"id": "a"})).parameters(), None);
    }
}
