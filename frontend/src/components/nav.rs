//! Primary navigation: a sidebar on wide screens, a drawer under the top bar on narrow ones.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::icon::Icon;
use crate::pages::Page;
use crate::state::session::use_session;

#[component]
pub fn SideNav(open: RwSignal<bool>) -> impl IntoView {
    let session = use_session();
    view! {
        <div
            class="nav-backdrop"
            class:nav-backdrop--open=move || open.get()
            on:click=move |_| open.set(false)
        ></div>
        <nav
            id="site-nav"
            class="side-nav"
            class:side-nav--open=move || open.get()
            aria-label="Main"
            data-testid="nav"
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" {
                    open.set(false);
                }
            }
        >
            // Following any link closes the drawer, also the link to the page already shown.
            <ul class="nav-list" on:click=move |_| open.set(false)>
                {Page::ALL
                    .into_iter()
                    .map(|page| {
                        view! {
                            <li>
                                <A
                                    href=page.path()
                                    exact=true
                                    attr:class="nav-link"
                                    attr:data-testid=format!("nav-{}", page.key())
                                >
                                    <Icon kind=page.icon() />
                                    <span>{page.title()}</span>
                                </A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <Show when=move || session.is_signed_in()>
                <p class="nav-heading" id="nav-account-heading">
                    "Your account"
                </p>
                <ul
                    class="nav-list"
                    aria-labelledby="nav-account-heading"
                    on:click=move |_| open.set(false)
                >
                    {Page::ACCOUNT
                        .into_iter()
                        .map(|page| {
                            view! {
                                <li>
                                    // Teams also covers /teams/{id}; the account tabs show sessions.
                                    <A
                                        href=page.path()
                                        exact=page != Page::Teams
                                        attr:class="nav-link"
                                        attr:data-testid=format!("nav-{}", page.key())
                                    >
                                        <Icon kind=page.icon() />
                                        <span>{page.title()}</span>
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </Show>
            <div class="nav-footer">
                <a class="nav-footer-link" href="/api/docs" target="_blank" rel="noopener">
                    "API reference"
                </a>
            </div>
        </nav>
    }
}
