//! `/deployments/{id}`: one deployment, live. Its status follows the WebSocket feed; the
//! versions and events are loaded again whenever the feed says it changed.
//!
//! Actions (pause, resume, retry, delete) are enabled by status; the scaling form sends
//! the version it was loaded at, so a change made meanwhile elsewhere is refused (409) and
//! said so instead of being overwritten; every earlier version can be rolled back to.

use hfb_shared::deployments::{
    DeploymentDetail, DeploymentEventInfo, DeploymentInfo, DeploymentVersionInfo,
    UpdateDeploymentRequest,
};
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::deployments::{self, Action};
use crate::api::ws::use_live_connection;
use crate::api::{self, encode};
use crate::components::card::{Card, LoadFailed};
use crate::components::deploy_fields::{
    ScalingFields, ScalingInputs, form_field_of, scaling_summary,
};
use crate::components::deploy_status::{DeployProgress, DeployStatusBadge, is_coming_up};
use crate::components::dialog::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::form::{FieldErrors, Spinner, SubmitButton, focus_first_invalid, sentence};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::set_document_title;
use crate::components::require_auth::{PageSkeleton, RequireAuth};
use crate::format;
use crate::pages::playground::playground_path;
use crate::pages::{Page, model_path};
use crate::state::session::use_session;
use crate::state::toast::use_toasts;

const SCALING_FORM: &str = "scaling";

/// `/deployments/{id}`.
pub fn deployment_path(id: &str) -> String {
    format!("{}/{}", Page::Deployments.path(), encode(id))
}

#[component]
pub fn DeploymentPage() -> impl IntoView {
    view! {
        <RequireAuth>
            <DeploymentLoader />
        </RequireAuth>
    }
}

/// What the page can show.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Loading,
    Ready,
    /// Deleted while the page was open.
    Removed,
    NotFound,
    Failed(ErrorDetail),
}

#[component]
fn DeploymentLoader() -> impl IntoView {
    let params = use_params_map();
    let live = use_live_connection();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    // Every (re)subscription may follow missed updates: load again then.
    let subscriptions = Memo::new(move |_| live.deployments.with(|f| f.subscriptions));
    let detail = LocalResource::new(move || {
        let id = id.get();
        subscriptions.track();
        async move { deployments::detail(&id).await }
    });
    // The last detail that loaded: the page stays up while a reload is under way or fails.
    let loaded = Memo::new(
        move |previous: Option<&Option<DeploymentDetail>>| match detail.get() {
            Some(Ok(d)) => Some(d),
            _ => previous.cloned().flatten(),
        },
    );
    // The deployment as shown: the loaded one, or a newer state from the feed; `None`
    // once removed.
    let current = Memo::new(move |_| {
        loaded.with(|l| {
            l.as_ref()
                .map(|d| live.deployments.with(|f| f.overlay(&d.deployment)))
        })
    });
    // The feed is ahead of the loaded detail: its versions and events are out of date.
    Effect::new(move || {
        let Some(Some(info)) = current.get() else {
            return;
        };
        let behind = loaded.with_untracked(|l| {
            l.as_ref()
                .is_some_and(|d| info.updated_at > d.deployment.updated_at)
        });
        if behind {
            detail.refetch();
        }
    });
    let shown = Memo::new(move |_| {
        if matches!(current.get(), Some(None)) {
            return Shown::Removed;
        }
        let have = loaded.with(Option::is_some);
        match detail.get() {
            Some(Err(e)) if e.code == ErrorCode::NotFound => {
                if have {
                    Shown::Removed
                } else {
                    Shown::NotFound
                }
            }
            _ if have => Shown::Ready,
            Some(Err(e)) => Shown::Failed(e),
            _ => Shown::Loading,
        }
    });

    move || match shown.get() {
        Shown::Loading => view! { <PageSkeleton /> }.into_any(),
        Shown::Ready => {
            let Some(first) = loaded.get_untracked() else {
                return view! { <PageSkeleton /> }.into_any();
            };
            let info = Memo::new(move |previous: Option<&DeploymentInfo>| {
                current
                    .get()
                    .flatten()
                    .or_else(|| previous.cloned())
                    .unwrap_or_else(|| first.deployment.clone())
            });
            let versions = Memo::new(move |_| {
                loaded.with(|l| l.as_ref().map(|d| d.versions.clone()).unwrap_or_default())
            });
            let events = Memo::new(move |_| {
                loaded.with(|l| l.as_ref().map(|d| d.events.clone()).unwrap_or_default())
            });
            view! {
                <DeploymentView
                    info=info
                    versions=versions
                    events=events
                    reload=Callback::new(move |()| detail.refetch())
                />
            }
            .into_any()
        }
        Shown::Removed => view! { <Gone deleted=true /> }.into_any(),
        Shown::NotFound => view! { <Gone deleted=false /> }.into_any(),
        Shown::Failed(e) => view! {
            <div class="page" data-testid="page-deployment">
                <LoadFailed title="Deployment" error=e retry=move |()| detail.refetch() />
            </div>
        }
        .into_any(),
    }
}

