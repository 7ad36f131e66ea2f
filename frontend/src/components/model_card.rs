//! A model in search results: its id (the link to its page), task, library, downloads,
//! likes and when it last changed; and the task badge the model page shares.

use hfb_shared::catalog::ModelSummary;
use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::format;
use crate::pages::model_path;

/// `feature-extraction` → `Feature extraction`.
pub fn task_label(task: &str) -> String {
    format::capitalize(&task.replace(['-', '_'], " "))
}

/// The broad family of a task, which colours its badge.
pub fn task_family(task: &str) -> &'static str {
    const MULTIMODAL: [&str; 8] = [
        "image-text-to-text",
        "visual-question-answering",
        "document-question-answering",
        "text-to-image",
        "image-to-text",
        "text-to-video",
        "video-text-to-text",
        "any-to-any",
    ];
    if MULTIMODAL.contains(&task) {
        "multimodal"
    } else if task.contains("audio") || task.contains("speech") || task.contains("voice") {
        "audio"
    } else if task.contains("image")
        || task.contains("video")
        || task.contains("object-detection")
        || task.contains("depth")
        || task.contains("mask-generation")
        || task.contains("keypoint")
    {
        "vision"
    } else if task.contains("tabular")
        || task.contains("time-series")
        || task.contains("reinforcement")
    {
        "other"
    } else {
        "text"
    }
}

/// The task as a coloured pill; `value` is the raw pipeline tag (tests read it).
#[component]
pub fn TaskBadge(#[prop(into)] task: String) -> impl IntoView {
    view! {
        <span
            class=format!("task-badge task-badge--{}", task_family(&task))
            data-testid="model-task"
            data-value=task.clone()
        >
            {task_label(&task)}
        </span>
    }
}

#[component]
pub fn ModelCard(model: ModelSummary) -> impl IntoView {
    let href = model_path(&model.id);
    let (owner, name) = match model.id.split_once('/') {
        Some((owner, name)) => (Some(format!("{owner}/")), name.to_owned()),
        None => (None, model.id.clone()),
    };
    let gated = model.gated != "false";
    let downloads_title = format!(
        "{} downloads in the last 30 days",
        format::grouped(model.downloads.max(0) as u64)
    );
    let likes_title = format!("{} likes", format::grouped(model.likes.max(0) as u64));
    view! {
        <article class="model-card" data-testid="model-card" data-model-id=model.id.clone()>
            <h3 class="model-card-title">
                <a href=href class="model-card-link" data-testid="model-link">
                    {owner.map(|o| view! { <span class="model-card-owner">{o}</span> })}
                    <span class="model-card-name">{name}</span>
                </a>
            </h3>
            <div class="model-card-tags">
                {model.task.clone().map(|task| view! { <TaskBadge task=task /> })}
                {model
                    .library
                    .clone()
                    .map(|library| {
                        view! {
                            <span class="chip" data-testid="model-library" title="Library">
                                {library}
                            </span>
                        }
                    })}
                {gated
                    .then(|| {
                        view! {
                            <span
                                class="chip chip--warn"
                                title="Gated: the authors ask you to accept their terms first"
                            >
                                <Icon kind=IconKind::Lock class="chip-icon" />
                                "gated"
                            </span>
                        }
                    })}
            </div>
            <div class="model-card-stats">
                <span class="stat" title=downloads_title.clone()>
                    <Icon kind=IconKind::Download class="stat-icon" />
                    <span class="visually-hidden">{downloads_title.clone()}</span>
                    <span aria-hidden="true" data-testid="model-downloads">
                        {format::compact(model.downloads)}
                    </span>
                </span>
                <span class="stat" title=likes_title.clone()>
                    <Icon kind=IconKind::Heart class="stat-icon" />
                    <span class="visually-hidden">{likes_title.clone()}</span>
                    <span aria-hidden="true" data-testid="model-likes">
                        {format::compact(model.likes)}
                    </span>
                </span>
                {model
                    .updated_at
                    .clone()
                    .map(|updated| {
                        view! {
                            <span class="stat stat--time" title=format::date_time(&updated)>
                                <Icon kind=IconKind::Clock class="stat-icon" />
                                {format!("Updated {}", format::relative(&updated))}
                            </span>
                        }
                    })}
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_read_as_words_and_fall_into_families() {
        assert_eq!(task_label("feature-extraction"), "Feature extraction");
        assert_eq!(task_label("text2text-generation"), "Text2text generation");
        assert_eq!(task_family("text-classification"), "text");
        assert_eq!(task_family("image-classification"), "vision");
        assert_eq!(task_family("automatic-speech-recognition"), "audio");
        assert_eq!(task_family("image-text-to-text"), "multimodal");
        assert_eq!(task_family("tabular-regression"), "other");
    }
}
