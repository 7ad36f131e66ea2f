//! Playground: try a running deployment (arrives with the inference capability).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};
use crate::pages::Page;

#[component]
pub fn Playground() -> impl IntoView {
    view! {
        <div class="page" data-testid="page-playground">
            <PageHeader
                title=Page::Playground.title()
                subtitle="Send inputs to a model and read its answer."
            />
            <EmptyState
                icon=Page::Playground.icon()
                title="Nothing to try yet"
                message="Call any running deployment with Hugging Face task inputs and see the response, its latency and the equivalent API request."
                upcoming=&[
                    "Forms for each task: embeddings, similarity, classification, chat",
                    "Copyable curl, Python and OpenAI-client snippets",
                ]
            />
        </div>
    }
}