#[component]
fn Gone(deleted: bool) -> impl IntoView {
    let (title, message) = if deleted {
        (
            "Deployment deleted",
            "This deployment was torn down at its target and removed.",
        )
    } else {
        (
            "No such deployment",
            "It does not exist, or it belongs to another team.",
        )
    };
    set_document_title(title);
    view! {
        <div class="page page--narrow" data-testid=if deleted { "deployment-removed" } else { "deployment-not-found" }>
            <EmptyState icon=IconKind::Deployments title=title message=message>
                <A href=Page::Deployments.path() attr:class="button button--primary">
                    "All deployments"
                </A>
            </EmptyState>
        </div>
    }
}

#[component]
fn DeploymentView(
    info: Memo<DeploymentInfo>,
    versions: Memo<Vec<DeploymentVersionInfo>>,
    events: Memo<Vec<DeploymentEventInfo>>,
    reload: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let id = info.with_untracked(|i| i.id.clone());
    Effect::new(move || info.with(|i| set_document_title(&i.name)));

    let acting = RwSignal::new(None::<Action>);
    let confirm_delete = RwSignal::new(false);
    let run = {
        let id = id.clone();
        move |action: Action| {
            if acting.get_untracked().is_some() {
                return;
            }
            acting.set(Some(action));
            let id = id.clone();
            let navigate = navigate.clone();
            spawn_local(async move {
                let result = deployments::act(&id, action).await;
                acting.set(None);
                match result {
                    Ok(updated) if action == Action::Delete => {
                        confirm_delete.set(false);
                        toasts.success(&format!("Deleting {}", updated.name));
                        navigate(Page::Deployments.path(), NavigateOptions::default());
                    }
                    Ok(_) => reload.run(()),
                    Err(e) => {
                        toasts.api_error(&format!("Could not {} the deployment", action.verb()), &e)
                    }
                }
            });
        }
    };
    let run = StoredValue::new(run);
    let status = Signal::derive(move || info.with(|i| i.status.clone()));
    let desired = move || info.with(|i| i.desired.clone());
    let busy_with = move |action: Action| acting.get() == Some(action);

    let action_button =
        move |action: Action, label: &'static str, enabled: Signal<bool>, class: &'static str| {
            view! {
                <button
                    type="button"
                    class=format!("button button--small {class}")
                    data-testid=format!("action-{}", action.verb())
                    disabled=move || !enabled.get() || acting.get().is_some()
                    aria-busy=move || busy_with(action).to_string()
                    on:click=move |_| {
                        if action == Action::Delete {
                            confirm_delete.set(true);
                        } else {
                            run.with_value(|run| run(action));
                        }
                    }
                >
                    {move || busy_with(action).then(|| view! { <Spinner /> })}
                    {label}
                </button>
            }
        };

    view! {
        <div class="page" data-testid="page-deployment" data-id=id.clone()>
            <header class="page-header">
                <div>
                    <p class="deploy-breadcrumb small">
                        <A href=Page::Deployments.path()>"Deployments"</A>
                        " /"
                    </p>
                    <h1 class="page-title" data-testid="page-title">
                        {move || info.with(|i| i.name.clone())}
                    </h1>
                    <p class="page-subtitle">
                        {move || {
                            let i = info.get();
                            view! {
                                <A href=model_path(&i.model_id) attr:class="mono" attr:data-testid="deployment-model">
                                    {i.model_id.clone()}
                                </A>
                                " · "
                                {i.target.label()}
                                " · "
                                {i.task}
                            }
                        }}
                    </p>
                </div>
                <div class="page-actions deploy-actions-bar">
                    <A
                        href=playground_path(&id, None)
                        attr:class="button button--small"
                        attr:data-testid="open-playground"
                        attr:title="Call it with a form for its task, and copy the call as code"
                    >
                        <Icon kind=IconKind::Playground class="button-icon" />
                        "Playground"
                    </A>
                    {action_button(Action::Pause, "Pause", Signal::derive(move || desired() == "running"), "")}
                    {action_button(Action::Resume, "Resume", Signal::derive(move || desired() == "paused"), "")}
                    {action_button(Action::Retry, "Retry", Signal::derive(move || status.get() == "failed"), "")}
                    {action_button(Action::Delete, "Delete", Signal::derive(move || desired() != "deleted"), "button--danger-quiet")}
                </div>
            </header>
            <div class="stack">
                <StatusCard info=info />
                <div class="grid grid--2">
                    <OverviewCard info=info />
                    <ScalingCard info=info reload=reload />
                </div>
                {move || {
                    info.with(|i| {
                        i.target == hfb_shared::deployments::TargetKind::Local
                            && matches!(i.task.as_str(), "feature-extraction" | "sentence-similarity")
                    })
                        .then(|| view! { <TryCard info=info /> })
                }}
                <VersionsCard info=info versions=versions reload=reload />
                <EventsCard events=events />
            </div>
            <ConfirmDialog
                open=confirm_delete
                on_close=move |()| confirm_delete.set(false)
                on_confirm=move |()| run.with_value(|run| run(Action::Delete))
                title="Delete this deployment?"
                message=Signal::derive(move || {
                    info.with(|i| {
                        format!(
                            "“{}” stops serving and is torn down at {}. Its versions and events go with it. This cannot be undone.",
                            i.name,
                            i.target.label(),
                        )
                    })
                })
                confirm_label="Delete deployment"
                id="confirm-delete-deployment"
                busy=Signal::derive(move || acting.get() == Some(Action::Delete))
            />
        </div>
    }
}

