//! Shown for any path the route table does not know.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};

use crate::components::empty_state::EmptyState;
use crate::components::icon::IconKind;
use crate::components::page_header::set_document_title;

#[component]
pub fn NotFound() -> impl IntoView {
    set_document_title("Page not found");
    let location = use_location();
    view! {
        <div class="page page--narrow" data-testid="not-found">
            <EmptyState
                icon=IconKind::Compass
                title="Page not found"
                message="There is nothing at this address. It may have moved, or the link may be mistyped."
            >
                <p class="empty-state-path">
                    <code>{move || location.pathname.get()}</code>
                </p>
                <A href="/" attr:class="button button--primary" attr:data-testid="go-home">
                    "Back to the overview"
                </A>
            </EmptyState>
        </div>
    }
}
