//! Status badges: a coloured dot and a word.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Ok,
    Warn,
    Down,
    Neutral,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Self::Ok => "badge badge--ok",
            Self::Warn => "badge badge--warn",
            Self::Down => "badge badge--down",
            Self::Neutral => "badge badge--neutral",
        }
    }
}

/// `label` is the exact status word (`ready`, `up`, `live`...), which tests read.
#[component]
pub fn StatusBadge(
    #[prop(into)] tone: Signal<Tone>,
    #[prop(into)] label: Signal<String>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! {
        <span class=move || tone.get().class()>
            <span class="badge-dot" aria-hidden="true"></span>
            <span data-testid=(!testid.is_empty()).then_some(testid)>{move || label.get()}</span>
        </span>
    }
}
