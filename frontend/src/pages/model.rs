//! One model: what it is, its numbers and tags, its files, its card, and the ways to
//! deploy it or try it.

use hfb_shared::catalog::{ModelDetail, ModelFileInfo};
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{catalog, encode};
use crate::components::card::{Card, Field, LoadFailed};
use crate::components::empty_state::EmptyState;
use crate::components::icon::{Icon, IconKind};
use crate::components::model_card::TaskBadge;
use crate::components::page_header::set_document_title;
use crate::components::skeleton::{SkeletonCard, SkeletonLine};
use crate::format;
use crate::pages::catalog::last_search_href;
use crate::pages::catalog::query::{Facet, SearchState};
use crate::pages::{Page, login_path};
use crate::state::session::{AuthStatus, use_session};

/// Files listed before "Show all".
const FILE_PREVIEW: usize = 25;

/// `/deployments/new?model={id}`: where Deploy leads.
pub fn deploy_path(id: &str) -> String {
    format!("{}/new?model={}", Page::Deployments.path(), encode(id))
}

/// `/playground?model={id}`: where Try leads.
pub fn try_path(id: &str) -> String {
    format!("{}?model={}", Page::Playground.path(), encode(id))
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let params = use_params_map();
    let session = use_session();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("owner").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    });
    let detail = LocalResource::new(move || {
        let (owner, name) = key.get();
        let authed = untrack(|| session.status()) == AuthStatus::SignedIn;
        async move { catalog::detail(&owner, &name, authed).await }
    });
    // A catalog closed to anonymous visitors opens once the session is restored.
    Effect::new(move || {
        if session.status() == AuthStatus::SignedIn
            && detail
                .with_untracked(|d| matches!(d, Some(Err(e)) if e.code == ErrorCode::Unauthorized))
        {
            detail.refetch();
        }
    });
    let id = move || key.with(|(owner, name)| format!("{owner}/{name}"));

    move || match detail.get() {
        None => {
            set_document_title(&id());
            view! { <ModelSkeleton /> }.into_any()
        }
        Some(Ok(model)) => view! { <ModelView detail=model /> }.into_any(),
        Some(Err(e)) => {
            view! { <ModelFailed id=id() error=e on_retry=move || detail.refetch() /> }.into_any()
        }
    }
}

#[component]
fn ModelSkeleton() -> impl IntoView {
    view! {
        <div class="page" data-testid="model-skeleton" aria-busy="true" aria-label="Loading the model">
            <div class="model-header">
                <div class="skeleton-title">
                    <SkeletonLine width="18rem" height="1.6rem" />
                    <SkeletonLine width="12rem" height="0.9rem" />
                    <SkeletonLine width="16rem" height="1.3rem" />
                </div>
            </div>
            <div class="model-layout">
                <SkeletonCard lines=8 />
                <div class="model-side">
                    <SkeletonCard lines=4 />
                    <SkeletonCard lines=3 />
                </div>
            </div>
        </div>
    }
}

