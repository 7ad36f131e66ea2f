//! The top bar's account corner: the signed-in user's menu and team switcher, or the
//! sign-in and sign-up buttons.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::components::icon::{Icon, IconKind};
use crate::components::skeleton::SkeletonLine;
use crate::format;
use crate::pages::{Page, login_path, signup_path};
use crate::state::session::{AuthStatus, Session, use_session};
use crate::state::toast::use_toasts;

#[component]
pub fn AccountCorner() -> impl IntoView {
    let session = use_session();
    let status = Memo::new(move |_| session.status());
    move || match status.get() {
        AuthStatus::Restoring => view! {
            <span class="account-loading" role="status">
                <span class="visually-hidden">"Restoring your session…"</span>
                <SkeletonLine width="7rem" height="1.9rem" />
            </span>
        }
        .into_any(),
        AuthStatus::SignedOut => view! { <AuthButtons /> }.into_any(),
        AuthStatus::SignedIn => view! {
            <TeamSwitcher class="team-switcher--bar" />
            <UserMenu />
        }
        .into_any(),
    }
}

/// Sign in / Sign up, coming back to the page shown now.
#[component]
fn AuthButtons() -> impl IntoView {
    let location = use_location();
    let next = move || {
        let path = location.pathname.get();
        let on_auth_page = path == Page::Login.path() || path == Page::Signup.path();
        (!on_auth_page).then_some(path)
    };
    view! {
        <A
            href=move || login_path(next().as_deref())
            attr:class="button button--small"
            attr:data-testid="sign-in-link"
        >
            "Sign in"
        </A>
        <A
            href=move || signup_path(next().as_deref())
            attr:class="button button--small button--primary top-bar-signup"
            attr:data-testid="sign-up-link"
        >
            "Sign up"
        </A>
    }
}

/// Chooses the team the session acts for; shown when the user has several.
#[component]
pub fn TeamSwitcher(#[prop(optional)] class: &'static str) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let switching = RwSignal::new(false);
    let teams = move || session.with_user(|u| u.map(|u| u.teams.clone()).unwrap_or_default());
    let current = move || session.with_user(|u| u.map(|u| u.current_team_id.clone()));
    let on_change = move |ev: leptos::ev::Event| {
        let team_id = event_target_value(&ev);
        if Some(&team_id) == current().as_ref() {
            return;
        }
        let name = teams()
            .into_iter()
            .find(|t| t.id == team_id)
            .map(|t| t.name)
            .unwrap_or_default();
        switching.set(true);
        spawn_local(async move {
            match session.switch_team(team_id).await {
                Ok(()) => toasts.success(&format!("Now working in {name}")),
                Err(e) => toasts.api_error("Could not switch teams", &e),
            }
            switching.set(false);
        });
    };
    view! {
        <Show when=move || { teams().len() > 1 }>
            <label class=format!("team-switcher {class}")>
                <span class="visually-hidden">"Team"</span>
                <Icon kind=IconKind::Users class="team-switcher-icon" />
                <select
                    class="select select--compact"
                    data-testid="team-switcher"
                    title="The team you are working in"
                    disabled=move || switching.get()
                    on:change=on_change
                >
                    {move || {
                        let selected = current();
                        teams()
                            .into_iter()
                            .map(|team| {
                                let is_selected = selected.as_deref() == Some(team.id.as_str());
                                view! {
                                    <option value=team.id.clone() selected=is_selected>
                                        {team.name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </label>
        </Show>
    }
}

#[component]
fn UserMenu() -> impl IntoView {
    let session = use_session();
    let open = RwSignal::new(false);
    let button = NodeRef::<leptos::html::Button>::new();
    let name = move || session.with_user(|u| u.map(|u| u.display_name.clone()).unwrap_or_default());
    let email = move || session.with_user(|u| u.map(|u| u.email.clone()).unwrap_or_default());
    let team = move || session.current_team().map(|t| t.name).unwrap_or_default();

    view! {
        <div
            class="user-menu"
            on:keydown=move |ev: web_sys::KeyboardEvent| {
                if ev.key() == "Escape" && open.get_untracked() {
                    open.set(false);
                    if let Some(button) = button.get() {
                        let _ = button.focus();
                    }
                }
            }
        >
            // A disclosure (button + panel of links), not an ARIA menu: Tab moves through it.
            <button
                type="button"
                class="user-menu-button"
                node_ref=button
                aria-label=move || format!("Account menu for {}", name())
                aria-expanded=move || open.get().to_string()
                aria-controls="user-menu"
                data-testid="user-menu"
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span class="avatar" aria-hidden="true">
                    {move || format::initials(&name())}
                </span>
                <span class="user-menu-name" data-testid="user-name">
                    {name}
                </span>
                <Icon kind=IconKind::ChevronDown class="user-menu-chevron" />
            </button>
            <Show when=move || open.get()>
                <div class="menu-backdrop" on:click=move |_| open.set(false)></div>
                <div class="menu" id="user-menu" on:click=move |_| open.set(false)>
                    <div class="menu-header">
                        <span class="menu-name">{name}</span>
                        <span class="menu-email">{email}</span>
                        <span class="menu-team">
                            <Icon kind=IconKind::Users />
                            {team}
                        </span>
                    </div>
                    <div class="menu-switcher" on:click=|ev| ev.stop_propagation()>
                        <TeamSwitcher class="team-switcher--menu" />
                    </div>
                    {[Page::Account, Page::ApiKeys, Page::Teams]
                        .into_iter()
                        .map(|page| {
                            view! {
                                <A
                                    href=page.path()
                                    attr:class="menu-item"
                                    attr:data-testid=format!("menu-{}", page.key())
                                >
                                    <Icon kind=page.icon() />
                                    {page.title()}
                                </A>
                            }
                        })
                        .collect_view()}
                    <SignOutItem session=session />
                </div>
            </Show>
        </div>
    }
}

#[component]
fn SignOutItem(session: Session) -> impl IntoView {
    let toasts = use_toasts();
    let sign_out = move |_| {
        spawn_local(async move {
            match session.sign_out().await {
                Ok(()) => toasts.success("Signed out"),
                Err(e) => toasts.api_error("Signed out here, but the server was not told", &e),
            }
        });
    };
    view! {
        <button
            type="button"
            class="menu-item menu-item--separated"
            data-testid="sign-out"
            on:click=sign_out
        >
            <Icon kind=IconKind::Logout />
            "Sign out"
        </button>
    }
}
