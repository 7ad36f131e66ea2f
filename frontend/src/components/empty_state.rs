//! The honest placeholder for a capability that has not arrived yet.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};

#[component]
pub fn EmptyState(
    icon: IconKind,
    #[prop(into)] title: String,
    /// One sentence on what this place will hold.
    #[prop(into)]
    message: String,
    /// What will be possible here, one short line each.
    #[prop(optional)]
    upcoming: &'static [&'static str],
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid="empty-state">
            <div class="empty-state-icon">
                <Icon kind=icon />
            </div>
            <h2 class="empty-state-title">{title}</h2>
            <p class="empty-state-message">{message}</p>
            {(!upcoming.is_empty())
                .then(|| {
                    view! {
                        <ul class="empty-state-list" aria-label="Coming here">
                            {upcoming
                                .iter()
                                .map(|line| view! { <li>{*line}</li> })
                                .collect_view()}
                        </ul>
                    }
                })}
            {children.map(|c| c())}
        </div>
    }
}
