//! Catalog: search models as you type, narrow them with facet filters, sort and page.
//!
//! The whole search lives in the page URL ([`query::SearchState`]), so a search can be
//! shared and back/forward restore it. Typing is debounced ([`DEBOUNCE_MS`]); the first
//! commit of a burst of typing adds a history entry and the following ones replace it,
//! while filters, sorting and pages each add one. Every search cancels the one still in
//! flight, and an answer that arrives for anything but the latest search is dropped.

mod filters;
pub mod query;
mod results;

use std::cell::RefCell;

use hfb_shared::catalog::ModelSearchResponse;
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::task::spawn_local;
use leptos::{ev, html, prelude::*};
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use wasm_bindgen::JsCast;
use web_sys::AbortController;

use crate::api::catalog;
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::pages::Page;
use crate::state::session::{AuthStatus, use_session};

use filters::{ActiveFilters, FilterPanel, SortControls};
use query::{Facet, SearchState};
use results::Results;

/// How long typing must pause before the search runs.
pub const DEBOUNCE_MS: u32 = 250;

thread_local! {
    /// The catalog address last shown, for the model page's way back to its results.
    static LAST_SEARCH: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The catalog as last seen (with its query), or the bare catalog.
pub fn last_search_href() -> String {
    LAST_SEARCH
        .with(|l| l.borrow().clone())
        .unwrap_or_else(|| Page::Catalog.path().to_owned())
}

/// The latest answer and the search it answers.
#[derive(Clone, PartialEq)]
pub struct Shown {
    pub state: SearchState,
    pub response: ModelSearchResponse,
}

/// How a change reaches the URL.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// A pause in typing: the first one of a burst pushes, the rest replace.
    Typing,
    /// Enter, a filter, the order: always a new history entry.
    Push,
}

