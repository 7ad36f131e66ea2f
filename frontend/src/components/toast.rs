//! The toast region: where API errors and confirmations appear.

use leptos::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::state::toast::{ToastKind, use_toasts};

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <section class="toast-region" aria-live="polite" aria-label="Notifications">
            <For each=move || toasts.items().get() key=|t| (t.id, t.repeats) let:toast>
                {
                    let id = toast.id;
                    let icon = match toast.kind {
                        ToastKind::Error => IconKind::Alert,
                        ToastKind::Success => IconKind::Check,
                        ToastKind::Info => IconKind::Info,
                    };
                    view! {
                        <div
                            class=format!("toast toast--{}", toast.kind.as_str())
                            role=if toast.kind == ToastKind::Error { "alert" } else { "status" }
                            data-testid="toast"
                        >
                            <Icon kind=icon class="toast-icon" />
                            <div class="toast-body">
                                <p class="toast-title">
                                    {toast.title.clone()}
                                    {(toast.repeats > 0)
                                        .then(|| {
                                            view! {
                                                <span class="toast-repeats">
                                                    {format!("×{}", toast.repeats + 1)}
                                                </span>
                                            }
                                        })}
                                </p>
                                {(!toast.message.is_empty())
                                    .then(|| {
                                        view! {
                                            <p class="toast-message" data-testid="toast-message">
                                                {toast.message.clone()}
                                            </p>
                                        }
                                    })}
                                {(toast.code.is_some() || toast.request_id.is_some())
                                    .then(|| {
                                        view! {
                                            <p class="toast-meta">
                                                {toast
                                                    .code
                                                    .clone()
                                                    .map(|code| {
                                                        view! {
                                                            <span class="toast-code" data-testid="toast-code">
                                                                {code}
                                                            </span>
                                                        }
                                                    })}
                                                {toast
                                                    .request_id
                                                    .clone()
                                                    .map(|rid| {
                                                        view! {
                                                            <span class="toast-request-id">
                                                                "request "
                                                                <code data-testid="toast-request-id">{rid}</code>
                                                            </span>
                                                        }
                                                    })}
                                            </p>
                                        }
                                    })}
                            </div>
                            <button
                                type="button"
                                class="icon-button toast-close"
                                aria-label="Dismiss notification"
                                on:click=move |_| toasts.dismiss(id)
                            >
                                <Icon kind=IconKind::Close />
                            </button>
                        </div>
                    }
                }
            </For>
        </section>
    }
}
