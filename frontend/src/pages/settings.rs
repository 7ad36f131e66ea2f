//! Settings: appearance (kept in this browser) and where the API lives.

use leptos::prelude::*;

use crate::api::{self, system, ws::socket_url};
use crate::components::card::{Card, Field};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::skeleton::SkeletonLine;
use crate::pages::Page;
use crate::state::theme::{ThemePreference, use_theme};
use crate::state::toast::use_toasts;

#[component]
pub fn Settings() -> impl IntoView {
    let theme = use_theme();
    let toasts = use_toasts();
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let rest_base = format!("{origin}{}", api::url("/v1"));
    let socket = socket_url().unwrap_or_default();
    let version = LocalResource::new(move || async move {
        let result = system::version().await;
        if let Err(e) = &result {
            toasts.api_error("Could not load the server version", e);
        }
        result
    });

    view! {
        <div class="page" data-testid="page-settings">
            <PageHeader
                title=Page::Settings.title()
                subtitle="Preferences for this browser and details of the API it talks to."
            />
            <div class="grid grid--2">
                <Card title="Appearance" icon=IconKind::Sun>
                    <fieldset class="choice-group" data-testid="theme-choice">
                        <legend class="field-label">"Theme"</legend>
                        {ThemePreference::ALL
                            .into_iter()
                            .map(|choice| {
                                let icon = match choice {
                                    ThemePreference::Light => IconKind::Sun,
                                    ThemePreference::Dark => IconKind::Moon,
                                    ThemePreference::System => IconKind::Monitor,
                                };
                                view! {
                                    <label class="choice">
                                        <input
                                            type="radio"
                                            name="theme"
                                            value=choice.as_str()
                                            data-testid=format!("theme-{}", choice.as_str())
                                            prop:checked=move || theme.0.get() == choice
                                            on:change=move |_| {
                                                theme.0.set(choice);
                                                toasts.success(&format!("Theme set to {}", choice.label().to_lowercase()));
                                            }
                                        />
                                        <span class="choice-box">
                                            <Icon kind=icon />
                                            {choice.label()}
                                        </span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </fieldset>
                    <p class="muted small">
                        "Stored in this browser only. System follows your operating system's setting."
                    </p>
                </Card>
                <Card title="API" icon=IconKind::Server testid="api-info".to_owned()>
                    <dl class="fields">
                        <Field label="Origin" testid="api-origin">
                            <code>{origin}</code>
                        </Field>
                        <Field label="REST base">
                            <code>{rest_base}</code>
                        </Field>
                        <Field label="WebSocket">
                            <code>{socket}</code>
                        </Field>
                        <Field label="Server version">
                            <Transition fallback=|| view! { <SkeletonLine width="6rem" /> }>
                                {move || Suspend::new(async move {
                                    match version.await {
                                        Ok(v) => {
                                            view! {
                                                <span class="mono">
                                                    {format!("{} {} (API {})", v.name, v.version, v.api_version)}
                                                </span>
                                            }
                                                .into_any()
                                        }
                                        Err(e) => view! { <span class="muted">{e.message}</span> }.into_any(),
                                    }
                                })}
                            </Transition>
                        </Field>
                    </dl>
                    <div class="link-row">
                        <a class="button" href="/api/docs" target="_blank" rel="noopener" data-testid="link-docs">
                            "API reference"
                            <Icon kind=IconKind::External class="button-icon" />
                        </a>
                        <a
                            class="button"
                            href="/api/openapi.json"
                            target="_blank"
                            rel="noopener"
                            data-testid="link-openapi"
                        >
                            "OpenAPI spec"
                            <Icon kind=IconKind::External class="button-icon" />
                        </a>
                    </div>
                </Card>
            </div>
        </div>
    }
}
