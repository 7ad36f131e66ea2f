//! Teams: the teams I am in, creating one, and invitations waiting for me.

use hfb_shared::auth::{InvitationInfo, TeamSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api::{account, teams};
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, LoadFailed};
use crate::components::form::{FieldErrors, Spinner, SubmitButton, TextField, focus_first_invalid};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::skeleton::SkeletonCard;
use crate::format;
use crate::pages::{Page, team_path};
use crate::policy::role_label;
use crate::state::session::use_session;
use crate::state::toast::use_toasts;
use crate::validate::{TEAM_NAME_MAX, name_problem};

#[component]
pub fn Teams() -> impl IntoView {
    let toasts = use_toasts();
    let list = LocalResource::new(move || async move {
        let result = teams::list().await;
        if let Err(e) = &result {
            toasts.api_error("Could not load your teams", e);
        }
        result
    });
    let invitations = LocalResource::new(move || async move {
        let result = account::invitations().await;
        if let Err(e) = &result {
            toasts.api_error("Could not load your invitations", e);
        }
        result
    });

    view! {
        <div class="page" data-testid="page-teams">
            <PageHeader
                title=Page::Teams.title()
                subtitle="Teams share deployments, usage and API keys. Switch the team you work in from the top bar."
            />
            <div class="grid grid--teams">
                <div class="stack">
                    {move || match list.get() {
                            None => view! { <SkeletonCard lines=3 /> }.into_any(),
                            Some(result) => match result {
                                Ok(items) => view! { <TeamList items=items /> }.into_any(),
                                Err(e) => {
                                    view! { <LoadFailed title="Your teams" error=e retry=move |()| list.refetch() /> }
                                        .into_any()
                                }
                            }
                        }}
                    {move || match invitations.get() {
                            None => view! { <SkeletonCard lines=2 /> }.into_any(),
                            Some(result) => match result {
                                Ok(items) => {
                                    view! {
                                        <MyInvitations
                                            items=items
                                            on_accepted=move || {
                                                invitations.refetch();
                                                list.refetch();
                                            }
                                        />
                                    }
                                        .into_any()
                                }
                                Err(e) => {
                                    view! {
                                        <LoadFailed
                                            title="Invitations for you"
                                            error=e
                                            retry=move |()| invitations.refetch()
                                        />
                                    }
                                        .into_any()
                                }
                            }
                        }}
                </div>
                <CreateTeamCard />
            </div>
        </div>
    }
}

