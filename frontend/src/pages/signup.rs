//! Create an account; it signs in at once and goes on to `?next=` (or the overview).

use hfb_shared::ErrorCode;
use hfb_shared::auth::SignupRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::auth;
use crate::components::form::{
    FieldErrors, SubmitButton, TextField, focus_first_invalid, sentence,
};
use crate::components::page_header::set_document_title;
use crate::components::top_bar::BrandMark;
use crate::pages::login::{redirect_when_signed_in, use_next};
use crate::pages::{Page, login_path};
use crate::state::session::use_session;
use crate::state::toast::use_toasts;
use crate::validate::{NAME_MAX, PASSWORD_MIN, email_problem, name_problem, password_problem};

const FORM: &str = "signup";

#[component]
pub fn Signup() -> impl IntoView {
    set_document_title(Page::Signup.title());
    let session = use_session();
    let toasts = use_toasts();
    let next = use_next();
    redirect_when_signed_in(next);

    let display_name = RwSignal::new(String::new());
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
        let name = display_name.get_untracked().trim().to_owned();
        let address = email.get_untracked().trim().to_owned();
        let secret = password.get_untracked();
        errors.check("display_name", name_problem(&name, NAME_MAX, "name"));
        errors.check("email", email_problem(&address));
        errors.check("password", password_problem(&secret));
        if !errors.is_empty() {
            focus_first_invalid(FORM);
            return;
        }
        busy.set(true);
        spawn_local(async move {
            let request = SignupRequest {
                email: address,
                password: secret,
                display_name: name,
            };
            match auth::signup(&request).await {
                Ok(response) => {
                    toasts.success(&format!("Welcome to hfb, {}", response.user.display_name));
                    session.sign_in(response);
                }
                Err(e) => {
                    busy.set(false);
                    if e.code == ErrorCode::Conflict {
                        errors.set("email", sentence(&e.message));
                    } else {
                        errors.report(
                            toasts,
                            "Could not create the account",
                            &e,
                            &[
                                ("display_name", "display_name"),
                                ("email", "email"),
                                ("password", "password"),
                            ],
                        );
                    }
                    focus_first_invalid(FORM);
                }
            }
        });
    };

    view! {
        <div class="page page--auth" data-testid="page-signup">
            <div class="auth-card">
                <div class="auth-head">
                    <BrandMark />
                    <h1 class="page-title" data-testid="page-title">
                        "Create your account"
                    </h1>
                    <p class="page-subtitle">
                        "Find, deploy and call models with your team."
                    </p>
                </div>
                <form id=FORM class="form" novalidate on:submit=submit>
                    <TextField
                        form=FORM
                        name="display_name"
                        label="Name"
                        autocomplete="name"
                        value=display_name
                        errors=errors
                        required=true
                        autofocus=true
                    />
                    <TextField
                        form=FORM
                        name="email"
                        label="Work e-mail"
                        kind="email"
                        autocomplete="email"
                        value=email
                        errors=errors
                        required=true
                    />
                    <TextField
                        form=FORM
                        name="password"
                        label="Password"
                        kind="password"
                        autocomplete="new-password"
                        value=password
                        errors=errors
                        required=true
                        hint=format!(
                            "At least {PASSWORD_MIN} characters. A few unrelated words work well.",
                        )
                    />
                    <SubmitButton
                        label="Create account"
                        busy=busy
                        class="button--primary button--block"
                        testid="signup-submit"
                    />
                </form>
                <p class="auth-switch">
                    "Already have an account? "
                    <A href=move || login_path(Some(&next.get())) attr:data-testid="to-login">
                        "Sign in"
                    </A>
                </p>
            </div>
        </div>
    }
}
