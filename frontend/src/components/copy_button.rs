//! Copying text to the clipboard: the call, and a button that says when it worked.

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::icon::{Icon, IconKind};

/// How long the button says "Copied" (or that copying failed).
const FEEDBACK_MS: u32 = 2_000;

/// Copies through the Clipboard API; false when the browser refused.
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = window.navigator().clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(text))
        .await
        .is_ok()
}

/// A small button that copies `text` and says so for a moment.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    #[prop(default = "Copy")] label: &'static str,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    // `Some(true)` copied, `Some(false)` refused, `None` nothing to say.
    let feedback = RwSignal::new(None::<bool>);
    let timer = StoredValue::new_local(None::<Timeout>);
    let copy = move |_| {
        let text = text.get_untracked();
        spawn_local(async move {
            let copied = copy_text(&text).await;
            feedback.set(Some(copied));
            timer.set_value(Some(Timeout::new(FEEDBACK_MS, move || feedback.set(None))));
        });
    };
    view! {
        <button
            type="button"
            class="button button--small"
            data-testid=(!testid.is_empty()).then_some(testid)
            data-copied=move || feedback.get().map(|ok| ok.to_string())
            on:click=copy
        >
            <Icon kind=IconKind::Copy class="button-icon" />
            <span aria-live="polite">
                {move || match feedback.get() {
                    Some(true) => "Copied",
                    Some(false) => "Copy failed",
                    None => label,
                }}
            </span>
        </button>
    }
}
