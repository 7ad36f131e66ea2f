//! Theme preference (light, dark or follow the system), kept in localStorage.
//!
//! The preference becomes `data-theme` on `<html>`; with no attribute the stylesheet
//! follows `prefers-color-scheme`. `index.html` applies the stored value before the app
//! loads so the first paint is already in the right theme.

use leptos::prelude::*;

/// localStorage key; `index.html` reads the same key.
pub const STORAGE_KEY: &str = "hfb.theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemePreference {
    Light,
    Dark,
    System,
}

impl ThemePreference {
    pub const ALL: [Self; 3] = [Self::Light, Self::Dark, Self::System];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
            Self::System => "system",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Light => "Light",
            Self::Dark => "Dark",
            Self::System => "System",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// The next choice for the top bar's one-button switch.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }
}

/// The preference signal in context; writing it stores and applies the theme.
#[derive(Clone, Copy)]
pub struct Theme(pub RwSignal<ThemePreference>);

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load() -> ThemePreference {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|v| ThemePreference::parse(&v))
        .unwrap_or(ThemePreference::System)
}

fn apply(preference: ThemePreference) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = match preference {
            ThemePreference::System => root.remove_attribute("data-theme"),
            other => root.set_attribute("data-theme", other.as_str()),
        };
    }
    if let Some(storage) = storage() {
        // Storage can be full or disabled (private mode); the theme still applies for this visit.
        let _ = storage.set_item(STORAGE_KEY, preference.as_str());
    }
}

pub fn provide_theme() -> Theme {
    let theme = Theme(RwSignal::new(load()));
    Effect::new(move || apply(theme.0.get()));
    provide_context(theme);
    theme
}

pub fn use_theme() -> Theme {
    expect_context::<Theme>()
}