#[component]
fn StatusCard(info: Memo<DeploymentInfo>) -> impl IntoView {
    let status = Signal::derive(move || info.with(|i| i.status.clone()));
    let reconciling = Signal::derive(move || info.with(|i| i.reconciling));
    let coming_up = move || info.with(|i| i.desired == "running" && is_coming_up(&i.status));
    view! {
        <section class="card deploy-status-card" data-testid="deployment-status-card">
            <div class="progress-bar deploy-progress-bar" class:progress-bar--on=move || reconciling.get()></div>
            <div class="card-body">
                <div class="deploy-status-row">
                    <DeployStatusBadge status=status reconciling=reconciling testid="deployment-status" />
                    <span class="deploy-version" data-testid="deployment-version">
                        {move || format!("version {}", info.with(|i| i.current_version))}
                    </span>
                    {move || {
                        info.with(|i| match i.running_version {
                            Some(v) if v != i.current_version => Some(format!("running version {v}")),
                            _ => None,
                        })
                            .map(|text| view! { <span class="chip">{text}</span> })
                    }}
                </div>
                <p class="deploy-status-message" data-testid="deployment-status-message">
                    {move || {
                        info.with(|i| {
                            i.status_message
                                .clone()
                                .unwrap_or_else(|| crate::components::deploy_status::status_meaning(&i.status).to_owned())
                        })
                    }}
                </p>
                {move || coming_up().then(|| view! { <DeployProgress status=status /> })}
                {move || {
                    (status.get() == "failed")
                        .then(|| {
                            view! {
                                <p class="callout deploy-callout--failed" data-testid="deployment-failed">
                                    <Icon kind=IconKind::Alert />
                                    <span>"The target reported a failure. Fix the cause (credentials, model files, quota), then Retry; or change a setting, which retries too."</span>
                                </p>
                            }
                        })
                }}
            </div>
        </section>
    }
}

