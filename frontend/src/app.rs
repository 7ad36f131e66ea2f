//! The application shell: context providers, layout and the route table.

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};
use wasm_bindgen::JsCast;

use crate::api::ws::provide_live_connection;
use crate::components::require_auth::RequireAuth;
use crate::components::{nav::SideNav, toast::ToastRegion, top_bar::TopBar};
use crate::pages::{
    account::Account, api_keys::ApiKeys, catalog::Catalog, dashboard::Dashboard,
    deployments::Deployments, login::Login, model::ModelPage, not_found::NotFound,
    overview::Overview, playground::Playground, sessions::Sessions, settings::Settings,
    signup::Signup, team::TeamPage, teams::Teams,
};
use crate::pages::{deploy_new::DeployNew, deployment::DeploymentPage};
use crate::state::{session::provide_session, theme::provide_theme, toast::provide_toasts};

#[component]
pub fn App() -> impl IntoView {
    let toasts = provide_toasts();
    provide_theme();
    provide_session(toasts);
    provide_live_connection();
    // Shared by the top bar's menu button and the navigation it opens on narrow screens.
    let nav_open = RwSignal::new(false);

    view! {
        <Router>
            <a class="skip-link" href="#main" on:click=skip_to_content>
                "Skip to content"
            </a>
            <TopBar nav_open=nav_open />
            <div class="shell">
                <SideNav open=nav_open />
                <main id="main" class="main" tabindex="-1">
                    <Routes fallback=|| view! { <NotFound /> }>
                        // Paths equal `Page::path()`.
                        <Route path=path!("/") view=Overview />
                        <Route path=path!("/catalog") view=Catalog />
                        <Route path=path!("/models/:owner/:name") view=ModelPage />
                        <Route path=path!("/deployments") view=Deployments />
                        <Route path=path!("/deployments/new") view=DeployNew />
                        <Route path=path!("/deployments/:id") view=DeploymentPage />
                        <Route path=path!("/playground") view=Playground />
                        <Route path=path!("/dashboard") view=Dashboard />
                        <Route path=path!("/settings") view=Settings />
                        <Route path=path!("/login") view=Login />
                        <Route path=path!("/signup") view=Signup />
                        <Route
                            path=path!("/account")
                            view=|| view! { <RequireAuth><Account /></RequireAuth> }
                        />
                        <Route
                            path=path!("/account/sessions")
                            view=|| view! { <RequireAuth><Sessions /></RequireAuth> }
                        />
                        <Route
                            path=path!("/account/api-keys")
                            view=|| view! { <RequireAuth><ApiKeys /></RequireAuth> }
                        />
                        <Route
                            path=path!("/teams")
                            view=|| view! { <RequireAuth><Teams /></RequireAuth> }
                        />
                        <Route
                            path=path!("/teams/:id")
                            view=|| view! { <RequireAuth><TeamPage /></RequireAuth> }
                        />
                    </Routes>
                </main>
            </div>
            <ToastRegion />
        </Router>
    }
}

/// Moves focus to the page content. Handled here because the router would otherwise turn
/// the `#main` link into a client-side navigation that leaves focus where it was.
fn skip_to_content(ev: web_sys::MouseEvent) {
    ev.prevent_default();
    let main = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("main"))
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(main) = main {
        let _ = main.focus();
        main.scroll_into_view();
    }
}
