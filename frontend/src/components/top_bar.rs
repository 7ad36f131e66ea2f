//! The bar across the top: brand, live-connection pill, theme switch, the account corner
//! (user menu and team switcher, or sign-in buttons) and the menu button that opens the
//! navigation on narrow screens.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::ws::use_live_connection;
use crate::components::icon::{Icon, IconKind};
use crate::components::user_menu::AccountCorner;
use crate::state::theme::{ThemePreference, use_theme};

/// The product mark, also used (as a file) for the favicon.
#[component]
pub fn BrandMark() -> impl IntoView {
    view! {
        <svg class="brand-mark" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
            <defs>
                <linearGradient id="brand-gradient" x1="0" y1="0" x2="1" y2="1">
                    <stop offset="0" stop-color="#ffb020" />
                    <stop offset="1" stop-color="#f2612b" />
                </linearGradient>
            </defs>
            <rect width="32" height="32" rx="8" fill="url(#brand-gradient)" />
            <rect x="8" y="17" width="4" height="7" rx="2" fill="#fff" />
            <rect x="14" y="12" width="4" height="12" rx="2" fill="#fff" />
            <rect x="20" y="8" width="4" height="16" rx="2" fill="#fff" opacity="0.92" />
        </svg>
    }
}

#[component]
pub fn TopBar(nav_open: RwSignal<bool>) -> impl IntoView {
    let live = use_live_connection();
    let theme = use_theme();

    let theme_icon = move || match theme.0.get() {
        ThemePreference::Light => view! { <Icon kind=IconKind::Sun /> },
        ThemePreference::Dark => view! { <Icon kind=IconKind::Moon /> },
        ThemePreference::System => view! { <Icon kind=IconKind::Monitor /> },
    };
    let theme_label = move || {
        let current = theme.0.get();
        format!(
            "Theme: {} (switch to {})",
            current.label(),
            current.next().label()
        )
    };

    view! {
        <header class="top-bar">
            <button
                type="button"
                class="icon-button menu-button"
                aria-controls="site-nav"
                aria-expanded=move || nav_open.get().to_string()
                aria-label=move || if nav_open.get() { "Close navigation" } else { "Open navigation" }
                on:click=move |_| nav_open.update(|open| *open = !*open)
            >
                {move || {
                    if nav_open.get() {
                        view! { <Icon kind=IconKind::Close /> }
                    } else {
                        view! { <Icon kind=IconKind::Menu /> }
                    }
                }}
            </button>
            <A href="/" attr:class="brand" attr:data-testid="brand">
                <BrandMark />
                <span class="brand-text">
                    <span class="brand-name">"hfb"</span>
                    <span class="brand-subtitle">"Hugging Face for Business"</span>
                </span>
            </A>
            <div class="top-bar-actions">
                <span
                    class=move || format!("live-pill live-pill--{}", live.state.get().as_str())
                    title="State of the live connection to the server"
                >
                    <span class="live-dot" aria-hidden="true"></span>
                    <span class="live-pill-text">
                        {move || match live.state.get().as_str() {
                            "live" => "Live",
                            "connecting" => "Connecting",
                            _ => "Reconnecting",
                        }}
                    </span>
                </span>
                <button
                    type="button"
                    class="icon-button"
                    data-testid="theme-toggle"
                    title=theme_label
                    aria-label=theme_label
                    on:click=move |_| theme.0.update(|t| *t = t.next())
                >
                    {theme_icon}
                </button>
                <AccountCorner />
            </div>
        </header>
    }
}
