//! One team: members and their roles, invitations, leaving and deleting the team.

use hfb_shared::auth::{InvitationInfo, InviteRequest, MemberInfo, Role, TeamDetail};
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::teams;
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, LoadFailed};
use crate::components::dialog::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::form::{FieldErrors, SubmitButton, TextField, focus_first_invalid};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::require_auth::PageSkeleton;
use crate::components::skeleton::SkeletonCard;
use crate::format;
use crate::pages::Page;
use crate::policy::{
    assignable_roles, invitable_roles, manages_members, may_change_member, role_label,
};
use crate::state::session::{Session, use_session};
use crate::state::toast::{Toasts, use_toasts};
use crate::validate::email_problem;

/// What a member row's confirm dialog is about to do.
#[derive(Debug, Clone, PartialEq)]
enum Removal {
    Leave,
    Remove(MemberInfo),
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let toasts = use_toasts();
    let team_id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let detail = LocalResource::new(move || {
        let id = team_id.get();
        async move {
            let result = teams::detail(&id).await;
            if let Err(e) = &result
                && e.code != ErrorCode::NotFound
            {
                toasts.api_error("Could not load the team", e);
            }
            result
        }
    });

    view! {
        {move || match detail.get() {
                None => view! { <PageSkeleton /> }.into_any(),
                Some(result) => match result {
                    Ok(team) => view! { <TeamView team=team on_change=move || detail.refetch() /> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <TeamNotFound /> }.into_any(),
                    Err(e) => {
                        view! {
                            <div class="page" data-testid="page-team">
                                <LoadFailed title="Team" error=e retry=move |()| detail.refetch() />
                            </div>
                        }
                            .into_any()
                    }
                }
            }}
    }
}

#[component]
fn TeamNotFound() -> impl IntoView {
    view! {
        <div class="page page--narrow" data-testid="team-not-found">
            <EmptyState
                icon=IconKind::Users
                title="No such team"
                message="This team does not exist, or you are not a member of it."
            >
                <A href=Page::Teams.path() attr:class="button button--primary">
                    "Your teams"
                </A>
            </EmptyState>
        </div>
    }
}

#[component]
fn TeamView(
    team: TeamDetail,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let summary = team.team.clone();
    let my_role = summary.role;
    let admin = manages_members(my_role) && !summary.personal;
    let subtitle = format!(
        "{} · you are {} · {} member{}",
        summary.slug,
        role_label(my_role).to_lowercase(),
        team.members.len(),
        if team.members.len() == 1 { "" } else { "s" }
    );
    let is_current = {
        let id = summary.id.clone();
        move || session.with_user(|u| u.is_some_and(|u| u.current_team_id == id))
    };
    let back = move || {
        view! {
            <A href=Page::Teams.path() attr:class="button button--small">
                "All teams"
            </A>
        }
    };

    view! {
        <div class="page" data-testid="page-team">
            <PageHeader title=summary.name.clone() subtitle=subtitle actions=back />
            <div class="badge-row">
                {summary
                    .personal
                    .then(|| view! { <StatusBadge tone=Tone::Neutral label="personal".to_owned() /> })}
                {move || {
                    is_current()
                        .then(|| {
                            view! {
                                <StatusBadge tone=Tone::Ok label="current team".to_owned() testid="team-is-current" />
                            }
                        })
                }}
            </div>
            <div class="stack">
                <MembersCard team=team.clone() on_change=on_change />
                {summary
                    .personal
                    .then(|| {
                        view! {
                            <p class="note" data-testid="personal-team-note">
                                <Icon kind=IconKind::Info />
                                "A personal team is yours alone. Create a team to work with others."
                            </p>
                        }
                    })}
                {admin
                    .then(|| {
                        let sent = RwSignal::new(0u32);
                        view! {
                            <div class="grid grid--2">
                                <InviteCard team_id=summary.id.clone() my_role=my_role sent=sent />
                                <TeamInvitations team_id=summary.id.clone() sent=sent />
                            </div>
                        }
                    })}
                {(my_role == Role::Owner && !summary.personal)
                    .then(|| view! { <DeleteTeamCard team=team.clone() /> })}
            </div>
        </div>
    }
}

