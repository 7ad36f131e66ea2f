//! The filter panel (facet values with their counts), the chips of the active filters,
//! and the order of the results.

use hfb_shared::catalog::{FacetValue, SearchFacets};
use leptos::{ev, prelude::*};

use super::Shown;
use super::query::{Facet, SearchState, SortKey};
use crate::components::icon::{Icon, IconKind};
use crate::components::model_card::task_label;
use crate::components::skeleton::SkeletonLine;
use crate::format;

/// Values shown per facet before "Show more".
const FACET_PREVIEW: usize = 6;

fn facet_values(facets: &SearchFacets, facet: Facet) -> &[FacetValue] {
    match facet {
        Facet::Task => &facets.tasks,
        Facet::Library => &facets.libraries,
        Facet::License => &facets.licenses,
        Facet::Language => &facets.languages,
    }
}

/// How a facet value reads: tasks as words, the rest as the Hub spells them.
fn value_label(facet: Facet, value: &str) -> String {
    match facet {
        Facet::Task => task_label(value),
        _ => value.to_owned(),
    }
}

/// A stable element id for one facet value (values may hold `:`, `/`, spaces).
fn option_id(param: &str, value: &str) -> String {
    let clean: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("facet-{param}-{clean}")
}

/// Moves focus back to the control with this id once the panel has been redrawn, unless
/// focus has gone somewhere else meanwhile (redrawing drops it to the body).
fn refocus(id: String) {
    request_animation_frame(move || {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let lost = document
            .active_element()
            .is_none_or(|active| active.tag_name() == "BODY");
        let element = document
            .get_element_by_id(&id)
            .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok());
        if lost && let Some(element) = element {
            let _ = element.focus();
        }
    });
}

#[component]
pub fn FilterPanel(
    state: Memo<SearchState>,
    shown: RwSignal<Option<Shown>>,
    on_pick: Callback<(Facet, Option<String>)>,
    on_change: Callback<SearchState>,
) -> impl IntoView {
    // Which groups show all their values; kept across answers.
    let expanded = RwSignal::new(Vec::<Facet>::new());
    // The checkbox last used, to give focus back after the panel is redrawn.
    let focused = StoredValue::new(None::<String>);
    Effect::new(move || {
        let answered = shown.with(|s| s.as_ref().map(|s| s.state.clone())) == Some(state.get());
        if let Some(id) = focused.get_value() {
            refocus(id);
            if answered {
                focused.set_value(None);
            }
        }
    });
    let pick = Callback::new(move |(facet, value, id): (Facet, Option<String>, String)| {
        focused.set_value(Some(id));
        on_pick.run((facet, value));
    });
    let facets = Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| s.response.facets.clone())));

    view! {
        <h2 class="visually-hidden">"Filters"</h2>
        {move || match facets.get() {
            None => {
                view! {
                    <div class="facet-skeleton" aria-hidden="true">
                        {(0..4)
                            .map(|_| {
                                view! {
                                    <SkeletonLine width="40%" height="0.8rem" />
                                    <SkeletonLine width="85%" />
                                    <SkeletonLine width="70%" />
                                    <SkeletonLine width="60%" />
                                }
                            })
                            .collect_view()}
                    </div>
                }
                    .into_any()
            }
            Some(facets) => {
                let current = state.get();
                view! {
                    {Facet::ALL
                        .into_iter()
                        .map(|facet| {
                            view! {
                                <FacetGroup
                                    facet=facet
                                    values=facet_values(&facets, facet).to_vec()
                                    selected=current.facet(facet).map(str::to_owned)
                                    expanded=expanded
                                    on_pick=pick
                                />
                            }
                        })
                        .collect_view()}
                    <AccessGroup state=current on_change=on_change on_focus=focused />
                }
                    .into_any()
            }
        }}
    }
}

