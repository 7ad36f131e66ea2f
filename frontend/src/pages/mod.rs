//! One module per page; [`Page`] owns their paths, titles and icons.

pub mod catalog;
pub mod dashboard;
pub mod deployments;
pub mod not_found;
pub mod overview;
pub mod playground;
pub mod settings;

use crate::components::icon::IconKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Overview,
    Catalog,
    Deployments,
    Playground,
    Dashboard,
    Settings,
}

impl Page {
    /// In navigation order.
    pub const ALL: [Self; 6] = [
        Self::Overview,
        Self::Catalog,
        Self::Deployments,
        Self::Playground,
        Self::Dashboard,
        Self::Settings,
    ];

    /// The path segment the router matches (empty for the root).
    pub const fn segment(self) -> &'static str {
        match self {
            Self::Overview => "",
            Self::Catalog => "catalog",
            Self::Deployments => "deployments",
            Self::Playground => "playground",
            Self::Dashboard => "dashboard",
            Self::Settings => "settings",
        }
    }

    /// The absolute path links point at.
    pub const fn path(self) -> &'static str {
        match self {
            Self::Overview => "/",
            Self::Catalog => "/catalog",
            Self::Deployments => "/deployments",
            Self::Playground => "/playground",
            Self::Dashboard => "/dashboard",
            Self::Settings => "/settings",
        }
    }

    /// Stable lower-case name for test hooks.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            other => other.segment(),
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Catalog => "Catalog",
            Self::Deployments => "Deployments",
            Self::Playground => "Playground",
            Self::Dashboard => "Dashboard",
            Self::Settings => "Settings",
        }
    }

    pub const fn icon(self) -> IconKind {
        match self {
            Self::Overview => IconKind::Overview,
            Self::Catalog => IconKind::Catalog,
            Self::Deployments => IconKind::Deployments,
            Self::Playground => IconKind::Playground,
            Self::Dashboard => IconKind::Dashboard,
            Self::Settings => IconKind::Settings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_segments_under_the_root() {
        for page in Page::ALL {
            assert_eq!(page.path(), format!("/{}", page.segment()));
        }
    }
}
