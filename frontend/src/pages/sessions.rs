//! Sessions: the devices signed in to this account; sign out one, or all but this one.

use hfb_shared::auth::SessionInfo;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{ApiResult, account};
use crate::components::account_tabs::AccountTabs;
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, LoadFailed};
use crate::components::dialog::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::form::Spinner;
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::skeleton::SkeletonCard;
use crate::format;
use crate::pages::Page;
use crate::state::toast::use_toasts;

#[component]
pub fn Sessions() -> impl IntoView {
    let toasts = use_toasts();
    let sessions = LocalResource::new(move || async move {
        let result = account::sessions().await.map(sorted);
        if let Err(e) = &result {
            toasts.api_error("Could not load your sessions", e);
        }
        result
    });
    let others = Signal::derive(move || {
        sessions
            .get()
            .and_then(|r| r.ok())
            .map(|list| list.iter().filter(|s| !s.current && !s.revoked).count())
            .unwrap_or(0)
    });
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let sign_out_others = move |()| {
        busy.set(true);
        spawn_local(async move {
            match account::revoke_other_sessions().await {
                Ok(done) => toasts.success(&match done.revoked {
                    1 => "Signed out 1 other session".to_owned(),
                    n => format!("Signed out {n} other sessions"),
                }),
                Err(e) => toasts.api_error("Could not sign out the other sessions", &e),
            }
            busy.set(false);
            confirming.set(false);
            sessions.refetch();
        });
    };

    let actions = move || {
        view! {
            <button
                type="button"
                class="button"
                data-testid="revoke-other-sessions"
                disabled=move || others.get() == 0
                on:click=move |_| confirming.set(true)
            >
                <Icon kind=IconKind::Logout class="button-icon" />
                "Sign out everywhere else"
            </button>
        }
    };

    view! {
        <div class="page" data-testid="page-sessions">
            <PageHeader
                title=Page::Sessions.title()
                subtitle="Where your account is signed in. Sign out anything you do not recognise."
                actions=actions
            />
            <AccountTabs />
            {move || match sessions.get() {
                    None => view! { <SkeletonCard lines=4 /> }.into_any(),
                    Some(result) => match result {
                        Ok(list) => view! { <SessionList list=list on_change=move || sessions.refetch() /> }.into_any(),
                        Err(e) => {
                            view! { <LoadFailed title="Sessions" error=e retry=move |()| sessions.refetch() /> }
                                .into_any()
                        }
                    }
                }}
            <ConfirmDialog
                open=confirming
                on_close=move |()| confirming.set(false)
                on_confirm=sign_out_others
                title="Sign out everywhere else?"
                message=Signal::derive(move || {
                    match others.get() {
                        1 => "The other device is signed out at once. This one stays signed in.".to_owned(),
                        n => format!("All {n} other sessions are signed out at once. This one stays signed in."),
                    }
                })
                confirm_label="Sign out others"
                id="confirm-revoke-sessions"
                busy=busy
            />
        </div>
    }
}

/// This device first, then the most recently used.
fn sorted(mut list: Vec<SessionInfo>) -> Vec<SessionInfo> {
    list.sort_by(|a, b| {
        b.current
            .cmp(&a.current)
            .then_with(|| b.last_used_at.cmp(&a.last_used_at))
    });
    list
}

#[component]
fn SessionList(
    list: Vec<SessionInfo>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let count = list.len();
    let only_this = list.iter().all(|s| s.current || s.revoked);
    view! {
        <Card
            title=format!("Signed-in devices ({count})")
            icon=IconKind::Monitor
            testid="sessions-card".to_owned()
        >
            <table class="table table--stack" data-testid="sessions-table">
                <thead>
                    <tr>
                        <th scope="col">"Device"</th>
                        <th scope="col">"IP address"</th>
                        <th scope="col">"Signed in"</th>
                        <th scope="col">"Last active"</th>
                        <th scope="col" class="actions">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|session| view! { <SessionRow session=session on_change=on_change /> })
                        .collect_view()}
                </tbody>
            </table>
            {only_this
                .then(|| {
                    view! {
                        <EmptyState
                            icon=IconKind::Shield
                            title="No other sessions"
                            message="You are signed in on this device only. Sessions on other devices and browsers appear here."
                        />
                    }
                })}
        </Card>
    }
}

#[component]
fn SessionRow(
    session: SessionInfo,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toasts = use_toasts();
    let busy = RwSignal::new(false);
    let id = session.id.clone();
    let user_agent = session.user_agent.clone().unwrap_or_default();
    let revoke = move |_| {
        let id = id.clone();
        busy.set(true);
        spawn_local(async move {
            let result: ApiResult<()> = account::revoke_session(&id).await;
            match result {
                Ok(()) => {
                    toasts.success("Session signed out");
                    on_change();
                }
                Err(e) => {
                    busy.set(false);
                    toasts.api_error("Could not sign out that session", &e);
                }
            }
        });
    };
    view! {
        <tr class:row--current=session.current data-testid="session-row">
            <td class="cell-lead">
                <span class="cell-main" title=user_agent.clone()>
                    {format::device(&user_agent)}
                </span>
                {session
                    .current
                    .then(|| {
                        view! {
                            <StatusBadge tone=Tone::Ok label="this device".to_owned() testid="session-current" />
                        }
                    })}
                {session
                    .revoked
                    .then(|| view! { <StatusBadge tone=Tone::Down label="signed out".to_owned() /> })}
            </td>
            <td data-label="IP address">
                <span class="mono">{session.ip.clone().unwrap_or_else(|| "—".to_owned())}</span>
            </td>
            <td data-label="Signed in" title=format::date_time(&session.created_at)>
                {format::relative(&session.created_at)}
            </td>
            <td data-label="Last active" title=format::date_time(&session.last_used_at)>
                {if session.current { "now".to_owned() } else { format::relative(&session.last_used_at) }}
            </td>
            <td class="actions">
                {(!session.current && !session.revoked)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button button--small"
                                data-testid="revoke-session"
                                disabled=move || busy.get()
                                on:click=revoke.clone()
                            >
                                {move || busy.get().then(|| view! { <Spinner /> })}
                                "Sign out"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}
