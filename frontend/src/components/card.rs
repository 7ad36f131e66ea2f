//! Cards: the surface every block of content sits on.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};

#[component]
pub fn Card(
    #[prop(into)] title: String,
    #[prop(optional)] icon: Option<IconKind>,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] testid: Option<String>,
    /// Shown at the right of the header (a badge, a button).
    #[prop(optional, into)]
    aside: ViewFn,
    children: Children,
) -> impl IntoView {
    view! {
        <section class=format!("card {class}") data-testid=testid>
            <header class="card-header">
                <h3 class="card-title">
                    {icon.map(|kind| view! { <Icon kind=kind class="card-icon" /> })} {title}
                </h3>
                <div class="card-aside">{aside.run()}</div>
            </header>
            <div class="card-body">{children()}</div>
        </section>
    }
}

/// A label/value pair inside a card.
#[component]
pub fn Field(
    #[prop(into)] label: String,
    #[prop(optional)] testid: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field">
            <dt class="field-label">{label}</dt>
            <dd class="field-value" data-testid=testid>
                {children()}
            </dd>
        </div>
    }
}

/// A card's place when its data could not be loaded, with a way to try again.
#[component]
pub fn LoadFailed(
    #[prop(into)] title: String,
    error: hfb_shared::ErrorDetail,
    #[prop(into)] retry: Callback<()>,
) -> impl IntoView {
    view! {
        <Card title=title icon=crate::components::icon::IconKind::Alert class="card--error">
            <p class="card-lead" data-testid="load-error">
                {error.message.clone()}
            </p>
            <p class="muted small">
                <span class="mono">{error.code.as_str()}</span>
                {error.request_id.map(|id| format!(" · request {id}"))}
            </p>
            <div>
                <button type="button" class="button button--small" on:click=move |_| retry.run(())>
                    "Try again"
                </button>
            </div>
        </Card>
    }
}