#[component]
fn FacetGroup(
    facet: Facet,
    mut values: Vec<FacetValue>,
    selected: Option<String>,
    expanded: RwSignal<Vec<Facet>>,
    on_pick: Callback<(Facet, Option<String>, String)>,
) -> impl IntoView {
    // A selected value the answer does not count (no model has it) stays visible, so it
    // can be unchecked.
    if let Some(value) = &selected
        && !values.iter().any(|v| &v.value == value)
    {
        values.insert(
            0,
            FacetValue {
                value: value.clone(),
                count: 0,
            },
        );
    }
    if values.is_empty() {
        return ().into_any();
    }
    let param = facet.param();
    let total = values.len();
    let is_expanded = move || expanded.with(|e| e.contains(&facet));
    let heading_id = format!("facet-{param}-heading");
    let clear = selected.clone().map(|value| {
        // The button goes away with the filter; focus returns to the value's checkbox.
        let id = option_id(param, &value);
        view! {
            <button
                type="button"
                class="link-button facet-clear"
                data-testid=format!("facet-{param}-clear")
                aria-label=format!("Clear the {} filter ({value})", facet.label().to_lowercase())
                on:click=move |_| on_pick.run((facet, None, id.clone()))
            >
                "Clear"
            </button>
        }
    });
    let options = values
        .into_iter()
        .enumerate()
        .map(|(index, FacetValue { value, count })| {
            let id = option_id(param, &value);
            let checked = selected.as_deref() == Some(value.as_str());
            let label = value_label(facet, &value);
            let hidden = move || index >= FACET_PREVIEW && !checked && !is_expanded();
            let on_change = {
                let value = value.clone();
                let id = id.clone();
                move |ev: ev::Event| {
                    let on = event_target_checked(&ev);
                    on_pick.run((facet, on.then(|| value.clone()), id.clone()));
                }
            };
            view! {
                <li class="facet-item" class:facet-item--hidden=hidden>
                    <label class="facet-option" for=id.clone()>
                        <input
                            type="checkbox"
                            class="facet-check"
                            id=id.clone()
                            name=param
                            value=value.clone()
                            checked=checked
                            data-testid=format!("facet-{param}-option")
                            data-value=value.clone()
                            on:change=on_change
                        />
                        <span class="facet-value" title=value>
                            {label}
                        </span>
                        {(count > 0 || !checked)
                            .then(|| {
                                view! {
                                    <span class="facet-count" data-testid="facet-count">
                                        {format::compact(count.min(i64::MAX as u64) as i64)}
                                    </span>
                                }
                            })}
                    </label>
                </li>
            }
        })
        .collect_view();
    view! {
        <fieldset
            class="facet"
            data-testid=format!("facet-{param}")
            aria-labelledby=heading_id.clone()
        >
            <div class="facet-header">
                <legend class="facet-title" id=heading_id.clone()>
                    {facet.label()}
                </legend>
                {clear}
            </div>
            <ul class="facet-list">{options}</ul>
            {(total > FACET_PREVIEW)
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="link-button facet-more"
                            aria-expanded=move || is_expanded().to_string()
                            on:click=move |_| {
                                expanded
                                    .update(|e| {
                                        if let Some(i) = e.iter().position(|f| *f == facet) {
                                            e.remove(i);
                                        } else {
                                            e.push(facet);
                                        }
                                    })
                            }
                        >
                            {move || {
                                if is_expanded() {
                                    "Show fewer".to_owned()
                                } else {
                                    format!("Show all {total}")
                                }
                            }}
                        </button>
                    }
                })}
        </fieldset>
    }
    .into_any()
}

