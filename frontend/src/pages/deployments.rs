//! Deployments: catalog models running on a target (arrives with the deployment capability).

use leptos::prelude::*;

use crate::components::{empty_state::EmptyState, page_header::PageHeader};
use crate::pages::Page;

#[component]
pub fn Deployments() -> impl IntoView {
    view! {
        <div class="page" data-testid="page-deployments">
            <PageHeader
                title=Page::Deployments.title()
                subtitle="Models running for your team, their versions and their state."
            />
            <EmptyState
                icon=Page::Deployments.icon()
                title="No deployments yet"
                message="Deploy a catalog model in one click to the built-in runtime, Hugging Face Inference Endpoints, Spaces or AWS Lambda."
                upcoming=&[
                    "Scaling settings with sensible defaults per task",
                    "A new version on every change, with rollback",
                    "Pause, resume and delete",
                ]
            />
        </div>
    }
}
