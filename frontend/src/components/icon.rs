//! A small set of stroke icons drawn on a 24×24 grid, inlined as SVG.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    Overview,
    Catalog,
    Deployments,
    Playground,
    Dashboard,
    Settings,
    Menu,
    Close,
    Refresh,
    Sun,
    Moon,
    Monitor,
    Database,
    Bolt,
    Pulse,
    Server,
    Alert,
    Check,
    Info,
    External,
    Compass,
    Tag,
    User,
    Users,
    Key,
    Shield,
    Logout,
    Copy,
    Trash,
    Mail,
    Plus,
    Lock,
    ChevronDown,
    ChevronLeft,
    ChevronRight,
    Search,
    Download,
    Heart,
    File,
    Filter,
    SortDescending,
    SortAscending,
    Clock,
}

impl IconKind {
    /// The SVG children of the icon; stroke and size come from the wrapping `<svg>`.
    fn markup(self) -> &'static str {
        match self {
            Self::Overview => {
                r#"<path d="M3 10.5 12 3l9 7.5"/><path d="M5 9v11a1 1 0 0 0 1 1h4v-6h4v6h4a1 1 0 0 0 1-1V9"/>"#
            }
            Self::Catalog => {
                r#"<path d="m12 3 9 4.5-9 4.5-9-4.5z"/><path d="m3 12 9 4.5 9-4.5"/><path d="m3 16.5 9 4.5 9-4.5"/>"#
            }
            Self::Deployments => {
                r#"<path d="M12 15c-1.5-1-3-2.5-4-4 1.5-4.5 5-8 11-8 0 6-3.5 9.5-7 12z"/><path d="M8 11H4.5L7 8h3.5"/><path d="M13 16v3.5L16 17v-3.5"/><path d="M6.5 16.5c-1 .5-2 2-2.5 3.5 1.5-.5 3-1.5 3.5-2.5"/><circle cx="14.5" cy="9.5" r="1.5"/>"#
            }
            Self::Playground => {
                r#"<rect x="3" y="4" width="18" height="16" rx="2"/><path d="m7 9 3 3-3 3"/><path d="M12.5 15H17"/>"#
            }
            Self::Dashboard => r#"<path d="M3 3v18h18"/><path d="m7 15 4-4 3 3 5-6"/>"#,
            Self::Settings => {
                r#"<path d="M4 6h9"/><path d="M17 6h3"/><circle cx="15" cy="6" r="2"/><path d="M4 12h3"/><path d="M11 12h9"/><circle cx="9" cy="12" r="2"/><path d="M4 18h11"/><path d="M19 18h1"/><circle cx="17" cy="18" r="2"/>"#
            }
            Self::Menu => r#"<path d="M4 6h16"/><path d="M4 12h16"/><path d="M4 18h16"/>"#,
            Self::Close => r#"<path d="M6 6l12 12"/><path d="M18 6 6 18"/>"#,
            Self::Refresh => {
                r#"<path d="M20 11a8 8 0 0 0-14.3-4.9L4 8"/><path d="M4 3v5h5"/><path d="M4 13a8 8 0 0 0 14.3 4.9L20 16"/><path d="M20 21v-5h-5"/>"#
            }
            Self::Sun => {
                r#"<circle cx="12" cy="12" r="4"/><path d="M12 2v2"/><path d="M12 20v2"/><path d="m4.9 4.9 1.4 1.4"/><path d="m17.7 17.7 1.4 1.4"/><path d="M2 12h2"/><path d="M20 12h2"/><path d="m4.9 19.1 1.4-1.4"/><path d="m17.7 6.3 1.4-1.4"/>"#
            }
            Self::Moon => r#"<path d="M20 14.5A8 8 0 1 1 9.5 4a6.5 6.5 0 0 0 10.5 10.5z"/>"#,
            Self::Monitor => {
                r#"<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8 20h8"/><path d="M12 16v4"/>"#
            }
            Self::Database => {
                r#"<ellipse cx="12" cy="5.5" rx="8" ry="2.5"/><path d="M4 5.5v13c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5v-13"/><path d="M4 12c0 1.4 3.6 2.5 8 2.5s8-1.1 8-2.5"/>"#
            }
            Self::Bolt => r#"<path d="M13 2 4 14h7l-1 8 9-12h-7z"/>"#,
            Self::Pulse => r#"<path d="M3 12h4l3-8 4 16 3-8h4"/>"#,
            Self::Server => {
                r#"<rect x="3" y="4" width="18" height="7" rx="2"/><rect x="3" y="13" width="18" height="7" rx="2"/><path d="M7 7.5h.01"/><path d="M7 16.5h.01"/>"#
            }
            Self::Alert => {
                r#"<path d="M10.3 4.2 2.6 18a2 2 0 0 0 1.7 3h15.4a2 2 0 0 0 1.7-3L13.7 4.2a2 2 0 0 0-3.4 0z"/><path d="M12 9v4"/><path d="M12 17h.01"/>"#
            }
            Self::Check => r#"<circle cx="12" cy="12" r="9"/><path d="m8 12 3 3 5-6"/>"#,
            Self::Info => {
                r#"<circle cx="12" cy="12" r="9"/><path d="M12 11v5"/><path d="M12 8h.01"/>"#
            }
            Self::External => {
                r#"<path d="M14 4h6v6"/><path d="M20 4 11 13"/><path d="M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>"#
            }
            Self::Compass => r#"<circle cx="12" cy="12" r="9"/><path d="m15.5 8.5-2 5-5 2 2-5z"/>"#,
            Self::Tag => r#"<path d="M3 12V4a1 1 0 0 1 1-1h8l9 9-9 9z"/><path d="M7.5 7.5h.01"/>"#,
            Self::User => r#"<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>"#,
            Self::Users => {
                r#"<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0"/><path d="M15.5 4.6a3.5 3.5 0 0 1 0 6.8"/><path d="M18 14.2a6.5 6.5 0 0 1 3.5 5.8"/>"#
            }
            Self::Key => {
                r#"<circle cx="8" cy="15" r="4.5"/><path d="m11.2 11.8 8.8-8.8"/><path d="m16.5 6.5 3 3"/><path d="m14 9 2 2"/>"#
            }
            Self::Shield => {
                r#"<path d="M12 3 4.5 6v5.5c0 4.4 3.2 8.3 7.5 9.5 4.3-1.2 7.5-5.1 7.5-9.5V6z"/><path d="m9 12 2 2 4-4.5"/>"#
            }
            Self::Logout => {
                r#"<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 17l-5-5 5-5"/><path d="M5 12h11"/>"#
            }
            Self::Copy => {
                r#"<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V6a2 2 0 0 0-2-2H6a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h2"/>"#
            }
            Self::Trash => {
                r#"<path d="M4 7h16"/><path d="M10 11v6"/><path d="M14 11v6"/><path d="M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12"/><path d="M9 7V4h6v3"/>"#
            }
            Self::Mail => {
                r#"<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>"#
            }
            Self::Plus => r#"<path d="M12 5v14"/><path d="M5 12h14"/>"#,
            Self::Lock => {
                r#"<rect x="4.5" y="10.5" width="15" height="10" rx="2"/><path d="M8 10.5V7a4 4 0 0 1 8 0v3.5"/>"#
            }
            Self::ChevronDown => r#"<path d="m6 9 6 6 6-6"/>"#,
            Self::ChevronLeft => r#"<path d="m15 6-6 6 6 6"/>"#,
            Self::ChevronRight => r#"<path d="m9 6 6 6-6 6"/>"#,
            Self::Search => r#"<circle cx="11" cy="11" r="6.5"/><path d="m20 20-4.2-4.2"/>"#,
            Self::Download => {
                r#"<path d="M12 4v11"/><path d="m7 10 5 5 5-5"/><path d="M5 20h14"/>"#
            }
            Self::Heart => {
                r#"<path d="M12 20s-7.5-4.6-7.5-10A4.5 4.5 0 0 1 12 7.4 4.5 4.5 0 0 1 19.5 10c0 5.4-7.5 10-7.5 10z"/>"#
            }
            Self::File => {
                r#"<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/><path d="M14 3v5h5"/>"#
            }
            Self::Filter => r#"<path d="M4 5h16l-6 7.5V19l-4 1.5v-8z"/>"#,
            Self::SortDescending => {
                r#"<path d="M7 4v16"/><path d="m3.5 16.5 3.5 3.5 3.5-3.5"/><path d="M13 6h8"/><path d="M13 11h6"/><path d="M13 16h4"/>"#
            }
            Self::SortAscending => {
                r#"<path d="M7 20V4"/><path d="M3.5 7.5 7 4l3.5 3.5"/><path d="M13 6h4"/><path d="M13 11h6"/><path d="M13 16h8"/>"#
            }
            Self::Clock => r#"<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>"#,
        }
    }
}

/// A decorative icon; the text next to it carries the meaning, so it is hidden from readers.
#[component]
pub fn Icon(kind: IconKind, #[prop(optional)] class: &'static str) -> impl IntoView {
    view! {
        <svg
            class=format!("icon {class}")
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="1.8"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
            inner_html=kind.markup()
        ></svg>
    }
}
