//! Form building blocks: labelled inputs with their error next to them, and a submit
//! button that turns into a spinner while the request runs.
//!
//! Every form is a real `<form>` (Enter submits) with `novalidate`: the app's own checks
//! and the server's field errors show in the same place, under the field.

use hfb_shared::ErrorDetail;
use leptos::prelude::*;

use crate::api;
use crate::state::toast::Toasts;

/// The error message per field of one form.
#[derive(Clone, Copy)]
pub struct FieldErrors(RwSignal<Vec<(String, String)>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self(RwSignal::new(Vec::new()))
    }

    /// The message for `field` (tracked).
    pub fn get(&self, field: &str) -> Option<String> {
        self.0.with(|errors| {
            errors
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, m)| m.clone())
        })
    }

    pub fn set(&self, field: &str, message: impl Into<String>) {
        let message = message.into();
        self.0.update(|errors| {
            errors.retain(|(f, _)| f != field);
            errors.push((field.to_owned(), message));
        });
    }

    /// Sets the message when `problem` is one; returns whether it was.
    pub fn check(&self, field: &str, problem: Option<impl Into<String>>) -> bool {
        match problem {
            Some(message) => {
                self.set(field, message);
                true
            }
            None => false,
        }
    }

    pub fn clear_field(&self, field: &str) {
        if self.0.with_untracked(|e| e.iter().any(|(f, _)| f == field)) {
            self.0.update(|errors| errors.retain(|(f, _)| f != field));
        }
    }

    pub fn clear(&self) {
        self.0.set(Vec::new());
    }

    pub fn is_empty(&self) -> bool {
        self.0.with_untracked(Vec::is_empty)
    }

    /// Shows a failed submit: the server's field errors for the fields this form has
    /// (`fields` maps the server's name to the form's), anything else as a toast.
    pub fn report(
        &self,
        toasts: Toasts,
        title: &str,
        error: &ErrorDetail,
        fields: &[(&str, &str)],
    ) {
        let mut shown = false;
        for (field, message) in api::field_errors(error) {
            if let Some((_, form_field)) = fields.iter().find(|(server, _)| *server == field) {
                self.set(form_field, field_message(&field, &message));
                shown = true;
            }
        }
        if !shown {
            toasts.api_error(title, error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_read_as_sentences() {
        assert_eq!(
            field_message("current_password", "is wrong"),
            "This password is wrong."
        );
        assert_eq!(
            field_message("password", "must be at least 10 characters"),
            "Must be at least 10 characters."
        );
        assert_eq!(sentence("Done!"), "Done!");
    }
}

impl Default for FieldErrors {
    fn default() -> Self {
        Self::new()
    }
}

/// A server field message as a sentence: `is wrong` on `current_password` becomes
/// `This password is wrong.`, `must not be empty` becomes `Must not be empty.`
pub fn field_message(field: &str, message: &str) -> String {
    let message = message.trim();
    if message.starts_with("is ") {
        let subject = if field.contains("password") {
            "password"
        } else if field.contains("email") {
            "e-mail address"
        } else {
            "value"
        };
        sentence(&format!("this {subject} {message}"))
    } else {
        sentence(message)
    }
}

/// `must be at least 10 characters` → `Must be at least 10 characters.`
pub fn sentence(message: &str) -> String {
    let mut text = crate::format::capitalize(message.trim());
    if !text.ends_with(['.', '!', '?']) {
        text.push('.');
    }
    text
}

/// A labelled input. Its id is `{form}-{name}` (also the test id); the error below it
/// is `{form}-{name}-error`.
#[component]
pub fn TextField(
    /// The form's name, which keeps ids unique when two forms share a field name.
    form: &'static str,
    /// The field name, as `FieldErrors` knows it.
    name: &'static str,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    errors: FieldErrors,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let id = format!("{form}-{name}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if errors.get(name).is_some() {
                ids.push(error_id.clone());
            }
            if has_hint {
                ids.push(hint_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="form-field" class:form-field--invalid=move || errors.get(name).is_some()>
            <label class="form-label" for=id.clone()>
                {label}
            </label>
            <input
                class="input"
                id=id.clone()
                name=name
                type=kind
                autocomplete=(!autocomplete.is_empty()).then_some(autocomplete)
                placeholder=(!placeholder.is_empty()).then_some(placeholder)
                required=required
                autofocus=autofocus
                disabled=move || disabled.get()
                spellcheck=(kind == "email" || kind == "password").then_some("false")
                autocapitalize=(kind == "email" || kind == "password").then_some("none")
                aria-invalid=move || errors.get(name).is_some().then_some("true")
                aria-describedby=described_by
                data-testid=id.clone()
                bind:value=value
                on:input=move |_| errors.clear_field(name)
            />
            {hint.map(|hint| view! { <p class="form-hint" id=hint_id>{hint}</p> })}
            <FieldError id=error_id errors=errors name=name />
        </div>
    }
}

/// The message for one field, announced when it appears.
#[component]
pub fn FieldError(id: String, errors: FieldErrors, name: &'static str) -> impl IntoView {
    view! {
        {move || {
            errors
                .get(name)
                .map(|message| {
                    view! {
                        <p class="field-error" id=id.clone() data-testid=id.clone() role="alert">
                            {message}
                        </p>
                    }
                })
        }}
    }
}

/// The form's submit button: disabled with a spinner while `busy`.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] busy: Signal<bool>,
    #[prop(default = "button--primary")] class: &'static str,
    #[prop(optional)] testid: &'static str,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=format!("button {class}")
            disabled=move || busy.get() || disabled.get()
            aria-busy=move || busy.get().to_string()
            data-testid=(!testid.is_empty()).then_some(testid)
        >
            {move || busy.get().then(|| view! { <Spinner /> })}
            {label}
        </button>
    }
}

/// A small spinning ring for busy buttons.
#[component]
pub fn Spinner() -> impl IntoView {
    view! { <span class="spinner" aria-hidden="true"></span> }
}

/// Moves focus to the first field of `form` (its id) marked invalid, once the error
/// state has been rendered.
pub fn focus_first_invalid(form: &'static str) {
    request_animation_frame(move || {
        let field = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("#{form} [aria-invalid=\"true\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok());
        if let Some(field) = field {
            let _ = field.focus();
        }
    });
}
