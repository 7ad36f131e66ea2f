//! Overview: version and readiness of this instance, refreshed every few seconds, and the
//! state of the live connection.

use std::time::Duration;

use hfb_shared::ErrorDetail;
use hfb_shared::health::{CheckStatus, DependencyCheck, Readiness, ReadinessStatus, VersionInfo};
use leptos::prelude::*;

use crate::api::system;
use crate::api::ws::{WsState, use_live_connection};
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, Field};
use crate::components::icon::{Icon, IconKind};
use crate::components::live_card::LiveConnectionCard;
use crate::components::page_header::PageHeader;
use crate::components::skeleton::SkeletonCard;
use crate::format;
use crate::pages::Page;
use crate::state::toast::use_toasts;

/// How often version and readiness are fetched again.
const REFRESH_EVERY: Duration = Duration::from_secs(10);

#[component]
pub fn Overview() -> impl IntoView {
    let toasts = use_toasts();
    let version = LocalResource::new(move || async move {
        let result = system::version().await;
        if let Err(e) = &result {
            toasts.api_error("Could not load the server version", e);
        }
        result
    });
    let health = LocalResource::new(move || async move {
        let result = system::health().await;
        if let Err(e) = &result {
            toasts.api_error("Could not check the server's health", e);
        }
        result
    });

    let refresh = move || {
        version.refetch();
        health.refetch();
    };
    let timer = set_interval_with_handle(refresh, REFRESH_EVERY).ok();
    // Coming back from a dropped connection usually means the server is back: look now.
    let live = use_live_connection();
    Effect::new(move |previous: Option<WsState>| {
        let state = live.state.get();
        if previous == Some(WsState::Reconnecting) && state == WsState::Live {
            refresh();
        }
        state
    });
    on_cleanup(move || {
        if let Some(timer) = timer {
            timer.clear();
        }
    });

    let version_pending = RwSignal::new(false);
    let health_pending = RwSignal::new(false);
    let pending = move || version_pending.get() || health_pending.get();

    let actions = move || {
        view! {
            <span class="muted small">"Refreshes every 10 s"</span>
            <button
                type="button"
                class="button"
                class:button--busy=pending
                aria-busy=move || pending().to_string()
                data-testid="refresh"
                on:click=move |_| refresh()
            >
                <Icon kind=IconKind::Refresh class="button-icon" />
                "Refresh"
            </button>
        }
    };

    view! {
        <div class="page" data-testid="page-overview">
            <PageHeader
                title=Page::Overview.title()
                subtitle="This hfb instance, the services it depends on and its live connection."
                actions=actions
            />
            <div class="grid grid--3">
                <Transition
                    fallback=|| view! { <SkeletonCard lines=3 /> }
                    set_pending=health_pending.write_only()
                >
                    {move || Suspend::new(async move {
                        match health.await {
                            Ok(readiness) => view! { <ReadinessCard readiness=readiness /> }.into_any(),
                            Err(e) => view! { <LoadError title="Readiness" error=e /> }.into_any(),
                        }
                    })}
                </Transition>
                <Transition
                    fallback=|| view! { <SkeletonCard lines=4 /> }
                    set_pending=version_pending.write_only()
                >
                    {move || Suspend::new(async move {
                        match version.await {
                            Ok(info) => view! { <ServerCard info=info /> }.into_any(),
                            Err(e) => view! { <LoadError title="Server" error=e /> }.into_any(),
                        }
                    })}
                </Transition>
                <LiveConnectionCard />
            </div>

            <section class="section" aria-labelledby="dependencies-heading">
                <h2 class="section-title" id="dependencies-heading">
                    "Dependencies"
                </h2>
                <div class="grid grid--3">
                    <Transition fallback=|| {
                        view! {
                            <SkeletonCard lines=2 />
                            <SkeletonCard lines=2 />
                        }
                    }>
                        {move || Suspend::new(async move {
                            match health.await {
                                Ok(readiness) => {
                                    readiness
                                        .checks
                                        .into_iter()
                                        .map(|check| view! { <CheckCard check=check /> })
                                        .collect_view()
                                        .into_any()
                                }
                                Err(_) => {
                                    view! {
                                        <p class="muted">
                                            "Dependency checks are unavailable until the server answers."
                                        </p>
                                    }
                                        .into_any()
                                }
                            }
                        })}
                    </Transition>
                </div>
            </section>
        </div>
    }
}