#[component]
fn OverviewCard(info: Memo<DeploymentInfo>) -> impl IntoView {
    let session = use_session();
    let me = move || session.with_user(|u| u.map(|u| u.id.clone()));
    view! {
        <Card title="Overview" icon=IconKind::Deployments>
            <dl class="fields">
                {move || {
                    let i = info.get();
                    let call = api::url(&format!("/v1/deployments/{}/infer", encode(&i.id)));
                    let by = if me().as_deref() == Some(i.created_by.as_str()) {
                        "you".to_owned()
                    } else {
                        short_id(&i.created_by)
                    };
                    view! {
                        <div class="field">
                            <dt class="field-label">"Model"</dt>
                            <dd class="field-value">
                                <A href=model_path(&i.model_id) attr:class="mono">{i.model_id.clone()}</A>
                                <span class="muted">{format!(" @ {}", i.spec.revision)}</span>
                            </dd>
                        </div>
                        <div class="field">
                            <dt class="field-label">"Target"</dt>
                            <dd class="field-value">{i.target.label()}</dd>
                        </div>
                        <div class="field">
                            <dt class="field-label">"Task"</dt>
                            <dd class="field-value mono">{i.task.clone()}</dd>
                        </div>
                        {(i.spec.instance_type.is_some() || i.spec.instance_size.is_some())
                            .then(|| {
                                view! {
                                    <div class="field">
                                        <dt class="field-label">"Instance"</dt>
                                        <dd class="field-value mono">
                                            {format!(
                                                "{} {}",
                                                i.spec.instance_type.clone().unwrap_or_default(),
                                                i.spec.instance_size.clone().unwrap_or_default(),
                                            )}
                                        </dd>
                                    </div>
                                }
                            })}
                        <div class="field">
                            <dt class="field-label">"Endpoint"</dt>
                            <dd class="field-value deploy-endpoint" data-testid="deployment-endpoint">
                                {match i.endpoint_url.clone() {
                                    Some(url) => view! {
                                        <a class="mono external-link" href=url.clone() target="_blank" rel="noopener noreferrer">{url.clone()}</a>
                                    }
                                    .into_any(),
                                    None => view! { <span class="mono">{format!("POST {call}")}</span> }.into_any(),
                                }}
                            </dd>
                        </div>
                        {(!i.spec.env.is_empty())
                            .then(|| {
                                view! {
                                    <div class="field">
                                        <dt class="field-label">"Environment"</dt>
                                        <dd class="field-value mono">{i.spec.env.keys().cloned().collect::<Vec<_>>().join(", ")}</dd>
                                    </div>
                                }
                            })}
                        <div class="field">
                            <dt class="field-label">"Created"</dt>
                            <dd class="field-value" title=i.created_at.clone()>
                                {format!("{} by {by}", format::date_time(&i.created_at))}
                            </dd>
                        </div>
                        <div class="field">
                            <dt class="field-label">"Updated"</dt>
                            <dd class="field-value" title=i.updated_at.clone()>{format::relative(&i.updated_at)}</dd>
                        </div>
                    }
                }}
            </dl>
        </Card>
    }
}