#[component]
fn MembersCard(
    team: TeamDetail,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let team_id = team.team.id.clone();
    let personal = team.team.personal;
    let my_role = team.team.role;
    let my_id = session.with_user(|u| u.map(|u| u.id.clone()).unwrap_or_default());
    let pending = RwSignal::new(None::<Removal>);
    let busy = RwSignal::new(false);
    let count = team.members.len();

    let confirm = {
        let team_id = team_id.clone();
        let my_id = my_id.clone();
        move |()| {
            let Some(removal) = pending.get_untracked() else {
                return;
            };
            let team_id = team_id.clone();
            let my_id = my_id.clone();
            let navigate = navigate.clone();
            busy.set(true);
            spawn_local(async move {
                let user_id = match &removal {
                    Removal::Leave => my_id.clone(),
                    Removal::Remove(m) => m.user_id.clone(),
                };
                match teams::remove_member(&team_id, &user_id).await {
                    Ok(()) => {
                        pending.set(None);
                        match removal {
                            Removal::Leave => {
                                toasts.success("You left the team");
                                after_losing_team(session, toasts, &team_id).await;
                                navigate(Page::Teams.path(), Default::default());
                            }
                            Removal::Remove(m) => {
                                toasts.success(&format!("Removed {}", m.display_name));
                                on_change();
                            }
                        }
                    }
                    Err(e) => toasts.api_error("Could not remove the member", &e),
                }
                busy.set(false);
            });
        }
    };

    let owners = team
        .members
        .iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    let mut members = team.members.clone();
    members.sort_by(|a, b| {
        b.role
            .cmp(&a.role)
            .then_with(|| a.display_name.cmp(&b.display_name))
    });

    view! {
        <Card title=format!("Members ({count})") icon=IconKind::Users testid="members-card".to_owned()>
            <table class="table table--stack" data-testid="members-table">
                <thead>
                    <tr>
                        <th scope="col">"Member"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Joined"</th>
                        <th scope="col" class="actions">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {members
                        .into_iter()
                        .map(|member| {
                            let me = member.user_id == my_id;
                            // A team keeps at least one owner: the last one can neither
                            // leave nor step down (the server refuses with 409).
                            let last_owner = member.role == Role::Owner && owners == 1;
                            view! {
                                <MemberRow
                                    member=member
                                    me=me
                                    last_owner=last_owner
                                    my_role=my_role
                                    personal=personal
                                    team_id=team_id.clone()
                                    pending=pending
                                    on_change=on_change
                                />
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <ConfirmDialog
                open=Signal::derive(move || pending.with(Option::is_some))
                on_close=move |()| pending.set(None)
                on_confirm=confirm
                title=Signal::derive(move || match pending.get() {
                    Some(Removal::Leave) => "Leave this team?".to_owned(),
                    _ => "Remove this member?".to_owned(),
                })
                message=Signal::derive(move || match pending.get() {
                    Some(Removal::Leave) => {
                        "You lose access to the team's deployments, and your API keys for it stop working. Someone has to invite you again to come back."
                            .to_owned()
                    }
                    Some(Removal::Remove(m)) => {
                        format!(
                            "{} ({}) loses access at once, and their API keys for this team stop working.",
                            m.display_name,
                            m.email,
                        )
                    }
                    None => String::new(),
                })
                confirm_label="Confirm"
                id="confirm-remove-member"
                busy=busy
            />
        </Card>
    }
}

/// After leaving (or deleting) a team: the profile changes, and if the session acted for
/// that team it moves to the personal team.
async fn after_losing_team(session: Session, toasts: Toasts, team_id: &str) {
    let was_current = session.with_user(|u| u.is_some_and(|u| u.current_team_id == team_id));
    let personal = session
        .with_user(|u| u.and_then(|u| u.teams.iter().find(|t| t.personal).map(|t| t.id.clone())));
    let result = match (was_current, personal) {
        (true, Some(personal)) => session.switch_team(personal).await,
        _ => session.reload_profile().await,
    };
    if let Err(e) = result {
        toasts.api_error("Could not refresh your teams", &e);
    }
}

#[component]
fn MemberRow(
    member: MemberInfo,
    me: bool,
    last_owner: bool,
    my_role: Role,
    personal: bool,
    team_id: String,
    pending: RwSignal<Option<Removal>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let changing = RwSignal::new(false);
    let roles = if personal || last_owner {
        Vec::new()
    } else {
        assignable_roles(my_role, member.role)
    };
    let can_change_role = roles.len() > 1;
    let can_remove = !personal && !me && may_change_member(my_role, member.role, None);
    let can_leave = !personal && me && !last_owner;
    let user_id = member.user_id.clone();
    let name = member.display_name.clone();
    let current_role = member.role;

    let change_role = move |ev: leptos::ev::Event| {
        let Some(role) = Role::ALL
            .into_iter()
            .find(|r| r.as_str() == event_target_value(&ev))
        else {
            return;
        };
        if role == current_role {
            return;
        }
        let team_id = team_id.clone();
        let user_id = user_id.clone();
        let name = name.clone();
        changing.set(true);
        spawn_local(async move {
            match teams::change_role(&team_id, &user_id, role).await {
                Ok(()) => {
                    toasts.success(&format!(
                        "{name} is now {}",
                        role_label(role).to_lowercase()
                    ));
                    if me && let Err(e) = session.reload_profile().await {
                        toasts.api_error("Could not refresh your teams", &e);
                    }
                }
                Err(e) => toasts.api_error("Could not change the role", &e),
            }
            changing.set(false);
            // Reload either way: on failure this puts the select back.
            on_change();
        });
    };
    let select_id = format!("role-{}", member.user_id);
    let removal_member = member.clone();

    view! {
        <tr data-testid="member-row" data-member-email=member.email.clone()>
            <td class="cell-lead">
                <span class="member">
                    <span class="avatar avatar--small" aria-hidden="true">
                        {format::initials(&member.display_name)}
                    </span>
                    <span class="member-text">
                        <span class="cell-main">
                            {member.display_name.clone()}
                            {me.then(|| view! { <span class="muted">" (you)"</span> })}
                        </span>
                        <span class="muted small">{member.email.clone()}</span>
                    </span>
                </span>
            </td>
            <td data-label="Role">
                {if can_change_role {
                    view! {
                        <label class="visually-hidden" for=select_id.clone()>
                            {format!("Role of {}", member.display_name)}
                        </label>
                        <select
                            class="select select--compact"
                            id=select_id.clone()
                            data-testid="member-role"
                            disabled=move || changing.get()
                            on:change=change_role
                        >
                            {roles
                                .iter()
                                .map(|role| {
                                    view! {
                                        <option value=role.as_str() selected=*role == current_role>
                                            {role_label(*role)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    }
                        .into_any()
                } else {
                    view! {
                        <span
                            class="chip"
                            data-testid="member-role-text"
                            title=last_owner.then_some("A team needs at least one owner")
                        >
                            {role_label(member.role)}
                        </span>
                    }
                        .into_any()
                }}
            </td>
            <td data-label="Joined" title=format::date_time(&member.joined_at)>
                {format::date(&member.joined_at)}
            </td>
            <td class="actions">
                {can_leave
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button button--small button--danger-quiet"
                                data-testid="leave-team"
                                on:click=move |_| pending.set(Some(Removal::Leave))
                            >
                                "Leave"
                            </button>
                        }
                    })}
                {can_remove
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="button button--small button--danger-quiet"
                                data-testid="remove-member"
                                on:click=move |_| pending.set(Some(Removal::Remove(removal_member.clone())))
                            >
                                "Remove"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

#[component]
fn InviteCard(
    team_id: String,
    my_role: Role,
    /// Bumped after each invitation, so the list loads again.
    sent: RwSignal<u32>,
) -> impl IntoView {
    const FORM: &str = "invite";
    let toasts = use_toasts();
    let email = RwSignal::new(String::new());
    let roles = invitable_roles(my_role);
    let role = RwSignal::new(Role::Member);
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let address = email.get_untracked().trim().to_owned();
        if errors.check("email", email_problem(&address)) {
            focus_first_invalid(FORM);
            return;
        }
        let team_id = team_id.clone();
        let request = InviteRequest {
            email: address,
            role: role.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            match teams::invite(&team_id, &request).await {
                Ok(inv) => {
                    toasts.success(&format!(
                        "Invited {} as {}",
                        inv.email,
                        role_label(inv.role).to_lowercase()
                    ));
                    email.set(String::new());
                    sent.update(|n| *n += 1);
                }
                Err(e) => report_invite_error(errors, toasts, &e),
            }
            busy.set(false);
        });
    };

    view! {
        <Card title="Invite someone" icon=IconKind::Mail testid="invite-card".to_owned()>
            <p class="card-lead">
                "They join after signing in with this address and accepting on their Teams page."
            </p>
            <form id=FORM class="form" novalidate on:submit=submit>
                <TextField
                    form=FORM
                    name="email"
                    label="E-mail"
                    kind="email"
                    autocomplete="off"
                    placeholder="name@example.com"
                    value=email
                    errors=errors
                    required=true
                />
                <div class="form-field">
                    <label class="form-label" for="invite-role">
                        "Role"
                    </label>
                    <select
                        class="select"
                        id="invite-role"
                        data-testid="invite-role"
                        on:change=move |ev| {
                            if let Some(r) = Role::ALL
                                .into_iter()
                                .find(|r| r.as_str() == event_target_value(&ev))
                            {
                                role.set(r);
                            }
                        }
                    >
                        {roles
                            .iter()
                            .map(|r| {
                                let r = *r;
                                view! {
                                    <option value=r.as_str() selected=move || role.get() == r>
                                        {role_label(r)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="form-actions">
                    <SubmitButton label="Send invitation" busy=busy testid="invite-submit" />
                </div>
            </form>
        </Card>
    }
}

fn report_invite_error(errors: FieldErrors, toasts: Toasts, e: &ErrorDetail) {
    if e.code == ErrorCode::Conflict {
        errors.set("email", crate::components::form::sentence(&e.message));
    } else {
        errors.report(
            toasts,
            "Could not send the invitation",
            e,
            &[("email", "email")],
        );
    }
}

#[component]
fn TeamInvitations(team_id: String, sent: RwSignal<u32>) -> impl IntoView {
    let toasts = use_toasts();
    let id = team_id.clone();
    let list = LocalResource::new(move || {
        sent.track();
        let id = id.clone();
        async move {
            let result = teams::invitations(&id).await;
            if let Err(e) = &result {
                toasts.api_error("Could not load the invitations", e);
            }
            result
        }
    });
    let to_revoke = RwSignal::new(None::<InvitationInfo>);
    let busy = RwSignal::new(false);
    let revoke = {
        let team_id = team_id.clone();
        move |()| {
            let Some(inv) = to_revoke.get_untracked() else {
                return;
            };
            let team_id = team_id.clone();
            busy.set(true);
            spawn_local(async move {
                match teams::revoke_invitation(&team_id, &inv.id).await {
                    Ok(()) => {
                        toasts.success(&format!("Withdrew the invitation for {}", inv.email));
                        to_revoke.set(None);
                        list.refetch();
                    }
                    Err(e) => toasts.api_error("Could not withdraw the invitation", &e),
                }
                busy.set(false);
            });
        }
    };

    view! {
        <Card title="Pending invitations" icon=IconKind::Mail testid="team-invitations".to_owned()>
            {move || match list.get() {
                    None => view! { <p class="muted small">"Loading…"</p> }.into_any(),
                    Some(result) => match result {
                        Ok(items) => {
                            let pending: Vec<InvitationInfo> = items
                                .into_iter()
                                .filter(|i| i.status == "pending")
                                .collect();
                            if pending.is_empty() {
                                view! {
                                    <p class="muted small" data-testid="no-team-invitations">
                                        "No pending invitations."
                                    </p>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <ul class="list">
                                        {pending
                                            .into_iter()
                                            .map(|inv| {
                                                let target = inv.clone();
                                                view! {
                                                    <li class="list-row" data-testid="team-invitation">
                                                        <div class="list-main">
                                                            <span class="list-title">{inv.email.clone()}</span>
                                                            <span class="list-meta">
                                                                {format!(
                                                                    "{} · sent {} · expires {}",
                                                                    role_label(inv.role),
                                                                    format::relative(&inv.created_at),
                                                                    format::relative(&inv.expires_at),
                                                                )}
                                                            </span>
                                                        </div>
                                                        <div class="list-actions">
                                                            <button
                                                                type="button"
                                                                class="button button--small button--danger-quiet"
                                                                data-testid="revoke-invitation"
                                                                on:click=move |_| to_revoke.set(Some(target.clone()))
                                                            >
                                                                "Withdraw"
                                                            </button>
                                                        </div>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        }
                        Err(_) => view! { <SkeletonCard lines=1 /> }.into_any(),
                    }
                }}
            <ConfirmDialog
                open=Signal::derive(move || to_revoke.with(Option::is_some))
                on_close=move |()| to_revoke.set(None)
                on_confirm=revoke
                title="Withdraw this invitation?"
                message=Signal::derive(move || {
                    to_revoke
                        .with(|i| {
                            i.as_ref()
                                .map(|i| format!("{} can no longer use it to join.", i.email))
                                .unwrap_or_default()
                        })
                })
                confirm_label="Withdraw"
                id="confirm-revoke-invitation"
                busy=busy
            />
        </Card>
    }
}

#[component]
fn DeleteTeamCard(team: TeamDetail) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let name = team.team.name.clone();
    let team_id = team.team.id.clone();
    let delete = move |()| {
        let team_id = team_id.clone();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            match teams::delete(&team_id).await {
                Ok(()) => {
                    confirming.set(false);
                    toasts.success("Team deleted");
                    after_losing_team(session, toasts, &team_id).await;
                    navigate(Page::Teams.path(), Default::default());
                }
                Err(e) => {
                    busy.set(false);
                    toasts.api_error("Could not delete the team", &e);
                }
            }
        });
    };
    let typed_name = Signal::stored(name.clone());
    view! {
        <Card title="Delete team" icon=IconKind::Trash class="card--danger" testid="delete-team-card".to_owned()>
            <p class="card-lead">
                "Deletes the team for everyone: its members lose access and its API keys stop working."
            </p>
            <div>
                <button
                    type="button"
                    class="button button--danger"
                    data-testid="delete-team"
                    on:click=move |_| confirming.set(true)
                >
                    "Delete team…"
                </button>
            </div>
            <ConfirmDialog
                open=confirming
                on_close=move |()| confirming.set(false)
                on_confirm=delete
                title="Delete this team?"
                message=format!("“{name}” and everything in it will be deleted. This cannot be undone.")
                confirm_label="Delete team"
                id="confirm-delete-team"
                busy=busy
                confirm_text=typed_name
            />
        </Card>
    }
}
