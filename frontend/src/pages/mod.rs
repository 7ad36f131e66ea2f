//! One module per page; [`Page`] owns their paths, titles and icons.

pub mod account;
pub mod api_keys;
pub mod catalog;
pub mod dashboard;
pub mod deploy_new;
pub mod deployment;
pub mod deployments;
pub mod login;
pub mod model;
pub mod not_found;
pub mod overview;
pub mod playground;
pub mod sessions;
pub mod settings;
pub mod signup;
pub mod team;
pub mod teams;

use crate::api::encode;
use crate::components::icon::IconKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Overview,
    Catalog,
    Deployments,
    Playground,
    Dashboard,
    Settings,
    Login,
    Signup,
    Account,
    Sessions,
    ApiKeys,
    Teams,
}

impl Page {
    /// The main navigation, in order.
    pub const ALL: [Self; 6] = [
        Self::Overview,
        Self::Catalog,
        Self::Deployments,
        Self::Playground,
        Self::Dashboard,
        Self::Settings,
    ];

    /// The signed-in user's pages, in navigation order.
    pub const ACCOUNT: [Self; 3] = [Self::Teams, Self::ApiKeys, Self::Account];

    /// The tabs of the account area.
    pub const ACCOUNT_TABS: [Self; 3] = [Self::Account, Self::Sessions, Self::ApiKeys];

    /// The absolute path links point at (the route table in `app.rs` matches the same).
    pub const fn path(self) -> &'static str {
        match self {
            Self::Overview => "/",
            Self::Catalog => "/catalog",
            Self::Deployments => "/deployments",
            Self::Playground => "/playground",
            Self::Dashboard => "/dashboard",
            Self::Settings => "/settings",
            Self::Login => "/login",
            Self::Signup => "/signup",
            Self::Account => "/account",
            Self::Sessions => "/account/sessions",
            Self::ApiKeys => "/account/api-keys",
            Self::Teams => "/teams",
        }
    }

    /// Stable lower-case name for test hooks.
    pub const fn key(self) -> &'static str {
        match self {
            Self::Overview => "overview",
            Self::Catalog => "catalog",
            Self::Deployments => "deployments",
            Self::Playground => "playground",
            Self::Dashboard => "dashboard",
            Self::Settings => "settings",
            Self::Login => "login",
            Self::Signup => "signup",
            Self::Account => "account",
            Self::Sessions => "sessions",
            Self::ApiKeys => "api-keys",
            Self::Teams => "teams",
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
            Self::Login => "Sign in",
            Self::Signup => "Sign up",
            Self::Account => "Account",
            Self::Sessions => "Sessions",
            Self::ApiKeys => "API keys",
            Self::Teams => "Teams",
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
            Self::Login | Self::Signup | Self::Account => IconKind::User,
            Self::Sessions => IconKind::Monitor,
            Self::ApiKeys => IconKind::Key,
            Self::Teams => IconKind::Users,
        }
    }
}

/// `/login`, with `?next=` when there is a page to come back to.
pub fn login_path(next: Option<&str>) -> String {
    auth_path(Page::Login, next)
}

/// `/signup`, with `?next=` when there is a page to come back to.
pub fn signup_path(next: Option<&str>) -> String {
    auth_path(Page::Signup, next)
}

fn auth_path(page: Page, next: Option<&str>) -> String {
    match next.filter(|n| *n != "/" && !n.is_empty()) {
        Some(next) => format!("{}?next={}", page.path(), encode(next)),
        None => page.path().to_owned(),
    }
}

/// `/models/{owner}/{name}`: a catalog model's page.
pub fn model_path(model_id: &str) -> String {
    let segments: Vec<String> = model_id.split('/').map(encode).collect();
    format!("/models/{}", segments.join("/"))
}

/// `/teams/{id}`.
pub fn team_path(team_id: &str) -> String {
    format!("/teams/{}", encode(team_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_and_keys_unique() {
        let all = [
            Page::ALL.as_slice(),
            &[Page::Login, Page::Signup, Page::Sessions],
            Page::ACCOUNT.as_slice(),
        ]
        .concat();
        for page in &all {
            assert!(page.path().starts_with('/'), "{page:?}");
        }
        let mut keys: Vec<&str> = all.iter().map(|p| p.key()).collect();
        keys.sort_unstable();
        let count = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), count);
    }
}
