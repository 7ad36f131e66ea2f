//! The application shell: context providers, layout and the route table.

use leptos::prelude::*;
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};
use wasm_bindgen::JsCast;

use crate::api::ws::provide_live_connection;
use crate::components::{nav::SideNav, toast::ToastRegion, top_bar::TopBar};
use crate::pages::{
    Page, catalog::Catalog, dashboard::Dashboard, deployments::Deployments, not_found::NotFound,
    overview::Overview, playground::Playground, settings::Settings,
};
use crate::state::{theme::provide_theme, toast::provide_toasts};

#[component]
pub fn App() -> impl IntoView {
    provide_toasts();
    provide_theme();
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
                        <Route path=StaticSegment(Page::Overview.segment()) view=Overview />
                        <Route path=StaticSegment(Page::Catalog.segment()) view=Catalog />
                        <Route path=StaticSegment(Page::Deployments.segment()) view=Deployments />
                        <Route path=StaticSegment(Page::Playground.segment()) view=Playground />
                        <Route path=StaticSegment(Page::Dashboard.segment()) view=Dashboard />
                        <Route path=StaticSegment(Page::Settings.segment()) view=Settings />
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