#[component]
fn TeamList(items: Vec<TeamSummary>) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let switching = RwSignal::new(None::<String>);
    let mut items = items;
    // The personal team first, then by name.
    items.sort_by(|a, b| {
        b.personal
            .cmp(&a.personal)
            .then_with(|| a.name.cmp(&b.name))
    });
    let count = items.len();
    view! {
        <Card title=format!("Your teams ({count})") icon=IconKind::Users testid="teams-card".to_owned()>
            <ul class="list" data-testid="teams-list">
                {items
                    .into_iter()
                    .map(|team| {
                        let id = team.id.clone();
                        let is_current = {
                            let id = id.clone();
                            move || session.with_user(|u| u.is_some_and(|u| u.current_team_id == id))
                        };
                        let switch = {
                            let id = id.clone();
                            let name = team.name.clone();
                            move |_| {
                                let id = id.clone();
                                let name = name.clone();
                                switching.set(Some(id.clone()));
                                spawn_local(async move {
                                    match session.switch_team(id).await {
                                        Ok(()) => toasts.success(&format!("Now working in {name}")),
                                        Err(e) => toasts.api_error("Could not switch teams", &e),
                                    }
                                    switching.set(None);
                                });
                            }
                        };
                        let busy = {
                            let id = id.clone();
                            move || switching.with(|s| s.as_deref() == Some(id.as_str()))
                        };
                        view! {
                            <li class="list-row" data-testid="team-row">
                                <div class="list-main">
                                    <A href=team_path(&team.id) attr:class="list-title" attr:data-testid="team-link">
                                        {team.name.clone()}
                                    </A>
                                    <span class="list-meta mono">{team.slug.clone()}</span>
                                </div>
                                <div class="list-badges">
                                    {team
                                        .personal
                                        .then(|| view! { <StatusBadge tone=Tone::Neutral label="personal".to_owned() /> })}
                                    <span class="chip">{role_label(team.role)}</span>
                                </div>
                                <div class="list-actions">
                                    {
                                        let is_current = is_current.clone();
                                        move || {
                                            if is_current() {
                                                view! {
                                                    <StatusBadge tone=Tone::Ok label="current".to_owned() testid="team-current" />
                                                }
                                                    .into_any()
                                            } else {
                                                let busy = busy.clone();
                                                let busy2 = busy.clone();
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="button button--small"
                                                        data-testid="switch-team"
                                                        disabled=move || switching.with(Option::is_some)
                                                        on:click=switch.clone()
                                                    >
                                                        {move || busy().then(|| view! { <Spinner /> })}
                                                        {move || if busy2() { "Switching" } else { "Switch to" }}
                                                    </button>
                                                }
                                                    .into_any()
                                            }
                                        }
                                    }
                                </div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </Card>
    }
}

#[component]
fn MyInvitations(
    items: Vec<InvitationInfo>,
    on_accepted: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let accepting = RwSignal::new(None::<String>);
    let pending: Vec<InvitationInfo> = items
        .into_iter()
        .filter(|i| i.status == "pending")
        .collect();
    view! {
        <Card title="Invitations for you" icon=IconKind::Mail testid="my-invitations".to_owned()>
            {if pending.is_empty() {
                view! {
                    <p class="muted small" data-testid="no-invitations">
                        "No invitations waiting for you. When someone invites your e-mail address to a team, it shows up here."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <ul class="list">
                        {pending
                            .into_iter()
                            .map(|inv| {
                                let id = inv.id.clone();
                                let team_name = inv.team_name.clone();
                                let accept = {
                                    let id = id.clone();
                                    move |_| {
                                        let id = id.clone();
                                        let team_name = team_name.clone();
                                        accepting.set(Some(id.clone()));
                                        spawn_local(async move {
                                            match account::accept_invitation(&id).await {
                                                Ok(team) => {
                                                    toasts.success(&format!("You joined {}", team.name));
                                                    if let Err(e) = session.reload_profile().await {
                                                        toasts.api_error("Could not refresh your teams", &e);
                                                    }
                                                    on_accepted();
                                                }
                                                Err(e) => toasts.api_error(&format!("Could not join {team_name}"), &e),
                                            }
                                            accepting.set(None);
                                        });
                                    }
                                };
                                let busy = move || accepting.with(|a| a.as_deref() == Some(id.as_str()));
                                view! {
                                    <li class="list-row" data-testid="my-invitation">
                                        <div class="list-main">
                                            <span class="list-title">{inv.team_name.clone()}</span>
                                            <span class="list-meta">
                                                {format!(
                                                    "as {} · expires {}",
                                                    role_label(inv.role).to_lowercase(),
                                                    format::relative(&inv.expires_at),
                                                )}
                                            </span>
                                        </div>
                                        <div class="list-actions">
                                            <button
                                                type="button"
                                                class="button button--small button--primary"
                                                data-testid="accept-invitation"
                                                disabled=move || accepting.with(Option::is_some)
                                                on:click=accept
                                            >
                                                {move || busy().then(|| view! { <Spinner /> })}
                                                "Accept"
                                            </button>
                                        </div>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </Card>
    }
}

#[component]
fn CreateTeamCard() -> impl IntoView {
    const FORM: &str = "create-team";
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let team_name = name.get_untracked().trim().to_owned();
        if errors.check("name", name_problem(&team_name, TEAM_NAME_MAX, "team name")) {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            match teams::create(&team_name).await {
                Ok(team) => {
                    toasts.success(&format!("Created {}", team.name));
                    if let Err(e) = session.reload_profile().await {
                        toasts.api_error("Could not refresh your teams", &e);
                    }
                    navigate(&team_path(&team.id), Default::default());
                }
                Err(e) => {
                    errors.report(toasts, "Could not create the team", &e, &[("name", "name")]);
                    busy.set(false);
                }
            }
        });
    };

    view! {
        <Card title="Create a team" icon=IconKind::Plus testid="create-team-card".to_owned()>
            <p class="card-lead">
                "You become its owner and can invite people by e-mail."
            </p>
            <form id=FORM class="form" novalidate on:submit=submit>
                <TextField
                    form=FORM
                    name="name"
                    label="Team name"
                    placeholder="ML platform"
                    autocomplete="off"
                    value=name
                    errors=errors
                    required=true
                />
                <div class="form-actions">
                    <SubmitButton label="Create team" busy=busy testid="create-team-submit" />
                </div>
            </form>
            <EmptyHint />
        </Card>
    }
}

/// A short note on what teams are for, under the create form.
#[component]
fn EmptyHint() -> impl IntoView {
    view! {
        <p class="muted small hint-row">
            <Icon kind=IconKind::Info />
            "Everyone starts with a personal team that only they can use."
        </p>
    }
}
