//! API keys: create one (shown once), see them all, revoke.

use hfb_shared::auth::{ApiKeyInfo, CreateApiKeyRequest, CreatedApiKey, Scope, TeamSummary};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::account;
use crate::components::account_tabs::AccountTabs;
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, LoadFailed};
use crate::components::copy_button::copy_text;
use crate::components::dialog::{ConfirmDialog, Modal};
use crate::components::empty_state::EmptyState;
use crate::components::form::{
    FieldError, FieldErrors, SubmitButton, TextField, focus_first_invalid,
};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::skeleton::SkeletonCard;
use crate::format;
use crate::pages::Page;
use crate::policy::{role_label, role_scopes, scope_description, scope_label, scope_min_role};
use crate::state::session::use_session;
use crate::state::toast::use_toasts;
use crate::validate::{KEY_NAME_MAX, name_problem};

const FORM: &str = "create-key";

/// Expiry choices: days, or `None` for never.
const EXPIRY_CHOICES: [(&str, Option<u32>); 5] = [
    ("Never", None),
    ("7 days", Some(7)),
    ("30 days", Some(30)),
    ("90 days", Some(90)),
    ("1 year", Some(365)),
];

#[component]
pub fn ApiKeys() -> impl IntoView {
    let toasts = use_toasts();
    let keys = LocalResource::new(move || async move {
        let result = account::api_keys().await;
        if let Err(e) = &result {
            toasts.api_error("Could not load your API keys", e);
        }
        result
    });
    // The secret of a key just created; dropped when its dialog closes.
    let created = RwSignal::new(None::<CreatedApiKey>);
    let to_revoke = RwSignal::new(None::<ApiKeyInfo>);
    let revoking = RwSignal::new(false);

    let revoke = move |()| {
        let Some(key) = to_revoke.get_untracked() else {
            return;
        };
        revoking.set(true);
        spawn_local(async move {
            match account::revoke_api_key(&key.id).await {
                Ok(()) => {
                    toasts.success(&format!("Revoked the key “{}”", key.name));
                    to_revoke.set(None);
                    keys.refetch();
                }
                Err(e) => toasts.api_error("Could not revoke the key", &e),
            }
            revoking.set(false);
        });
    };

    view! {
        <div class="page" data-testid="page-api-keys">
            <PageHeader
                title=Page::ApiKeys.title()
                subtitle="Keys let scripts and services call the API as you, within one team and the scopes you choose."
            />
            <AccountTabs />
            <div class="stack">
                <CreateKeyCard on_created=move |new_key| {
                    created.set(Some(new_key));
                    keys.refetch();
                } />
                {move || match keys.get() {
                        None => view! { <SkeletonCard lines=3 /> }.into_any(),
                        Some(result) => match result {
                            Ok(list) => {
                                view! {
                                    <KeyList
                                        list=list
                                        on_revoke=move |key| to_revoke.set(Some(key))
                                    />
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! { <LoadFailed title="Your keys" error=e retry=move |()| keys.refetch() /> }
                                    .into_any()
                            }
                        }
                    }}
            </div>
            <NewKeyDialog created=created />
            <ConfirmDialog
                open=Signal::derive(move || to_revoke.with(Option::is_some))
                on_close=move |()| to_revoke.set(None)
                on_confirm=revoke
                title="Revoke this key?"
                message=Signal::derive(move || {
                    to_revoke
                        .with(|k| {
                            k.as_ref()
                                .map(|k| {
                                    format!(
                                        "“{}” ({}…) stops working at once for everything that uses it. This cannot be undone.",
                                        k.name,
                                        k.prefix,
                                    )
                                })
                                .unwrap_or_default()
                        })
                })
                confirm_label="Revoke key"
                id="confirm-revoke-key"
                busy=revoking
            />
        </div>
    }
}

#[component]
fn CreateKeyCard(
    on_created: impl Fn(CreatedApiKey) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let team_id = RwSignal::new(
        session.with_user(|u| u.map(|u| u.current_team_id.clone()).unwrap_or_default()),
    );
    let scopes = RwSignal::new(vec![Scope::Read]);
    let expiry = RwSignal::new(0usize);
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);

    let teams = move || session.with_user(|u| u.map(|u| u.teams.clone()).unwrap_or_default());
    let role = Memo::new(move |_| session.role_in(&team_id.get()));
    let allowed = move |scope: Scope| role.get().is_some_and(|r| r >= scope_min_role(scope));
    // Scopes the chosen team's role does not allow are dropped when the team changes.
    Effect::new(move || {
        let allowed_now = role.get().map(role_scopes).unwrap_or_default();
        scopes.update(|s| s.retain(|scope| allowed_now.contains(scope)));
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let key_name = name.get_untracked().trim().to_owned();
        errors.check(
            "name",
            name_problem(&key_name, KEY_NAME_MAX, "name for the key"),
        );
        let chosen: Vec<Scope> = Scope::ALL
            .into_iter()
            .filter(|s| scopes.with_untracked(|c| c.contains(s)))
            .collect();
        if chosen.is_empty() {
            errors.set("scopes", "Choose at least one scope.");
        }
        if !errors.is_empty() {
            focus_first_invalid(FORM);
            return;
        }
        let team = team_id.get_untracked();
        let request = CreateApiKeyRequest {
            name: key_name,
            scopes: chosen,
            team_id: (!team.is_empty()).then_some(team),
            expires_in_days: EXPIRY_CHOICES
                .get(expiry.get_untracked())
                .and_then(|(_, days)| *days),
        };
        busy.set(true);
        spawn_local(async move {
            match account::create_api_key(&request).await {
                Ok(new_key) => {
                    name.set(String::new());
                    on_created(new_key);
                }
                Err(e) => errors.report(
                    toasts,
                    "Could not create the key",
                    &e,
                    &[
                        ("name", "name"),
                        ("scopes", "scopes"),
                        ("expires_in_days", "expiry"),
                    ],
                ),
            }
            busy.set(false);
        });
    };

    view! {
        <Card title="Create a key" icon=IconKind::Plus testid="create-key-card".to_owned()>
            <form id=FORM class="form form--wide" novalidate on:submit=submit>
                <div class="form-row">
                    <TextField
                        form=FORM
                        name="name"
                        label="Name"
                        placeholder="CI pipeline"
                        autocomplete="off"
                        value=name
                        errors=errors
                        required=true
                        hint="What uses it, so you recognise it later."
                    />
                    <div class="form-field">
                        <label class="form-label" for="create-key-team">
                            "Team"
                        </label>
                        <select
                            class="select"
                            id="create-key-team"
                            data-testid="create-key-team"
                            on:change=move |ev| team_id.set(event_target_value(&ev))
                        >
                            {move || {
                                let selected = team_id.get();
                                teams()
                                    .into_iter()
                                    .map(|team: TeamSummary| {
                                        let is_selected = team.id == selected;
                                        view! {
                                            <option value=team.id.clone() selected=is_selected>
                                                {format!("{} ({})", team.name, role_label(team.role).to_lowercase())}
                                            </option>
                                        }
                                    })
                                    .collect_view()
                            }}
                        </select>
                        <p class="form-hint">"The key acts for this team only."</p>
                    </div>
                    <div class="form-field">
                        <label class="form-label" for="create-key-expiry">
                            "Expires"
                        </label>
                        <select
                            class="select"
                            id="create-key-expiry"
                            data-testid="create-key-expiry"
                            aria-invalid=move || errors.get("expiry").is_some().then_some("true")
                            on:change=move |ev| {
                                expiry.set(event_target_value(&ev).parse().unwrap_or(0));
                            }
                        >
                            {EXPIRY_CHOICES
                                .iter()
                                .enumerate()
                                .map(|(i, (label, _))| {
                                    view! {
                                        <option value=i.to_string() selected=move || expiry.get() == i>
                                            {*label}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <FieldError id="create-key-expiry-error".to_owned() errors=errors name="expiry" />
                    </div>
                </div>
                <fieldset
                    class="scope-group"
                    aria-describedby="create-key-scopes-error"
                    aria-invalid=move || errors.get("scopes").is_some().then_some("true")
                >
                    <legend class="form-label">"Scopes"</legend>
                    <div class="scope-grid">
                        {Scope::ALL
                            .into_iter()
                            .map(|scope| {
                                let id = format!("create-key-scope-{}", scope.as_str());
                                let (label_for, input_id) = (id.clone(), id.clone());
                                view! {
                                    <label
                                        class="scope-option"
                                        class:scope-option--disabled=move || !allowed(scope)
                                        for=label_for
                                    >
                                        <input
                                            type="checkbox"
                                            id=input_id
                                            data-testid=id
                                            value=scope.as_str()
                                            disabled=move || !allowed(scope)
                                            prop:checked=move || scopes.with(|s| s.contains(&scope))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                errors.clear_field("scopes");
                                                scopes
                                                    .update(|s| {
                                                        s.retain(|x| *x != scope);
                                                        if on {
                                                            s.push(scope);
                                                        }
                                                    });
                                            }
                                        />
                                        <span class="scope-text">
                                            <span class="scope-name">{scope_label(scope)}</span>
                                            <span class="scope-description">
                                                {move || {
                                                    if allowed(scope) {
                                                        scope_description(scope).to_owned()
                                                    } else {
                                                        format!(
                                                            "Needs the {} role in this team",
                                                            role_label(scope_min_role(scope)).to_lowercase(),
                                                        )
                                                    }
                                                }}
                                            </span>
                                        </span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                    <FieldError id="create-key-scopes-error".to_owned() errors=errors name="scopes" />
                </fieldset>
                <div class="form-actions">
                    <SubmitButton label="Create key" busy=busy testid="create-key-submit" />
                </div>
            </form>
        </Card>
    }
}

/// The new key, shown once, with a copy button and a warning.
#[component]
fn NewKeyDialog(created: RwSignal<Option<CreatedApiKey>>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let key = move || created.with(|c| c.as_ref().map(|c| c.key.clone()).unwrap_or_default());
    let close = move |()| {
        created.set(None);
        copied.set(false);
    };
    let copy = move |_| {
        let text = key();
        spawn_local(async move {
            if copy_text(&text).await {
                copied.set(true);
            }
        });
    };
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    view! {
        <Modal
            open=Signal::derive(move || created.with(Option::is_some))
            on_close=close
            title="Your new API key"
            id="new-key-dialog"
            icon=IconKind::Key
        >
            <div class="callout callout--warn" role="note">
                <Icon kind=IconKind::Alert />
                <p>
                    <strong>"It is shown only this once."</strong>
                    " Copy the key now and keep it somewhere safe, like a secret store. If you lose it, revoke it and create another."
                </p>
            </div>
            <div class="key-reveal">
                <input
                    class="input mono"
                    readonly
                    aria-label="The new API key"
                    data-testid="new-key-value"
                    prop:value=key
                    on:focus=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        input.select();
                    }
                />
                <button type="button" class="button" data-testid="copy-key" on:click=copy>
                    <Icon kind=IconKind::Copy class="button-icon" />
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <p class="muted small">"Use it as a bearer token:"</p>
            <pre class="code-block">
                {move || {
                    format!(
                        "curl -H \"Authorization: Bearer {}…\" \\\n  {origin}/api/v1/teams",
                        key().chars().take(12).collect::<String>(),
                    )
                }}
            </pre>
            <div class="dialog-actions">
                <button
                    type="button"
                    class="button button--primary"
                    data-testid="new-key-done"
                    on:click=move |_| close(())
                >
                    "I have stored it"
                </button>
            </div>
        </Modal>
    }
}

#[component]
fn KeyList(
    list: Vec<ApiKeyInfo>,
    on_revoke: impl Fn(ApiKeyInfo) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    if list.is_empty() {
        return view! {
            <EmptyState
                icon=IconKind::Key
                title="No API keys yet"
                message="Create a key above to call the API from scripts, CI or your own services."
            />
        }
        .into_any();
    }
    let mut list = list;
    // Active keys first, newest first.
    list.sort_by(|a, b| {
        a.revoked
            .cmp(&b.revoked)
            .then_with(|| b.created_at.cmp(&a.created_at))
    });
    let count = list.len();
    view! {
        <Card title=format!("Your keys ({count})") icon=IconKind::Key testid="keys-card".to_owned()>
            <table class="table table--stack" data-testid="keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Scopes"</th>
                        <th scope="col">"Team"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="actions">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|key| {
                            let team = session
                                .with_user(|u| {
                                    u.and_then(|u| u.teams.iter().find(|t| t.id == key.team_id).map(|t| t.name.clone()))
                                })
                                .unwrap_or_else(|| "a team you left".to_owned());
                            let expired = key.expires_at.as_deref().is_some_and(format::is_past);
                            let (tone, status) = if key.revoked && expired {
                                (Tone::Neutral, "expired")
                            } else if key.revoked {
                                (Tone::Down, "revoked")
                            } else {
                                (Tone::Ok, "active")
                            };
                            let revocable = !key.revoked;
                            let row_key = key.clone();
                            view! {
                                <tr class:row--muted=key.revoked data-testid="key-row" data-key-prefix=key.prefix.clone()>
                                    <td class="cell-lead cell-main">
                                        {key.name.clone()}
                                    </td>
                                    <td data-label="Key">
                                        <code data-testid="key-prefix">{format!("{}…", key.prefix)}</code>
                                    </td>
                                    <td data-label="Scopes">
                                        <span class="chips">
                                            {key
                                                .scopes
                                                .iter()
                                                .map(|s| view! { <span class="chip">{s.as_str()}</span> })
                                                .collect_view()}
                                        </span>
                                    </td>
                                    <td data-label="Team">{team}</td>
                                    <td data-label="Created" title=format::date_time(&key.created_at)>
                                        {format::relative(&key.created_at)}
                                    </td>
                                    <td
                                        data-label="Last used"
                                        title=key.last_used_at.as_deref().map(format::date_time)
                                    >
                                        {key
                                            .last_used_at
                                            .as_deref()
                                            .map(format::relative)
                                            .unwrap_or_else(|| "never".to_owned())}
                                    </td>
                                    <td
                                        data-label="Expires"
                                        title=key.expires_at.as_deref().map(format::date_time)
                                    >
                                        {key
                                            .expires_at
                                            .as_deref()
                                            .map(format::relative)
                                            .unwrap_or_else(|| "never".to_owned())}
                                    </td>
                                    <td data-label="Status">
                                        <StatusBadge tone=tone label=status.to_owned() testid="key-status" />
                                    </td>
                                    <td class="actions">
                                        {revocable
                                            .then(|| {
                                                let row_key = row_key.clone();
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="button button--small button--danger-quiet"
                                                        data-testid="revoke-key"
                                                        on:click=move |_| on_revoke(row_key.clone())
                                                    >
                                                        "Revoke"
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </Card>
    }
    .into_any()
}
