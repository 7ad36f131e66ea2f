//! The title block at the top of every page; also sets the document title.

use leptos::prelude::*;

/// Sets `<title>` for the page being shown.
pub fn set_document_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(&format!("{title} · hfb"));
    }
}

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into)] subtitle: String,
    /// Buttons at the right of the title.
    #[prop(optional, into)]
    actions: ViewFn,
) -> impl IntoView {
    set_document_title(&title);
    view! {
        <header class="page-header">
            <div>
                <h1 class="page-title" data-testid="page-title">
                    {title}
                </h1>
                <p class="page-subtitle">{subtitle}</p>
            </div>
            <div class="page-actions">{actions.run()}</div>
        </header>
    }
}
