//! Shimmering placeholders shown while data loads.

use leptos::prelude::*;

/// One grey bar; `width` is any CSS length.
#[component]
pub fn SkeletonLine(
    #[prop(default = "100%")] width: &'static str,
    #[prop(default = "0.9rem")] height: &'static str,
) -> impl IntoView {
    view! {
        <span
            class="skeleton"
            style=format!("width:{width};height:{height}")
            aria-hidden="true"
        ></span>
    }
}

/// A card-shaped placeholder with a title bar and a few lines.
#[component]
pub fn SkeletonCard(#[prop(default = 3)] lines: usize) -> impl IntoView {
    view! {
        <div class="card card--skeleton" aria-busy="true" aria-label="Loading">
            <div class="card-header">
                <SkeletonLine width="40%" height="1rem" />
            </div>
            <div class="card-body skeleton-lines">
                {(0..lines)
                    .map(|i| {
                        let width = ["90%", "70%", "80%", "55%"][i % 4];
                        view! { <SkeletonLine width=width /> }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