#[component]
fn ReadinessCard(readiness: Readiness) -> impl IntoView {
    let down: Vec<&str> = readiness
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Down)
        .map(|c| c.name.as_str())
        .collect();
    let total = readiness.checks.len();
    let probe_ms: f64 = readiness.checks.iter().map(|c| c.latency_ms).sum();
    let (tone, word, icon) = match readiness.status {
        ReadinessStatus::Ready => (Tone::Ok, "ready", IconKind::Check),
        ReadinessStatus::Degraded => (Tone::Down, "degraded", IconKind::Alert),
    };
    let summary = if down.is_empty() {
        match total {
            0 => "No dependencies to check.".to_owned(),
            1 => "The one dependency is up.".to_owned(),
            n => format!("All {n} dependencies are up."),
        }
    } else {
        format!(
            "{} of {total} down: {}. The server answers what it safely can.",
            down.len(),
            down.join(", ")
        )
    };
    view! {
        <Card
            title="Readiness"
            icon=IconKind::Server
            class="card--readiness"
            aside=move || {
                view! {
                    <StatusBadge tone=tone label=word.to_owned() testid="readiness-status" />
                }
            }
        >
            <div class=format!("readiness-hero readiness-hero--{word}")>
                <Icon kind=icon class="readiness-icon" />
                <span class="readiness-word">{format::capitalize(word)}</span>
            </div>
            <p class="card-lead">{summary}</p>
            <p class="muted small" data-testid="checked-at">
                "Checked at " {format::clock_time_rfc3339(&readiness.checked_at)}
                " · probes took " {format::millis(probe_ms)}
            </p>
        </Card>
    }
}

#[component]
fn ServerCard(info: VersionInfo) -> impl IntoView {
    view! {
        <Card title="Server" icon=IconKind::Tag>
            <dl class="fields">
                <Field label="Version">
                    <span class="mono" data-testid="version">
                        {info.version}
                    </span>
                </Field>
                <Field label="API">
                    <span class="mono" data-testid="api-version">
                        {info.api_version}
                    </span>
                </Field>
                <Field label="Build">{info.build_profile}</Field>
                <Field label="Environment" testid="environment">
                    {info.environment}
                </Field>
                <Field label="Instance">
                    <code class="truncate" title=info.instance_id.clone() data-testid="instance-id">
                        {info.instance_id.clone()}
                    </code>
                </Field>
                <Field label="Uptime" testid="uptime">
                    {format::duration_short(info.uptime_seconds)}
                </Field>
            </dl>
        </Card>
    }
}

#[component]
fn CheckCard(check: DependencyCheck) -> impl IntoView {
    let up = check.status == CheckStatus::Up;
    let icon = match check.name.as_str() {
        "store" => IconKind::Database,
        "cache" => IconKind::Bolt,
        _ => IconKind::Server,
    };
    let status_testid: &'static str = match check.name.as_str() {
        "store" => "check-store-status",
        "cache" => "check-cache-status",
        _ => "",
    };
    let tone = if up { Tone::Ok } else { Tone::Down };
    let word = if up { "up" } else { "down" };
    view! {
        <Card
            title=format::capitalize(&check.name)
            icon=icon
            class=if up { "card--check" } else { "card--check card--down" }
            testid=format!("check-{}", check.name)
            aside=move || view! { <StatusBadge tone=tone label=word.to_owned() testid=status_testid /> }
        >
            <dl class="fields fields--inline">
                <Field label="Backend">
                    <span class="mono">{check.backend.clone()}</span>
                </Field>
                <Field label="Latency">{format::millis(check.latency_ms)}</Field>
            </dl>
            {check.message.clone().map(|m| view! { <p class="check-message">{m}</p> })}
        </Card>
    }
}

/// A card's place when its data could not be loaded (the toast has the details too).
#[component]
fn LoadError(title: &'static str, error: ErrorDetail) -> impl IntoView {
    view! {
        <Card title=title icon=IconKind::Alert class="card--error">
            <p class="card-lead">{error.message.clone()}</p>
            <p class="muted small">
                <span class="mono">{error.code.as_str()}</span>
                {error.request_id.map(|id| format!(" · request {id}"))}
                " · retrying every 10 s"
            </p>
        </Card>
    }
}
