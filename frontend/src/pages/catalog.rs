//! Catalog: models synced from the Hugging Face Hub (arrives with the catalog capability).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};
use crate::pages::Page;

#[component]
pub fn Catalog() -> impl IntoView {
    view! {
        <div class="page" data-testid="page-catalog">
            <PageHeader
                title=Page::Catalog.title()
                subtitle="Models your organisation can find, compare and deploy."
            />
            <EmptyState
                icon=Page::Catalog.icon()
                title="No models in the catalog yet"
                message="Search and filter models from the Hugging Face Hub, synced to this server and searched locally."
                upcoming=&[
                    "Search as you type across names, tasks and tags",
                    "Filters for task, library, language, license and author",
                    "Sort by downloads, likes, trending or recently updated",
                ]
            />
        </div>
    }
}
