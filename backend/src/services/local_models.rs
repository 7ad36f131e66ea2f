//! The local model store: model folders in Hugging Face repo layout under
//! `<data dir>/models/<owner>/<name>`, which the local runtime serves. Every folder there
//! appears in the catalog (source `local`), with its task, library, license and tags read
//! from the model card's front matter. `hfb models add PATH` copies a folder in.

use std::path::{Path, PathBuf};

use chrono::Utc;
use hfb_store::{CatalogModel, CatalogSource, ModelFile, Store};

use crate::services::catalog::front_matter_json;

/// Folders under `models_dir` that look like models (`<owner>/<name>/config.json`).
pub fn list(models_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let Ok(owners) = std::fs::read_dir(models_dir) else {
        return found;
    };
    for owner in owners.flatten() {
        let Ok(names) = std::fs::read_dir(owner.path()) else {
            continue;
        };
        for name in names.flatten() {
            let dir = name.path();
            if dir.join("config.json").is_file() {
                let id = format!(
                    "{}/{}",
                    owner.file_name().to_string_lossy(),
                    name.file_name().to_string_lossy()
                );
                found.push((id, dir));
            }
        }
    }
    found.sort();
    found
}

fn files_of(dir: &Path) -> Vec<ModelFile> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                files.push(ModelFile {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    size: entry
                        .metadata()
                        .ok()
                        .and_then(|m| i64::try_from(m.len()).ok()),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The catalog entry of a local model folder.
pub fn catalog_entry(id: &str, dir: &Path) -> CatalogModel {
    let card = std::fs::read_to_string(dir.join("README.md")).unwrap_or_default();
    let meta = front_matter_json(&card);
    let field = |k: &str| meta.as_ref().and_then(|m| m.get(k));
    let sentence_transformers = dir.join("modules.json").is_file();
    let task = field("pipeline_tag")
        .and_then(|v| v.as_str().map(str::to_owned))
        .or_else(|| sentence_transformers.then(|| "sentence-similarity".to_owned()));
    let library = field("library_name")
        .and_then(|v| v.as_str().map(str::to_owned))
        .or_else(|| sentence_transformers.then(|| "sentence-transformers".to_owned()));
    let mut tags = strings(field("tags"));
    tags.push("local".into());
    let modified = std::fs::metadata(dir.join("config.json"))
        .and_then(|m| m.modified())
        .ok()
        .map(chrono::DateTime::<Utc>::from);
    CatalogModel {
        id: id.to_owned(),
        author: id.split('/').next().map(str::to_owned),
        task,
        library,
        languages: strings(field("language")),
        license: field("license").and_then(|v| v.as_str().map(str::to_owned)),
        tags,
        downloads: 0,
        downloads_all_time: None,
        likes: 0,
        trending_score: 0.0,
        created_at: modified,
        updated_at: modified,
        gated: "false".into(),
        private: false,
        sha: None,
        files: files_of(dir),
        card_data: meta,
        source: CatalogSource::Local,
        synced_at: Utc::now(),
    }
}

/// Puts every local model into the catalog. A model the catalog has from the Hub (synced
/// or imported) keeps that entry, which has the real popularity figures; it is tagged
/// `local` so people can find what runs here.
pub async fn register_all(
    store: &dyn Store,
    models_dir: &Path,
) -> Result<usize, hfb_store::StoreError> {
    let mut entries = Vec::new();
    for (id, dir) in list(models_dir) {
        match store.catalog_model(&id).await? {
            Some(mut existing) if existing.source != CatalogSource::Local => {
                if !existing.tags.iter().any(|t| t == "local") {
                    existing.tags.push("local".into());
                    entries.push(existing);
                }
            }
            _ => entries.push(catalog_entry(&id, &dir)),
        }
    }
    if !entries.is_empty() {
        store.upsert_models(&entries).await?;
    }
    Ok(entries.len())
}

/// Copies a model folder into the store as `<owner>/<name>`; refuses folders that the
/// runtime cannot load, and ids that exist already.
pub async fn add(models_dir: &Path, source: &Path, id: &str) -> Result<PathBuf, String> {
    hfb_hub::validate_repo_id(id).map_err(|e| e.to_string())?;
    if !id.contains('/') {
        return Err("the id must be owner/name".into());
    }
    for required in ["config.json", "tokenizer.json"] {
        if !source.join(required).is_file() {
            return Err(format!(
                "{} has no {required}: not a model folder in Hugging Face layout",
                source.display()
            ));
        }
    }
    let options = hfb_runtime::LoadOptions {
        model_id: Some(id.to_owned()),
        ..hfb_runtime::LoadOptions::default()
    };
    let model = hfb_runtime::LocalModel::load_async(source.to_path_buf(), options)
        .await
        .map_err(|e| format!("the runtime cannot load {}: {e}", source.display()))?;
    model.shutdown().await;
    let target = id
        .split('/')
        .fold(models_dir.to_path_buf(), |d, p| d.join(p));
    if target.exists() {
        return Err(format!(
            "{id} is already in the model store ({})",
            target.display()
        ));
    }
    let partial = models_dir.join(format!(".adding-{}", uuid::Uuid::new_v4().simple()));
    copy_dir(source, &partial).map_err(|e| format!("copying the folder failed: {e}"))?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::rename(&partial, &target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&partial);
        e.to_string()
    })?;
    Ok(target)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