#[component]
fn ModelFailed(
    id: String,
    error: ErrorDetail,
    on_retry: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    match error.code {
        ErrorCode::NotFound | ErrorCode::InvalidPath => {
            set_document_title("Model not found");
            let name = id.rsplit('/').next().unwrap_or(&id).to_owned();
            let search = SearchState::default().with_text(&name).href();
            view! {
                <div class="page page--narrow" data-testid="model-not-found">
                    <EmptyState
                        icon=IconKind::Compass
                        title="Model not found"
                        message=format!(
                            "There is no model {id} in the catalog. The name may be mistyped, or the model may not have been imported or synced yet.",
                        )
                    >
                        <div class="empty-state-actions">
                            <A href=search attr:class="button button--primary">
                                {format!("Search for “{name}”")}
                            </A>
                            <A href=Page::Catalog.path() attr:class="button">
                                "Browse the catalog"
                            </A>
                        </div>
                    </EmptyState>
                </div>
            }
            .into_any()
        }
        ErrorCode::Unauthorized => {
            let next = format!("/models/{id}");
            view! {
                <div class="page page--narrow" data-testid="model-sign-in">
                    <EmptyState
                        icon=IconKind::Lock
                        title="Sign in to see this model"
                        message="This server shows its model catalog to signed-in users only."
                    >
                        <A href=login_path(Some(&next)) attr:class="button button--primary">
                            "Sign in"
                        </A>
                    </EmptyState>
                </div>
            }
            .into_any()
        }
        _ => view! {
            <div class="page" data-testid="page-model">
                <LoadFailed title=id error=error retry=move |()| on_retry() />
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ModelView(detail: ModelDetail) -> impl IntoView {
    let ModelDetail {
        model,
        sha,
        files,
        card_html,
        card_metadata: _,
        hub_url,
    } = detail;
    set_document_title(&model.id);
    let (owner, name) = match model.id.split_once('/') {
        Some((owner, name)) => (Some(owner.to_owned()), name.to_owned()),
        None => (None, model.id.clone()),
    };
    let author = model.author.clone().or(owner.clone());
    let author_href = author.as_ref().map(|a| {
        SearchState {
            author: Some(a.clone()),
            ..SearchState::default()
        }
        .href()
    });
    let facet_href = |facet: Facet, value: &str| {
        SearchState::default()
            .with_facet(facet, Some(value.to_owned()))
            .href()
    };
    let gated = model.gated != "false";

    let actions = {
        let id = model.id.clone();
        view! {
            <div class="model-actions">
                <a class="button button--primary" href=deploy_path(&id) data-testid="deploy-model">
                    <Icon kind=IconKind::Deployments class="button-icon" />
                    "Deploy"
                </a>
                <a class="button" href=try_path(&id) data-testid="try-model">
                    <Icon kind=IconKind::Playground class="button-icon" />
                    "Try"
                </a>
            </div>
        }
    };

    let byline = view! {
        <p class="model-byline">
            {author
                .clone()
                .zip(author_href)
                .map(|(author, href)| {
                    view! {
                        "by "
                        <a href=href data-testid="model-author">
                            {author}
                        </a>
                    }
                })}
            {model
                .updated_at
                .clone()
                .map(|updated| {
                    view! {
                        <span class="model-byline-sep" aria-hidden="true">
                            "·"
                        </span>
                        <span title=format::date_time(&updated)>
                            {format!("updated {}", format::relative(&updated))}
                        </span>
                    }
                })}
        </p>
    };

    let badges = view! {
        <div class="model-badges" data-testid="model-badges">
            {model.task.clone().map(|task| {
                let href = facet_href(Facet::Task, &task);
                view! { <a class="badge-link" href=href><TaskBadge task=task /></a> }
            })}
            {model.library.clone().map(|library| {
                let href = facet_href(Facet::Library, &library);
                view! {
                    <a class="chip chip--link" href=href data-testid="model-library" title="Library">
                        {library}
                    </a>
                }
            })}
            {model.license.clone().map(|license| {
                let href = facet_href(Facet::License, &license);
                view! {
                    <a class="chip chip--link" href=href data-testid="model-license" title="License">
                        <Icon kind=IconKind::Shield class="chip-icon" />
                        {license}
                    </a>
                }
            })}
            {gated.then(|| view! {
                <span class="chip chip--warn" title="Gated: the authors ask you to accept their terms first">
                    <Icon kind=IconKind::Lock class="chip-icon" />
                    {format!("gated ({})", model.gated)}
                </span>
            })}
        </div>
    };

    let stats = view! {
        <dl class="model-stats">
            <div class="model-stat">
                <dt>"Downloads (30 days)"</dt>
                <dd data-testid="model-downloads">{format::grouped(model.downloads.max(0) as u64)}</dd>
            </div>
            <div class="model-stat">
                <dt>"Likes"</dt>
                <dd data-testid="model-likes">{format::grouped(model.likes.max(0) as u64)}</dd>
            </div>
            {model.created_at.clone().map(|created| view! {
                <div class="model-stat">
                    <dt>"Created"</dt>
                    <dd title=format::date_time(&created)>{format::date(&created)}</dd>
                </div>
            })}
            <div class="model-stat">
                <dt>"Files"</dt>
                <dd>{files.len()}</dd>
            </div>
        </dl>
    };

    let readme = match card_html.filter(|html| !html.trim().is_empty()) {
        Some(html) => view! {
            // Rendered and sanitized by the server (no scripts, handlers or javascript: links).
            <div class="markdown" data-testid="model-readme" inner_html=html></div>
        }
        .into_any(),
        None => view! {
            <p class="muted" data-testid="model-readme-missing">
                "This model has no card here yet. Cards are fetched from the Hugging Face Hub when this server can reach it."
            </p>
        }
        .into_any(),
    };

    let tags = model.tags.clone();
    let languages = model.languages.join(", ");
    let source = model.source.clone();
    let short_sha = sha.map(|s| s.chars().take(12).collect::<String>());

    view! {
        <div class="page page--model" data-testid="page-model" data-model-id=model.id.clone()>
            <A href=last_search_href() attr:class="back-link" attr:data-testid="back-to-catalog">
                <Icon kind=IconKind::ChevronLeft />
                "Catalog"
            </A>
            <header class="model-header">
                <div class="model-header-main">
                    <h1 class="page-title model-title" data-testid="model-id">
                        {owner.map(|o| view! { <span class="model-title-owner">{format!("{o}/")}</span> })}
                        <span class="model-title-name">{name}</span>
                    </h1>
                    {byline}
                    {badges}
                </div>
                {actions}
            </header>
            {stats}
            <div class="model-layout">
                <Card title="Model card" icon=IconKind::File class="model-readme" testid="model-card-section".to_owned()>
                    {readme}
                </Card>
                <div class="model-side">
                    <FilesCard files=files />
                    <Card title="Details" icon=IconKind::Info testid="model-details".to_owned()>
                        <dl class="fields">
                            {(!languages.is_empty()).then(|| view! {
                                <Field label="Languages">{languages}</Field>
                            })}
                            {short_sha.map(|sha| view! {
                                <Field label="Revision"><span class="mono">{sha}</span></Field>
                            })}
                            <Field label="Source">{source_label(&source)}</Field>
                            {hub_url.map(|url| view! {
                                <Field label="On the Hub">
                                    <a href=url target="_blank" rel="noopener noreferrer" class="external-link">
                                        "huggingface.co"
                                        <Icon kind=IconKind::External class="inline-icon" />
                                    </a>
                                </Field>
                            })}
                        </dl>
                    </Card>
                    {(!tags.is_empty()).then(|| view! {
                        <Card title=format!("Tags ({})", tags.len()) icon=IconKind::Tag testid="model-tags".to_owned()>
                            <ul class="tag-list">
                                {tags.into_iter().map(|tag| {
                                    let state = SearchState {
                                        tags: vec![tag.clone()],
                                        ..SearchState::default()
                                    };
                                    view! {
                                        <li>
                                            <a class="chip chip--link" href=state.href() data-testid="model-tag">
                                                {tag}
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </Card>
                    })}
                </div>
            </div>
        </div>
    }
}

fn source_label(source: &str) -> &'static str {
    match source {
        "synced" => "Synced from the Hugging Face Hub",
        "imported" => "Imported from a Hub-format file",
        "local" => "Available to the local runtime",
        _ => "Unknown",
    }
}

#[component]
fn FilesCard(files: Vec<ModelFileInfo>) -> impl IntoView {
    let count = files.len();
    let total: u64 = files
        .iter()
        .filter_map(|f| f.size)
        .map(|s| s.max(0) as u64)
        .sum();
    let show_all = RwSignal::new(false);
    let title = format!("Files ({count})");
    if files.is_empty() {
        return view! {
            <Card title=title icon=IconKind::File testid="model-files".to_owned()>
                <p class="muted small">"The catalog does not list this model's files."</p>
            </Card>
        }
        .into_any();
    }
    let rows = files
        .into_iter()
        .enumerate()
        .map(|(index, file)| {
            let hidden = move || index >= FILE_PREVIEW && !show_all.get();
            view! {
                <tr class:row--hidden=hidden data-testid="model-file">
                    <td class="file-path">
                        <span class="mono" title=file.path.clone()>{file.path.clone()}</span>
                    </td>
                    <td class="num" data-testid="model-file-size" title=file.size.map(|s| format!("{} bytes", format::grouped(s.max(0) as u64)))>
                        {file.size.map(|s| format::bytes(s.max(0) as u64)).unwrap_or_else(|| "—".to_owned())}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Card title=title icon=IconKind::File testid="model-files".to_owned()>
            <table class="table files-table">
                <thead>
                    <tr>
                        <th scope="col">"File"</th>
                        <th scope="col" class="num">"Size"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
                <tfoot>
                    <tr>
                        <th scope="row">"Total"</th>
                        <td class="num" data-testid="model-files-total">{format::bytes(total)}</td>
                    </tr>
                </tfoot>
            </table>
            {(count > FILE_PREVIEW).then(|| view! {
                <button
                    type="button"
                    class="link-button"
                    aria-expanded=move || show_all.get().to_string()
                    on:click=move |_| show_all.update(|s| *s = !*s)
                >
                    {move || if show_all.get() { "Show fewer files".to_owned() } else { format!("Show all {count} files") }}
                </button>
            })}
        </Card>
    }
    .into_any()
}
