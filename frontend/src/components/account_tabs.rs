//! The tabs across the top of the account area: profile, sessions, API keys.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::icon::Icon;
use crate::pages::Page;

#[component]
pub fn AccountTabs() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Account">
            {Page::ACCOUNT_TABS
                .into_iter()
                .map(|page| {
                    view! {
                        <A
                            href=page.path()
                            exact=true
                            attr:class="tab"
                            attr:data-testid=format!("tab-{}", page.key())
                        >
                            <Icon kind=page.icon() />
                            <span>{if page == Page::Account { "Profile" } else { page.title() }}</span>
                        </A>
                    }
                })
                .collect_view()}
        </nav>
    }
}
