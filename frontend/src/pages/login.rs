//! Sign in, then go back to the page that asked for it (`?next=`, same-site paths only).

use hfb_shared::ErrorCode;
use hfb_shared::auth::LoginRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::auth;
use crate::components::form::{FieldErrors, SubmitButton, TextField, focus_first_invalid};
use crate::components::page_header::set_document_title;
use crate::components::top_bar::BrandMark;
use crate::pages::{Page, signup_path};
use crate::state::session::use_session;
use crate::state::toast::use_toasts;
use crate::validate::{email_problem, safe_next};

const FORM: &str = "login";

/// Sends the signed-in user on to `next`; shared by the sign-in and sign-up pages.
pub fn redirect_when_signed_in(next: Memo<String>) {
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move || {
        if session.is_signed_in() {
            navigate(
                &next.get_untracked(),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
}

/// The `?next=` of this page, made safe.
pub fn use_next() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| safe_next(q.get("next").as_deref())))
}

#[component]
pub fn Login() -> impl IntoView {
    set_document_title(Page::Login.title());
    let session = use_session();
    let toasts = use_toasts();
    let next = use_next();
    redirect_when_signed_in(next);

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
        if secret.is_empty() {
            errors.set("password", "Enter your password.");
        }
        if !errors.is_empty() {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let request = LoginRequest {
                email: address,
                password: secret,
            };
            match auth::login(&request).await {
                // The redirect effect takes it from here.
                Ok(response) => session.sign_in(response),
                Err(e) => {
                    busy.set(false);
                    if e.code == ErrorCode::Unauthorized {
                        errors.set("password", "Wrong e-mail or password.");
                        password.set(String::new());
                        focus_first_invalid(FORM);
                    } else {
                        errors.report(
                            toasts,
                            "Could not sign in",
                            &e,
                            &[("email", "email"), ("password", "password")],
                        );
                    }
                }
            }
        });
    };

    view! {
        <div class="page page--auth" data-testid="page-login">
            <div class="auth-card">
                <div class="auth-head">
                    <BrandMark />
                    <h1 class="page-title" data-testid="page-title">
                        "Sign in"
                    </h1>
                    <p class="page-subtitle">"Welcome back to hfb."</p>
                </div>
                <Show when=move || next.get() != "/">
                    <p class="auth-note" data-testid="login-next">
                        "Sign in to continue to " <code>{move || next.get()}</code>
                    </p>
                </Show>
                <form id=FORM class="form" novalidate on:submit=submit>
                    <TextField
                        form=FORM
                        name="email"
                        label="E-mail"
                        kind="email"
                        autocomplete="username"
                        value=email
                        errors=errors
                        required=true
                        autofocus=true
                    />
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
                    <SubmitButton
                        label="Sign in"
                        busy=busy
                        class="button--primary button--block"
                        testid="login-submit"
                    />
                </form>
                <p class="auth-switch">
                    "New to hfb? "
                    <A href=move || signup_path(Some(&next.get())) attr:data-testid="to-signup">
                        "Create an account"
                    </A>
                </p>
            </div>
        </div>
    }
}
