//! Protected pages: shown to the signed-in user, a skeleton while the session is being
//! restored, and a redirect to the sign-in page (with `?next=`) for everyone else.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

use crate::components::skeleton::{SkeletonCard, SkeletonLine};
use crate::pages::login_path;
use crate::state::session::{AuthStatus, use_session};

#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let navigate = use_navigate();
    let status = Memo::new(move |_| session.status());
    Effect::new(move || {
        if status.get() == AuthStatus::SignedOut {
            let search = location.search.get_untracked();
            let here = if search.is_empty() {
                location.pathname.get_untracked()
            } else {
                format!("{}?{search}", location.pathname.get_untracked())
            };
            navigate(
                &login_path(Some(&here)),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    move || match status.get() {
        AuthStatus::SignedIn => children().into_any(),
        _ => view! { <PageSkeleton /> }.into_any(),
    }
}

/// The outline of a page while it cannot be shown yet.
#[component]
pub fn PageSkeleton() -> impl IntoView {
    view! {
        <div class="page" data-testid="page-skeleton" aria-busy="true" aria-label="Loading">
            <div class="page-header">
                <div class="skeleton-title">
                    <SkeletonLine width="12rem" height="1.6rem" />
                    <SkeletonLine width="20rem" height="0.9rem" />
                </div>
            </div>
            <div class="grid grid--2">
                <SkeletonCard lines=4 />
                <SkeletonCard lines=3 />
            </div>
        </div>
    }
}
