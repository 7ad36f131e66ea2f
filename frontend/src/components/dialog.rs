//! Modal dialogs on the native `<dialog>` element: it brings the top layer, the
//! backdrop, focus containment and Escape to close.

use leptos::{html, prelude::*};

use crate::components::form::Spinner;
use crate::components::icon::{Icon, IconKind};

/// A modal shown while `open` is true. Escape (or [`Modal`]'s close button) calls
/// `on_close`; the owner then sets `open` to false.
#[component]
pub fn Modal(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] on_close: Callback<()>,
    #[prop(into)] title: Signal<String>,
    /// `dialog-{id}-title` labels the dialog; `id` is also its test id.
    id: &'static str,
    #[prop(optional)] icon: Option<IconKind>,
    #[prop(optional)] tone: &'static str,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<html::Dialog>::new();
    Effect::new(move || {
        let should_open = open.get();
        let Some(dialog) = node.get() else {
            return;
        };
        if should_open && !dialog.open() {
            let _ = dialog.show_modal();
        } else if !should_open && dialog.open() {
            dialog.close();
        }
    });
    let title_id = format!("dialog-{id}-title");
    let labelled_by = title_id.clone();
    view! {
        <dialog
            node_ref=node
            class=format!("dialog {tone}")
            aria-labelledby=labelled_by
            data-testid=id
            on:close=move |_| {
                if open.get_untracked() {
                    on_close.run(());
                }
            }
        >
            <header class="dialog-header">
                {icon.map(|kind| view! { <Icon kind=kind class="dialog-icon" /> })}
                <h2 class="dialog-title" id=title_id>
                    {move || title.get()}
                </h2>
                <button
                    type="button"
                    class="icon-button dialog-close"
                    aria-label="Close"
                    on:click=move |_| on_close.run(())
                >
                    <Icon kind=IconKind::Close />
                </button>
            </header>
            <div class="dialog-body">{children()}</div>
        </dialog>
    }
}

/// "Are you sure?" with the consequence spelled out. With `confirm_text`, the confirm
/// button stays disabled until exactly that text is typed.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] open: Signal<bool>,
    #[prop(into)] on_close: Callback<()>,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] message: Signal<String>,
    #[prop(into)] confirm_label: String,
    id: &'static str,
    #[prop(into)] busy: Signal<bool>,
    #[prop(optional, into)] confirm_text: Option<Signal<String>>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    // Start empty every time the dialog opens.
    Effect::new(move || {
        if open.get() {
            typed.set(String::new());
        }
    });
    let matches = move || {
        confirm_text
            .map(|text| typed.with(|t| t.trim() == text.get().trim()))
            .unwrap_or(true)
    };
    let input_id = format!("{id}-confirm-text");
    view! {
        <Modal open=open on_close=on_close title=title id=id icon=IconKind::Alert tone="dialog--danger">
            <form
                class="form"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    if matches() && !busy.get_untracked() {
                        on_confirm.run(());
                    }
                }
            >
                <p class="dialog-message">{move || message.get()}</p>
                {confirm_text
                    .map(|text| {
                        let input_id = input_id.clone();
                        view! {
                            <div class="form-field">
                                <label class="form-label" for=input_id.clone()>
                                    "Type "
                                    <strong class="mono">{move || text.get()}</strong>
                                    " to confirm"
                                </label>
                                <input
                                    class="input"
                                    id=input_id.clone()
                                    data-testid=input_id
                                    autocomplete="off"
                                    spellcheck="false"
                                    bind:value=typed
                                />
                            </div>
                        }
                    })}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button
                        type="submit"
                        class="button button--danger"
                        disabled=move || busy.get() || !matches()
                        aria-busy=move || busy.get().to_string()
                        data-testid=format!("{id}-confirm")
                    >
                        {move || busy.get().then(|| view! { <Spinner /> })}
                        {confirm_label}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
