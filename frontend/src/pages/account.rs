//! Account: profile, e-mail address, password, and deleting the account.

use hfb_shared::ErrorCode;
use hfb_shared::auth::{ChangePasswordRequest, DeleteAccountRequest, UpdateProfileRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::account;
use crate::components::account_tabs::AccountTabs;
use crate::components::card::{Card, Field};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{
    FieldErrors, SubmitButton, TextField, focus_first_invalid, sentence,
};
use crate::components::icon::IconKind;
use crate::components::page_header::PageHeader;
use crate::format;
use crate::pages::Page;
use crate::state::session::use_session;
use crate::state::toast::use_toasts;
use crate::validate::{NAME_MAX, PASSWORD_MIN, email_problem, name_problem, password_problem};

#[component]
pub fn Account() -> impl IntoView {
    view! {
        <div class="page" data-testid="page-account">
            <PageHeader
                title=Page::Account.title()
                subtitle="Your profile, how you sign in, and your account itself."
            />
            <AccountTabs />
            <div class="grid grid--2">
                <ProfileCard />
                <EmailCard />
                <PasswordCard />
                <DeleteAccountCard />
            </div>
        </div>
    }
}

/// A hidden username field, so password managers know which account a password
/// form belongs to.
#[component]
fn UsernameHint() -> impl IntoView {
    let session = use_session();
    view! {
        <input
            class="visually-hidden"
            type="email"
            autocomplete="username"
            tabindex="-1"
            aria-hidden="true"
            readonly
            prop:value=move || session.with_user(|u| u.map(|u| u.email.clone()).unwrap_or_default())
        />
    }
}

#[component]
fn ProfileCard() -> impl IntoView {
    const FORM: &str = "profile";
    let session = use_session();
    let toasts = use_toasts();
    let initial = session.with_user(|u| u.map(|u| u.display_name.clone()).unwrap_or_default());
    let display_name = RwSignal::new(initial);
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);
    let unchanged = Signal::derive(move || {
        session.with_user(|u| u.map(|u| u.display_name.clone()))
            == Some(display_name.get().trim().to_owned())
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let name = display_name.get_untracked().trim().to_owned();
        if errors.check("display_name", name_problem(&name, NAME_MAX, "name")) {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let request = UpdateProfileRequest {
                display_name: Some(name),
                ..Default::default()
            };
            match account::update_profile(&request).await {
                Ok(profile) => {
                    display_name.set(profile.display_name.clone());
                    session.set_user(profile);
                    toasts.success("Profile saved");
                }
                Err(e) => errors.report(
                    toasts,
                    "Could not save the profile",
                    &e,
                    &[("display_name", "display_name")],
                ),
            }
            busy.set(false);
        });
    };

    view! {
        <Card title="Profile" icon=IconKind::User testid="profile-card".to_owned()>
            <dl class="fields">
                <Field label="E-mail" testid="account-email">
                    {move || session.with_user(|u| u.map(|u| u.email.clone()))}
                </Field>
                <Field label="Member since">
                    {move || session.with_user(|u| u.map(|u| format::date(&u.created_at)))}
                </Field>
            </dl>
            <form id=FORM class="form" novalidate on:submit=submit>
                <TextField
                    form=FORM
                    name="display_name"
                    label="Name"
                    autocomplete="name"
                    value=display_name
                    errors=errors
                    required=true
                    hint="Shown to your teammates."
                />
                <div class="form-actions">
                    <SubmitButton
                        label="Save profile"
                        busy=busy
                        disabled=unchanged
                        testid="profile-submit"
                    />
                </div>
            </form>
        </Card>
    }
}