#[component]
pub fn Catalog() -> impl IntoView {
    let session = use_session();
    let query_map = use_query_map();
    let navigate = use_navigate();
    let state = Memo::new(move |_| {
        query_map.with(|m| SearchState::parse(|key| m.get_all(key).unwrap_or_default()))
    });

    // The search box. `committed` is the text last put in the URL by this page, so a
    // URL change that did not come from typing (back/forward, clearing) refills the box.
    let text = RwSignal::new(state.get_untracked().q);
    let committed = StoredValue::new(state.get_untracked().q);
    let typing_gen = StoredValue::new(0u64);
    // Whether the current history entry came from typing (the next pause replaces it).
    let typing_entry = StoredValue::new(false);
    let last_href = StoredValue::new(state.get_untracked().href());

    Effect::new(move || {
        let current = state.get();
        let href = current.href();
        LAST_SEARCH.with(|l| *l.borrow_mut() = Some(href.clone()));
        if href != last_href.get_value() {
            // Somebody else moved the URL: a page link, back or forward.
            last_href.set_value(href);
            typing_entry.set_value(false);
        }
        if current.q != committed.get_value() {
            committed.set_value(current.q.clone());
            typing_gen.update_value(|g| *g += 1);
            text.set(current.q);
        }
    });

    let go = Callback::new(move |(next, how): (SearchState, Commit)| {
        let replace = how == Commit::Typing && typing_entry.get_value();
        typing_entry.set_value(how == Commit::Typing);
        // A pending pause must not undo this change.
        typing_gen.update_value(|g| *g += 1);
        committed.set_value(next.q.clone());
        // Clearing the search from a button empties the box too.
        if how == Commit::Push && text.with_untracked(|t| t.trim() != next.q) {
            text.set(next.q.clone());
        }
        let href = next.href();
        last_href.set_value(href.clone());
        navigate(
            &href,
            NavigateOptions {
                replace,
                scroll: false,
                ..Default::default()
            },
        );
    });
    // A committed change that keeps the text also takes what is typed but not searched yet.
    let change = Callback::new(move |update: SearchState| {
        let current = state.get_untracked();
        let typed = text.get_untracked();
        let next = if update.q == current.q && typed.trim() != current.q {
            update.with_text(&typed)
        } else {
            update
        };
        if next != current {
            go.run((next, Commit::Push));
        }
    });

    let on_input = move |ev: ev::Event| {
        text.set(event_target_value(&ev));
        typing_gen.update_value(|g| *g += 1);
        let generation = typing_gen.get_value();
        spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(DEBOUNCE_MS).await;
            // Typed again, committed meanwhile, or the page is gone.
            if typing_gen.try_get_value() != Some(generation) {
                return;
            }
            let current = state.get_untracked();
            let next = current.with_text(&text.get_untracked());
            if next.q != current.q {
                go.run((next, Commit::Typing));
            }
        });
    };
    let on_submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let current = state.get_untracked();
        let next = current.with_text(&text.get_untracked());
        if next.q != current.q {
            go.run((next, Commit::Push));
        }
    };
    let search_box = NodeRef::<html::Input>::new();
    let on_search_keydown = move |ev: ev::KeyboardEvent| {
        if ev.key() == "Escape" && !text.get_untracked().is_empty() {
            ev.prevent_default();
            text.set(String::new());
            let current = state.get_untracked();
            if !current.q.is_empty() {
                go.run((current.with_text(""), Commit::Push));
            } else {
                typing_gen.update_value(|g| *g += 1);
            }
        }
    };

    // "/" anywhere but in a field focuses the search box.
    let slash = window_event_listener(ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let typing_somewhere = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.is_content_editable()
            });
        if typing_somewhere {
            return;
        }
        if let Some(input) = search_box.get_untracked() {
            ev.prevent_default();
            let _ = input.focus();
            input.select();
        }
    });
    on_cleanup(move || slash.remove());

    // Searching: one request per distinct search; the newest wins.
    let shown = RwSignal::new(None::<Shown>);
    let error = RwSignal::new(None::<ErrorDetail>);
    let loading = RwSignal::new(true);
    let retry = RwSignal::new(0u32);
    let fetch_gen = StoredValue::new(0u64);
    let in_flight = StoredValue::new_local(None::<AbortController>);
    Effect::new(move || {
        let current = state.get();
        retry.track();
        fetch_gen.update_value(|g| *g += 1);
        let generation = fetch_gen.get_value();
        if let Some(previous) = in_flight.get_value() {
            previous.abort();
        }
        let controller = AbortController::new().ok();
        in_flight.set_value(controller.clone());
        loading.set(true);
        // A retry (or a new search) shows progress instead of the last failure.
        error.set(None);
        let authed = untrack(|| session.status()) == AuthStatus::SignedIn;
        spawn_local(async move {
            let result = catalog::search(&current.api_path(), authed, controller.as_ref()).await;
            if fetch_gen.try_get_value() != Some(generation) {
                return; // A newer search owns the page now (or the page is gone).
            }
            in_flight.set_value(None);
            loading.set(false);
            match result {
                Ok(response) => {
                    error.set(None);
                    shown.set(Some(Shown {
                        state: current,
                        response,
                    }));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    });
    on_cleanup(move || {
        if let Some(Some(controller)) = in_flight.try_get_value() {
            controller.abort();
        }
    });
    // A catalog closed to anonymous visitors opens once the session is restored.
    Effect::new(move || {
        if session.status() == AuthStatus::SignedIn
            && error.with_untracked(|e| {
                e.as_ref()
                    .is_some_and(|e| e.code == ErrorCode::Unauthorized)
            })
        {
            retry.update(|r| *r += 1);
        }
    });

    let pick_facet = Callback::new(move |(facet, value): (Facet, Option<String>)| {
        change.run(state.get_untracked().with_facet(facet, value));
    });
    let filters_open = RwSignal::new(false);

    view! {
        <div class="page page--catalog" data-testid="page-catalog">
            <PageHeader
                title=Page::Catalog.title()
                subtitle="Find models by name, author or tag, and narrow them by task, library, license and language."
            />
            <form class="catalog-search" role="search" on:submit=on_submit>
                <label class="visually-hidden" for="catalog-q">
                    "Search models"
                </label>
                <div class="search-field">
                    <Icon kind=IconKind::Search class="search-icon" />
                    <input
                        node_ref=search_box
                        id="catalog-q"
                        class="input search-input"
                        type="search"
                        name="q"
                        placeholder="Search models, authors and tags"
                        autocomplete="off"
                        spellcheck="false"
                        maxlength=query::MAX_TEXT.to_string()
                        aria-keyshortcuts="/"
                        aria-controls="catalog-results"
                        data-testid="catalog-search"
                        prop:value=move || text.get()
                        on:input=on_input
                        on:keydown=on_search_keydown
                    />
                    <kbd class="search-kbd" aria-hidden="true" title="Press / to search">
                        "/"
                    </kbd>
                </div>
            </form>
            <div class="catalog-layout">
                <aside
                    class="catalog-filters"
                    class:catalog-filters--open=move || filters_open.get()
                    aria-label="Filters"
                    data-testid="catalog-filters"
                >
                    <FilterPanel state=state shown=shown on_pick=pick_facet on_change=change />
                </aside>
                <section class="catalog-main" aria-label="Results">
                    <div class="catalog-toolbar">
                        <button
                            type="button"
                            class="button button--small catalog-filters-toggle"
                            aria-expanded=move || filters_open.get().to_string()
                            on:click=move |_| filters_open.update(|o| *o = !*o)
                        >
                            <Icon kind=IconKind::Filter class="button-icon" />
                            {move || match state.with(SearchState::filter_count) {
                                0 => "Filters".to_owned(),
                                n => format!("Filters ({n})"),
                            }}
                        </button>
                        <Summary state=state shown=shown loading=loading />
                        <SortControls state=state on_change=change />
                    </div>
                    <ActiveFilters state=state on_change=change />
                    <Results
                        shown=shown
                        error=error
                        loading=loading
                        on_retry=Callback::new(move |()| retry.update(|r| *r += 1))
                        on_change=change
                    />
                </section>
            </div>
        </div>
    }
}

/// `1–20 of 1,234 models`, announced politely when it changes.
#[component]
fn Summary(
    state: Memo<SearchState>,
    shown: RwSignal<Option<Shown>>,
    loading: RwSignal<bool>,
) -> impl IntoView {
    let text = move || {
        shown.with(|s| match s {
            None => "Searching…".to_owned(),
            Some(Shown { response, .. }) => {
                let range = query::range_label(
                    response.page,
                    response.per_page,
                    response.items.len(),
                    response.total,
                );
                let noun = if response.total == 1 {
                    "model"
                } else {
                    "models"
                };
                format!("{range} {noun}")
            }
        })
    };
    let total = move || shown.with(|s| s.as_ref().map(|s| s.response.total.to_string()));
    let current = move || {
        shown.with(|s| s.as_ref().is_some_and(|s| s.state == state.get())) && !loading.get()
    };
    view! {
        <p
            class="catalog-summary"
            aria-live="polite"
            data-testid="catalog-summary"
            data-total=total
            data-current=move || current().to_string()
        >
            {text}
        </p>
    }
}