/// Open or gated models (the answer has no counts for these).
#[component]
fn AccessGroup(
    state: SearchState,
    on_change: Callback<SearchState>,
    on_focus: StoredValue<Option<String>>,
) -> impl IntoView {
    let options = [
        (false, "Open", "gated-false"),
        (true, "Gated", "gated-true"),
    ];
    view! {
        <fieldset class="facet" data-testid="facet-gated" aria-labelledby="facet-gated-heading">
            <div class="facet-header">
                <legend class="facet-title" id="facet-gated-heading">
                    "Access"
                </legend>
            </div>
            <ul class="facet-list">
                {options
                    .into_iter()
                    .map(|(gated, label, key)| {
                        let id = format!("facet-{key}");
                        let checked = state.gated == Some(gated);
                        let state = state.clone();
                        let focus_id = id.clone();
                        view! {
                            <li class="facet-item">
                                <label class="facet-option" for=id.clone()>
                                    <input
                                        type="checkbox"
                                        class="facet-check"
                                        id=id.clone()
                                        checked=checked
                                        data-testid=format!("facet-{key}")
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            on_focus.set_value(Some(focus_id.clone()));
                                            on_change.run(state.with_gated(on.then_some(gated)));
                                        }
                                    />
                                    <span class="facet-value">{label}</span>
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
}

/// One removable chip per active filter, and a way to clear them all.
#[component]
pub fn ActiveFilters(state: Memo<SearchState>, on_change: Callback<SearchState>) -> impl IntoView {
    move || {
        let current = state.get();
        if current.filter_count() == 0 {
            return ().into_any();
        }
        let mut chips: Vec<(String, String, SearchState)> = Vec::new();
        for facet in Facet::ALL {
            if let Some(value) = current.facet(facet) {
                chips.push((
                    facet.label().to_owned(),
                    value_label(facet, value),
                    current.with_facet(facet, None),
                ));
            }
        }
        if let Some(author) = &current.author {
            chips.push(("Author".into(), author.clone(), current.without_author()));
        }
        for tag in &current.tags {
            chips.push(("Tag".into(), tag.clone(), current.without_tag(tag)));
        }
        if let Some(gated) = current.gated {
            let label = if gated { "Gated" } else { "Open" };
            chips.push(("Access".into(), label.into(), current.with_gated(None)));
        }
        let cleared = SearchState {
            q: current.q.clone(),
            ..current.cleared()
        };
        view! {
            <div class="active-filters" data-testid="active-filters">
                <span class="visually-hidden">"Active filters:"</span>
                {chips
                    .into_iter()
                    .map(|(kind, value, without)| {
                        let label = format!("Remove the filter {kind}: {value}");
                        view! {
                            <button
                                type="button"
                                class="filter-chip"
                                data-testid="active-filter"
                                aria-label=label
                                on:click=move |_| on_change.run(without.clone())
                            >
                                <span class="filter-chip-kind">{kind}</span>
                                <span class="filter-chip-value">{value}</span>
                                <Icon kind=IconKind::Close class="filter-chip-icon" />
                            </button>
                        }
                    })
                    .collect_view()}
                <button
                    type="button"
                    class="link-button"
                    data-testid="clear-filters-inline"
                    on:click=move |_| on_change.run(cleared.clone())
                >
                    "Clear filters"
                </button>
            </div>
        }
        .into_any()
    }
}

#[component]
pub fn SortControls(state: Memo<SearchState>, on_change: Callback<SearchState>) -> impl IntoView {
    let on_sort = move |ev: ev::Event| {
        if let Some(sort) = SortKey::parse(&event_target_value(&ev)) {
            let current = state.get_untracked();
            on_change.run(current.with_sort(sort, current.ascending));
        }
    };
    let toggle = move |_| {
        let current = state.get_untracked();
        on_change.run(current.with_sort(current.sort, !current.ascending));
    };
    let ascending = move || state.with(|s| s.ascending);
    view! {
        <div class="catalog-sort">
            <label class="catalog-sort-label" for="catalog-sort">
                "Sort by"
            </label>
            <select
                id="catalog-sort"
                class="select select--compact"
                data-testid="catalog-sort"
                on:change=on_sort
            >
                {SortKey::ALL
                    .into_iter()
                    .map(|key| {
                        view! {
                            <option
                                value=key.as_str()
                                prop:selected=move || state.with(|s| s.sort == key)
                            >
                                {key.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button
                type="button"
                class="button button--small sort-direction"
                data-testid="catalog-direction"
                data-direction=move || if ascending() { "asc" } else { "desc" }
                title=move || {
                    if ascending() {
                        "Ascending: lowest or oldest first. Click for descending."
                    } else {
                        "Descending: highest or newest first. Click for ascending."
                    }
                }
                on:click=toggle
            >
                {move || {
                    let kind = if ascending() { IconKind::SortAscending } else { IconKind::SortDescending };
                    view! { <Icon kind=kind class="button-icon" /> }
                }}
                <span>{move || if ascending() { "Ascending" } else { "Descending" }}</span>
            </button>
        </div>
    }
}
