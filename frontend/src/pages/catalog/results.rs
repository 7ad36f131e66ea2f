//! The result list: model cards, their loading skeletons, the empty and error states,
//! and the pager.

use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos_router::components::A;

use super::Shown;
use super::query::{PER_PAGE, SearchState, page_window};
use crate::components::card::LoadFailed;
use crate::components::empty_state::EmptyState;
use crate::components::icon::{Icon, IconKind};
use crate::components::model_card::ModelCard;
use crate::components::skeleton::SkeletonLine;
use crate::pages::login_path;

#[component]
pub fn Results(
    shown: RwSignal<Option<Shown>>,
    error: RwSignal<Option<ErrorDetail>>,
    loading: RwSignal<bool>,
    on_retry: Callback<()>,
    on_change: Callback<SearchState>,
) -> impl IntoView {
    // Older results stay on screen, dimmed, until the new ones arrive.
    let stale = move || loading.get() && shown.with(Option::is_some);
    view! {
        <div
            id="catalog-results"
            class="catalog-results"
            class:catalog-results--stale=stale
            aria-busy=move || loading.get().to_string()
            data-testid="catalog-results"
            data-query=move || shown.with(|s| s.as_ref().map(|s| s.state.url_query()))
        >
            <div class="progress-bar" class:progress-bar--on=stale aria-hidden="true"></div>
            {move || {
                if let Some(e) = error.get() {
                    return view! { <SearchFailed error=e on_retry=on_retry /> }.into_any();
                }
                match shown.get() {
                    None => view! { <ResultsSkeleton /> }.into_any(),
                    Some(Shown { state: searched, response }) => {
                        if response.items.is_empty() {
                            view! {
                                <NoResults
                                    searched=searched
                                    total=response.total
                                    pages=response.pages
                                    on_change=on_change
                                />
                            }
                                .into_any()
                        } else {
                            let pages = response.pages;
                            let page = response.page;
                            view! {
                                <ul class="model-grid" data-testid="model-grid">
                                    {response
                                        .items
                                        .into_iter()
                                        .map(|model| view! { <li><ModelCard model=model /></li> })
                                        .collect_view()}
                                </ul>
                                <Pager searched=searched page=page pages=pages />
                            }
                                .into_any()
                        }
                    }
                }
            }}
        </div>
    }
}

#[component]
fn ResultsSkeleton() -> impl IntoView {
    view! {
        <ul class="model-grid" aria-label="Loading models" data-testid="catalog-skeleton">
            {(0..6)
                .map(|i| {
                    view! {
                        <li>
                            <div class="model-card model-card--skeleton" aria-hidden="true">
                                <SkeletonLine width=["70%", "55%", "80%"][i % 3] height="1rem" />
                                <div class="model-card-tags">
                                    <SkeletonLine width="7rem" height="1.3rem" />
                                    <SkeletonLine width="5rem" height="1.3rem" />
                                </div>
                                <SkeletonLine width="60%" height="0.8rem" />
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn SearchFailed(error: ErrorDetail, on_retry: Callback<()>) -> impl IntoView {
    if error.code == ErrorCode::Unauthorized {
        let next = super::last_search_href();
        return view! {
            <EmptyState
                icon=IconKind::Lock
                title="Sign in to browse the catalog"
                message="This server shows its model catalog to signed-in users only."
            >
                <A href=login_path(Some(&next)) attr:class="button button--primary">
                    "Sign in"
                </A>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div data-testid="catalog-error">
            <LoadFailed title="Could not search the catalog" error=error retry=on_retry />
        </div>
    }
    .into_any()
}

#[component]
fn NoResults(
    searched: SearchState,
    total: u64,
    pages: u32,
    on_change: Callback<SearchState>,
) -> impl IntoView {
    if total > 0 {
        // A page past the end (an old link, or the catalog shrank).
        let last = searched.with_page(pages.max(1)).href();
        return view! {
            <EmptyState
                icon=IconKind::Compass
                title=format!("There is no page {}", searched.page)
                message=format!(
                    "This search has {pages} page{}.",
                    if pages == 1 { "" } else { "s" },
                )
            >
                <a class="button button--primary" href=last data-testid="last-page">
                    "Go to the last page"
                </a>
            </EmptyState>
        }
        .into_any();
    }
    if !searched.is_narrowed() {
        return view! {
            <EmptyState
                icon=IconKind::Catalog
                title="The catalog is empty"
                message="Models arrive from the Hugging Face Hub when this server can reach it, or from a Hub-format file: hfb catalog import FILE."
            />
        }
        .into_any();
    }
    let message = if searched.filter_count() > 0 {
        "Nothing matches this search with these filters. Clear the filters, or try other words."
    } else {
        "Nothing matches this search. Check the spelling, or try a shorter or more general word."
    };
    let cleared = searched.cleared();
    view! {
        <EmptyState icon=IconKind::Search title="No models match" message=message>
            <button
                type="button"
                class="button button--primary"
                data-testid="clear-filters"
                on:click=move |_| on_change.run(cleared.clone())
            >
                {if searched.filter_count() > 0 { "Clear filters and search" } else { "Clear the search" }}
            </button>
        </EmptyState>
    }
    .into_any()
}

/// Previous, numbered and next page links: real links, so a page opens in a new tab too.
#[component]
fn Pager(searched: SearchState, page: u32, pages: u32) -> impl IntoView {
    if pages <= 1 {
        return ().into_any();
    }
    let link = |target: u32| searched.with_page(target).href();
    view! {
        <nav class="pager" aria-label="Pages" data-testid="pager">
            <PagerStep href=(page > 1).then(|| link(page - 1)) next=false />
            <ol class="pager-pages">
                {page_window(page, pages)
                    .into_iter()
                    .map(|entry| {
                        let Some(n) = entry else {
                            return view! { <li class="pager-gap" aria-hidden="true">"…"</li> }
                                .into_any();
                        };
                        let current = n == page;
                        view! {
                            <li>
                                <a
                                    class="pager-link"
                                    class:pager-link--current=current
                                    href=link(n)
                                    aria-current=current.then_some("page")
                                    aria-label=if current { format!("Page {n}, current") } else { format!("Page {n}") }
                                    data-testid=format!("page-{n}")
                                >
                                    {n}
                                </a>
                            </li>
                        }
                            .into_any()
                    })
                    .collect_view()}
            </ol>
            <PagerStep href=(page < pages).then(|| link(page + 1)) next=true />
            <span class="visually-hidden">{format!("{PER_PAGE} models per page")}</span>
        </nav>
    }
    .into_any()
}

/// "Previous" or "Next": a link, or the same words greyed out at either end.
#[component]
fn PagerStep(href: Option<String>, next: bool) -> impl IntoView {
    let disabled = href.is_none();
    let (rel, testid, label) = if next {
        ("next", "page-next", "Next")
    } else {
        ("prev", "page-prev", "Previous")
    };
    view! {
        // Without an href the link is not focusable and reads as disabled.
        <a
            class="pager-link pager-step"
            class:pager-link--disabled=disabled
            href=href
            rel=rel
            aria-disabled=disabled.then_some("true")
            data-testid=(!disabled).then_some(testid)
        >
            <Icon kind=if next { IconKind::ChevronRight } else { IconKind::ChevronLeft } class=if next { "pager-icon--next" } else { "" } />
            <span>{label}</span>
        </a>
    }
}