#[component]
fn EmailCard() -> impl IntoView {
    const FORM: &str = "email";
    let session = use_session();
    let toasts = use_toasts();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let address = email.get_untracked().trim().to_owned();
        let secret = password.get_untracked();
        errors.check("email", email_problem(&address));
        let same = session.with_user(|u| u.is_some_and(|u| u.email.eq_ignore_ascii_case(&address)));
        if same {
            errors.set("email", "This is already your e-mail address.");
        }
        if secret.is_empty() {
            errors.set(
                "current_password",
                "Enter your current password to confirm.",
            );
        }
        if !errors.is_empty() {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let request = UpdateProfileRequest {
                email: Some(address),
                current_password: Some(secret),
                ..Default::default()
            };
            match account::update_profile(&request).await {
                Ok(profile) => {
                    toasts.success(&format!("Your e-mail address is now {}", profile.email));
                    session.set_user(profile);
                    email.set(String::new());
                    password.set(String::new());
                }
                Err(e) if e.code == ErrorCode::Conflict => {
                    errors.set("email", sentence(&e.message));
                }
                Err(e) => errors.report(
                    toasts,
                    "Could not change the e-mail address",
                    &e,
                    &[("email", "email"), ("current_password", "current_password")],
                ),
            }
            busy.set(false);
        });
    };

    view! {
        <Card title="E-mail address" icon=IconKind::Mail testid="email-card".to_owned()>
            <p class="card-lead">
                "You sign in with this address, and team invitations are sent to it."
            </p>
            <form id=FORM class="form" novalidate on:submit=submit>
                <TextField
                    form=FORM
                    name="email"
                    label="New e-mail"
                    kind="email"
                    autocomplete="email"
                    value=email
                    errors=errors
                    required=true
                />
                <TextField
                    form=FORM
                    name="current_password"
                    label="Current password"
                    kind="password"
                    autocomplete="current-password"
                    value=password
                    errors=errors
                    required=true
                />
                <div class="form-actions">
                    <SubmitButton label="Change e-mail" busy=busy class="" testid="email-submit" />
                </div>
            </form>
        </Card>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    const FORM: &str = "password";
    let toasts = use_toasts();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let old = current.get_untracked();
        let new = new_password.get_untracked();
        if old.is_empty() {
            errors.set("current_password", "Enter your current password.");
        }
        errors.check("new_password", password_problem(&new));
        if new == old && !new.is_empty() {
            errors.set(
                "new_password",
                "Choose a password different from the current one.",
            );
        }
        if repeat.get_untracked() != new {
            errors.set("repeat_password", "The two new passwords differ.");
        }
        if !errors.is_empty() {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let request = ChangePasswordRequest {
                current_password: old,
                new_password: new,
            };
            match account::change_password(&request).await {
                Ok(changed) => {
                    current.set(String::new());
                    new_password.set(String::new());
                    repeat.set(String::new());
                    toasts.success(&match changed.sessions_revoked {
                        0 => "Password changed".to_owned(),
                        1 => "Password changed; 1 other session was signed out".to_owned(),
                        n => format!("Password changed; {n} other sessions were signed out"),
                    });
                }
                Err(e) => errors.report(
                    toasts,
                    "Could not change the password",
                    &e,
                    &[
                        ("current_password", "current_password"),
                        ("new_password", "new_password"),
                    ],
                ),
            }
            busy.set(false);
        });
    };

    view! {
        <Card title="Password" icon=IconKind::Lock testid="password-card".to_owned()>
            <p class="card-lead">"Changing it signs out every other session."</p>
            <form id=FORM class="form" novalidate on:submit=submit>
                <UsernameHint />
                <TextField
                    form=FORM
                    name="current_password"
                    label="Current password"
                    kind="password"
                    autocomplete="current-password"
                    value=current
                    errors=errors
                    required=true
                />
                <TextField
                    form=FORM
                    name="new_password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    value=new_password
                    errors=errors
                    required=true
                    hint=format!("At least {PASSWORD_MIN} characters.")
                />
                <TextField
                    form=FORM
                    name="repeat_password"
                    label="Repeat the new password"
                    kind="password"
                    autocomplete="new-password"
                    value=repeat
                    errors=errors
                    required=true
                />
                <div class="form-actions">
                    <SubmitButton
                        label="Change password"
                        busy=busy
                        class=""
                        testid="password-submit"
                    />
                </div>
            </form>
        </Card>
    }
}

#[component]
fn DeleteAccountCard() -> impl IntoView {
    const FORM: &str = "delete-account";
    let session = use_session();
    let toasts = use_toasts();
    let navigate = use_navigate();
    let password = RwSignal::new(String::new());
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let email = Signal::derive(move || {
        session.with_user(|u| u.map(|u| u.email.clone()).unwrap_or_default())
    });

    let ask = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        if password.get_untracked().is_empty() {
            errors.set("password", "Enter your password to confirm.");
            focus_first_invalid(FORM);
            return;
        }
        confirming.set(true);
    };
    let delete = move |()| {
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let request = DeleteAccountRequest {
                password: password.get_untracked(),
            };
            match account::delete_account(&request).await {
                Ok(()) => {
                    confirming.set(false);
                    session.forget();
                    toasts.success("Your account was deleted");
                    navigate(
                        Page::Overview.path(),
                        NavigateOptions {
                            replace: true,
                            ..Default::default()
                        },
                    );
                }
                Err(e) => {
                    confirming.set(false);
                    busy.set(false);
                    errors.report(
                        toasts,
                        "Could not delete the account",
                        &e,
                        &[("password", "password")],
                    );
                    focus_first_invalid(FORM);
                }
            }
        });
    };

    view! {
        <Card
            title="Delete account"
            icon=IconKind::Trash
            class="card--danger"
            testid="delete-account-card".to_owned()
        >
            <p class="card-lead">
                "Deletes your profile, sessions, API keys and personal team for good. "
                "If you are the only owner of a shared team, hand it over or delete it first."
            </p>
            <form id=FORM class="form" novalidate on:submit=ask>
                <UsernameHint />
                <TextField
                    form=FORM
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    value=password
                    errors=errors
                    required=true
                />
                <div class="form-actions">
                    <button type="submit" class="button button--danger" data-testid="delete-account">
                        "Delete account…"
                    </button>
                </div>
            </form>
            <ConfirmDialog
                open=confirming
                on_close=move |()| confirming.set(false)
                on_confirm=delete
                title="Delete your account?"
                message=Signal::derive(move || {
                    format!(
                        "This cannot be undone. Everything that belongs to {} will be deleted, and every API key stops working.",
                        email.get(),
                    )
                })
                confirm_label="Delete my account"
                id="confirm-delete-account"
                busy=busy
                confirm_text=email
            />
        </Card>
    }
}