/// The first characters of an id, enough to tell people apart in a list.
fn short_id(id: &str) -> String {
    let short: String = id.chars().take(8).collect();
    if short.len() < id.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The scaling settings as a form. It sends the version it shows; a newer version made
/// elsewhere replaces untouched inputs, and a save based on an old one is refused (409).
#[component]
fn ScalingCard(info: Memo<DeploymentInfo>, reload: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let start = info.get_untracked();
    let base = RwSignal::new((start.current_version, start.spec.scaling.clone()));
    let inputs = ScalingInputs::new(&start.spec.scaling);
    let errors = FieldErrors::new();
    let busy = RwSignal::new(false);
    let conflict = RwSignal::new(None::<String>);
    let dirty = Memo::new(move |_| base.with(|(_, s)| !inputs.shows(s)));
    let target = Signal::derive(move || info.with(|i| i.target));
    let deleting = Signal::derive(move || info.with(|i| i.desired == "deleted"));

    let take_current = move || {
        let (version, scaling) =
            info.with_untracked(|i| (i.current_version, i.spec.scaling.clone()));
        inputs.set(&scaling);
        base.set((version, scaling));
        errors.clear();
        conflict.set(None);
    };
    // A version made elsewhere (a rollback, a colleague) replaces inputs nobody touched.
    Effect::new(move || {
        let version = info.with(|i| i.current_version);
        if base.with_untracked(|(v, _)| *v != version) && !dirty.get_untracked() {
            take_current();
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        conflict.set(None);
        let Some(scaling) = inputs.read(target.get_untracked(), errors) else {
            focus_first_invalid(SCALING_FORM);
            return;
        };
        let expected = base.with_untracked(|(v, _)| *v);
        let id = info.with_untracked(|i| i.id.clone());
        let request = UpdateDeploymentRequest {
            expected_version: Some(expected),
            scaling: Some(scaling),
            ..Default::default()
        };
        busy.set(true);
        spawn_local(async move {
            let result = deployments::update(&id, &request).await;
            busy.set(false);
            match result {
                Ok(updated) => {
                    if updated.current_version == expected {
                        toasts.info("Nothing changed: these are the current settings.");
                    } else {
                        toasts.success(&format!(
                            "Scaling saved as version {}",
                            updated.current_version
                        ));
                    }
                    inputs.set(&updated.spec.scaling);
                    base.set((updated.current_version, updated.spec.scaling));
                    reload.run(());
                }
                Err(e) if e.code == ErrorCode::Conflict => conflict.set(Some(e.message)),
                Err(e) => {
                    let mut shown = false;
                    for (field, message) in api::field_errors(&e) {
                        if let Some(form_field) = form_field_of(&field) {
                            errors.set(form_field, sentence(&message));
                            shown = true;
                        }
                    }
                    if shown {
                        focus_first_invalid(SCALING_FORM);
                    } else {
                        toasts.api_error("Could not save the scaling", &e);
                    }
                }
            }
        });
    };

    view! {
        <Card title="Scaling" icon=IconKind::Pulse testid="scaling-card".to_owned()>
            <form id=SCALING_FORM class="form" novalidate on:submit=submit>
                <p class="muted small" data-testid="scaling-summary">
                    {move || {
                        base.with(|(v, s)| format!("Version {v}: {}", scaling_summary(s)))
                    }}
                </p>
                <ScalingFields form=SCALING_FORM inputs=inputs errors=errors target=target disabled=deleting />
                {move || {
                    conflict
                        .get()
                        .map(|message| {
                            view! {
                                <div class="callout callout--warn" role="alert" data-testid="scaling-conflict">
                                    <Icon kind=IconKind::Alert />
                                    <div>
                                        <p>
                                            <strong>"Not saved: this deployment changed since you loaded it. "</strong>
                                            {move || {
                                                format!(
                                                    "Version {} is current now. Load its settings and make your change again.",
                                                    info.with(|i| i.current_version),
                                                )
                                            }}
                                        </p>
                                        <p class="muted small">{sentence(&message)}</p>
                                        <button
                                            type="button"
                                            class="button button--small"
                                            data-testid="scaling-load-current"
                                            on:click=move |_| take_current()
                                        >
                                            "Load the current settings"
                                        </button>
                                    </div>
                                </div>
                            }
                        })
                }}
                <div class="form-actions">
                    <SubmitButton
                        label="Save scaling"
                        busy=busy
                        testid="scaling-save"
                        disabled=Signal::derive(move || !dirty.get() || deleting.get())
                    />
                    <button
                        type="button"
                        class="button"
                        disabled=move || !dirty.get()
                        on:click=move |_| {
                            base.with_untracked(|(_, s)| inputs.set(s));
                            errors.clear();
                            conflict.set(None);
                        }
                    >
                        "Undo changes"
                    </button>
                </div>
            </form>
        </Card>
    }
}

/// A test call for a running local deployment: an embedding's size and norm
/// (feature-extraction), or the scores of sentences against a source (sentence-similarity).
#[component]
fn TryCard(info: Memo<DeploymentInfo>) -> impl IntoView {
    let toasts = use_toasts();
    let similarity = info.with_untracked(|i| i.task == "sentence-similarity");
    let text = RwSignal::new(if similarity {
        "A man is eating food.".to_owned()
    } else {
        "hfb deploys models with one click.".to_owned()
    });
    let others =
        RwSignal::new("A man is eating a piece of bread.\nA man is riding a horse.".to_owned());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<(TryResult, String)>);
    let ready = Signal::derive(move || {
        info.with(|i| {
            i.desired == "running" && i.running_version.is_some() && !is_coming_up(&i.status)
        })
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = text.get_untracked();
        if busy.get_untracked() || input.trim().is_empty() {
            return;
        }
        let sentences: Vec<String> = others.with_untracked(|o| {
            o.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if similarity && sentences.is_empty() {
            return;
        }
        let id = info.with_untracked(|i| i.id.clone());
        busy.set(true);
        let started = js_sys::Date::now();
        spawn_local(async move {
            let answer = if similarity {
                deployments::similarity(&id, &input, &sentences)
                    .await
                    .map(|scores| TryResult::Scores(sentences.into_iter().zip(scores).collect()))
            } else {
                deployments::embed(&id, &input).await.map(TryResult::Vector)
            };
            busy.set(false);
            match answer {
                Ok(answer) => {
                    let took = format::millis(js_sys::Date::now() - started);
                    result.set(Some((answer, took)));
                }
                Err(e) => {
                    result.set(None);
                    toasts.api_error("The test call failed", &e);
                }
            }
        });
    };
    view! {
        <Card title="Test it" icon=IconKind::Bolt testid="try-card".to_owned()>
            <form class="form deploy-try" novalidate on:submit=submit>
                <div class="form-field">
                    <label class="form-label" for="try-text">
                        {if similarity { "Source sentence" } else { "Text to embed" }}
                    </label>
                    <div class="deploy-try-row">
                        <input
                            class="input"
                            id="try-text"
                            data-testid="try-text"
                            autocomplete="off"
                            bind:value=text
                        />
                        <SubmitButton
                            label=if similarity { "Compare" } else { "Embed" }
                            busy=busy
                            class="button--primary"
                            testid="try-submit"
                            disabled=Signal::derive(move || !ready.get())
                        />
                    </div>
                </div>
                {similarity
                    .then(|| {
                        view! {
                            <div class="form-field">
                                <label class="form-label" for="try-sentences">"Sentences to score, one per line"</label>
                                <textarea
                                    class="input deploy-env"
                                    id="try-sentences"
                                    data-testid="try-sentences"
                                    rows="2"
                                    bind:value=others
                                ></textarea>
                            </div>
                        }
                    })}
                <p class="form-hint">
                    {move || {
                        if ready.get() {
                            "Calls the deployment in the Hugging Face task format; a scaled-to-zero model loads first."
                        } else {
                            "Available while the deployment runs."
                        }
                    }}
                </p>
                {move || result.get().map(|(answer, took)| answer.view(&took))}
            </form>
        </Card>
    }
}

/// What a test call answered.
#[derive(Debug, Clone, PartialEq)]
enum TryResult {
    /// One embedding.
    Vector(Vec<f64>),
    /// Each sentence with its score against the source.
    Scores(Vec<(String, f64)>),
}

impl TryResult {
    /// The answer, and `took` (how long the call took).
    fn view(self, took: &str) -> AnyView {
        match self {
            Self::Vector(v) => {
                let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
                view! {
                    <p class="deploy-try-result mono" data-testid="try-result">
                        {format!("{} dimensions · norm {norm:.4} · {took}", v.len())}
                    </p>
                }
                .into_any()
            }
            Self::Scores(scores) => view! {
                <div class="deploy-try-result" data-testid="try-result">
                    <ol class="deploy-try-scores">
                        {scores
                            .into_iter()
                            .map(|(sentence, score)| {
                                view! {
                                    <li data-testid="try-score" data-score=format!("{score:.6}")>
                                        <span class="mono">{format!("{score:.4}")}</span>
                                        " "
                                        {sentence}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                    <p class="muted small">{format!("cosine similarity · {took}")}</p>
                </div>
            }
            .into_any(),
        }
    }
}

#[component]
fn VersionsCard(
    info: Memo<DeploymentInfo>,
    versions: Memo<Vec<DeploymentVersionInfo>>,
    reload: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let rolling_back = RwSignal::new(None::<u32>);
    let rollback = move |version: u32| {
        if rolling_back.get_untracked().is_some() {
            return;
        }
        let id = info.with_untracked(|i| i.id.clone());
        rolling_back.set(Some(version));
        spawn_local(async move {
            let result = deployments::rollback(&id, version).await;
            rolling_back.set(None);
            match result {
                Ok(updated) => {
                    toasts.success(&format!(
                        "Rolled back to version {version} as version {}",
                        updated.current_version
                    ));
                    reload.run(());
                }
                Err(e) => toasts.api_error("Could not roll back", &e),
            }
        });
    };
    view! {
        <Card title="Versions" icon=IconKind::Tag testid="versions-card".to_owned()>
            <p class="muted small">"Every change of revision, scaling or environment is a new version; rolling back makes an earlier one current again, as a new version."</p>
            <div class="deploy-table-wrap">
                <table class="table table--stack deploy-versions" data-testid="versions-table">
                    <thead>
                        <tr>
                            <th scope="col">"Version"</th>
                            <th scope="col">"Change"</th>
                            <th scope="col">"Settings"</th>
                            <th scope="col">"Made"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || versions.get()
                            key=|v| v.version
                            children=move |v| {
                                let version = v.version;
                                let is_current = move || info.with(|i| i.current_version == version);
                                let is_running = move || info.with(|i| i.running_version == Some(version));
                                let mine = untrack(|| {
                                    session.with_user(|u| u.is_some_and(|u| u.id == v.created_by))
                                });
                                let by = if mine { "you".to_owned() } else { short_id(&v.created_by) };
                                view! {
                                    <tr
                                        data-testid="version-row"
                                        data-version=version.to_string()
                                        class:row--current=is_current
                                    >
                                        <td data-label="Version">
                                            <span class="deploy-version-number">{format!("v{version}")}</span>
                                            {move || is_current().then(|| view! { <span class="chip deploy-chip--current">"current"</span> })}
                                            {move || is_running().then(|| view! { <span class="chip">"running"</span> })}
                                        </td>
                                        <td data-label="Change">{v.note.clone()}</td>
                                        <td data-label="Settings" class="small">
                                            {format!("{} · revision {}", scaling_summary(&v.spec.scaling), v.spec.revision)}
                                        </td>
                                        <td data-label="Made" class="small" title=v.created_at.clone()>
                                            {format!("{} by {by}", format::date_time(&v.created_at))}
                                        </td>
                                        <td class="deploy-cell-actions">
                                            {move || {
                                                (!is_current())
                                                    .then(|| {
                                                        view! {
                                                            <button
                                                                type="button"
                                                                class="button button--small"
                                                                data-testid=format!("rollback-{version}")
                                                                disabled=move || rolling_back.get().is_some() || info.with(|i| i.desired == "deleted")
                                                                on:click=move |_| rollback(version)
                                                            >
                                                                {move || (rolling_back.get() == Some(version)).then(|| view! { <Spinner /> })}
                                                                "Roll back"
                                                            </button>
                                                        }
                                                    })
                                            }}
                                        </td>
                                    </tr>
                                }
                            }
                        />
                    </tbody>
                </table>
            </div>
        </Card>
    }
}

#[component]
fn EventsCard(events: Memo<Vec<DeploymentEventInfo>>) -> impl IntoView {
    let session = use_session();
    view! {
        <Card title="Events" icon=IconKind::Clock testid="events-card".to_owned()>
            <ol class="deploy-events" data-testid="deployment-events">
                {move || {
                    let me = session.with_user(|u| u.map(|u| u.id.clone()));
                    events
                        .get()
                        .into_iter()
                        .map(|e| {
                            let actor = match &e.actor {
                                None => "system".to_owned(),
                                Some(a) if me.as_deref() == Some(a.as_str()) => "you".to_owned(),
                                Some(a) => short_id(a),
                            };
                            view! {
                                <li class="deploy-event" data-testid="deployment-event" data-kind=e.kind.clone()>
                                    <time class="deploy-event-time small muted" datetime=e.at.clone() title=format::date_time(&e.at)>
                                        {format::clock_time_rfc3339(&e.at)}
                                    </time>
                                    <span class="chip deploy-event-kind">{e.kind.replace('_', " ")}</span>
                                    <span class="deploy-event-message">{e.message.clone()}</span>
                                    <span class="deploy-event-actor small muted">{actor}</span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ol>
        </Card>
    }
}
