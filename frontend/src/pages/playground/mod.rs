//! `/playground`: call one of the team's running deployments with a form that fits its
//! task, read the answer (embedding facts, similarity and label bars, entities, text),
//! the latency measured here and what the response headers say, and copy the same call
//! as curl or Python.
//!
//! The URL holds the state: `?deployment={id}` (or `?model={owner/name}`, where the
//! model page's Try leads) and `&task=` when a sentence-transformers deployment is called
//! for the other embedding task. The list follows the WebSocket feed, so a deployment
//! that finishes starting becomes callable without a reload.

mod outcome;
mod snippets;
mod task;

use hfb_shared::deployments::DeploymentInfo;
use hfb_shared::{ErrorCode, ErrorDetail};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde_json::Value;

use self::outcome::{OutcomeView, interpret};
use self::snippets::{KEY_VARIABLE, Language, SnippetContext};
use self::task::{
    Built, FormValues, INPUTS, PARAMETERS, PlayTask, SENTENCES, SOURCE, build_request,
    sentence_lines, server_field_error,
};
use crate::api::deployments::{self, InferAnswer, InferFailure};
use crate::api::ws::use_live_connection;
use crate::api::{self, encode};
use crate::components::card::LoadFailed;
use crate::components::copy_button::CopyButton;
use crate::components::deploy_status::{DeployStatusBadge, is_coming_up, status_text};
use crate::components::empty_state::EmptyState;
use crate::components::form::{
    FieldError, FieldErrors, Spinner, SubmitButton, focus_first_invalid,
};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::require_auth::RequireAuth;
use crate::components::skeleton::{SkeletonCard, SkeletonLine};
use crate::format;
use crate::pages::deployment::deployment_path;
use crate::pages::model::deploy_path;
use crate::pages::{Page, model_path};

/// The form's id; its fields are `playground-{field}`.
const FORM_ID: &str = "playground-form";

/// `/playground?deployment={id}`, with `&task=` when not the deployment's own task.
pub fn playground_path(deployment_id: &str, task: Option<&str>) -> String {
    let mut path = format!(
        "{}?deployment={}",
        Page::Playground.path(),
        encode(deployment_id)
    );
    if let Some(task) = task {
        path.push_str("&task=");
        path.push_str(&encode(task));
    }
    path
}

/// Whether calls reach the deployment now: the server's own rule (asked to run, and a
/// version applied at the target). A deployment scaled to zero counts: a call loads it.
pub fn is_callable(d: &DeploymentInfo) -> bool {
    d.desired == "running" && d.running_version.is_some()
}

/// Which deployment the URL points at.
#[derive(Debug, Clone, PartialEq)]
enum Selection {
    /// No deployment asked for, and none callable to offer.
    Nothing,
    Deployment(Box<DeploymentInfo>),
    /// `?deployment=` names no deployment of the team.
    UnknownId(String),
    /// `?model=` names a model the team has no deployment of.
    UnknownModel(String),
}

/// Resolves `?deployment=` or `?model=` against the team's deployments (newest first):
/// for a model, a running deployment before one scaled to zero before one that cannot
/// take calls yet; with neither, the first callable deployment.
fn select(rows: &[DeploymentInfo], id: Option<&str>, model: Option<&str>) -> Selection {
    let rank = |d: &DeploymentInfo| match (is_callable(d), d.status == "running") {
        (true, true) => 0,
        (true, false) => 1,
        _ => 2,
    };
    if let Some(id) = id {
        return rows.iter().find(|d| d.id == id).map_or_else(
            || Selection::UnknownId(id.to_owned()),
            |d| Selection::Deployment(Box::new(d.clone())),
        );
    }
    if let Some(model) = model {
        return rows
            .iter()
            .filter(|d| d.model_id.eq_ignore_ascii_case(model) && d.desired != "deleted")
            .min_by_key(|d| rank(d))
            .map_or_else(
                || Selection::UnknownModel(model.to_owned()),
                |d| Selection::Deployment(Box::new(d.clone())),
            );
    }
    rows.iter()
        .filter(|d| is_callable(d))
        .min_by_key(|d| rank(d))
        .map_or(Selection::Nothing, |d| {
            Selection::Deployment(Box::new(d.clone()))
        })
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Loading,
    Failed(ErrorDetail),
    /// Nothing the team could call.
    Empty,
    Ready,
}

/// What a call is for: the deployment and the task it was called as. An answer is shown
/// only while its key is the page's.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunKey {
    deployment_id: String,
    task: PlayTask,
}

/// One call and its answer.
#[derive(Debug, Clone, PartialEq)]
struct RunRecord {
    key: RunKey,
    request: Value,
    /// From sending to the whole answer read, measured in the browser.
    latency_ms: f64,
    answer: Result<InferAnswer, InferFailure>,
}

/// The form's text for one task, kept while other tasks or deployments are tried.
#[derive(Clone, Copy)]
struct Draft {
    text: RwSignal<String>,
    source: RwSignal<String>,
    sentences: RwSignal<String>,
    json_inputs: RwSignal<String>,
    parameters: RwSignal<String>,
}

impl Draft {
    fn new(task: &PlayTask) -> Self {
        let v = FormValues::example(task);
        Self {
            text: RwSignal::new(v.text),
            source: RwSignal::new(v.source),
            sentences: RwSignal::new(v.sentences),
            json_inputs: RwSignal::new(v.json_inputs),
            parameters: RwSignal::new(v.parameters),
        }
    }

    /// The values (tracked).
    fn values(&self) -> FormValues {
        FormValues {
            text: self.text.get(),
            source: self.source.get(),
            sentences: self.sentences.get(),
            json_inputs: self.json_inputs.get(),
            parameters: self.parameters.get(),
        }
    }
}

/// A draft per task form.
#[derive(Clone, Copy)]
struct Drafts {
    embed: Draft,
    similarity: Draft,
    classify: Draft,
    tokens: Draft,
    generate: Draft,
    other: Draft,
}

impl Drafts {
    fn new() -> Self {
        Self {
            embed: Draft::new(&PlayTask::FeatureExtraction),
            similarity: Draft::new(&PlayTask::SentenceSimilarity),
            classify: Draft::new(&PlayTask::TextClassification),
            tokens: Draft::new(&PlayTask::TokenClassification),
            generate: Draft::new(&PlayTask::TextGeneration),
            other: Draft::new(&PlayTask::Other(String::new())),
        }
    }

    fn of(&self, task: &PlayTask) -> Draft {
        match task {
            PlayTask::FeatureExtraction => self.embed,
            PlayTask::SentenceSimilarity => self.similarity,
            PlayTask::TextClassification => self.classify,
            PlayTask::TokenClassification => self.tokens,
            PlayTask::TextGeneration => self.generate,
            PlayTask::Other(_) => self.other,
        }
    }
}

/// Everything the parts of the page share; all handles, so it is `Copy`.
#[derive(Clone, Copy)]
struct Play {
    rows: Memo<Option<Vec<DeploymentInfo>>>,
    selection: Memo<Option<Selection>>,
    selected: Memo<Option<DeploymentInfo>>,
    selected_id: Memo<Option<String>>,
    choices: Memo<Vec<PlayTask>>,
    task: Memo<PlayTask>,
    wanted_model: Memo<Option<String>>,
    drafts: Drafts,
    built: Memo<Built>,
    errors: FieldErrors,
    /// A call for the deployment and task shown is under way.
    busy: Signal<bool>,
    /// The last answer for the deployment and task shown.
    shown_run: Memo<Option<RunRecord>>,
    run: Callback<()>,
    pick: Callback<String>,
    choose_task: Callback<PlayTask>,
}

#[component]
pub fn Playground() -> impl IntoView {
    view! {
        <RequireAuth>
            <PlaygroundPage />
        </RequireAuth>
    }
}

/// A high-resolution clock for latencies, in milliseconds.
fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

#[component]
fn PlaygroundPage() -> impl IntoView {
    let live = use_live_connection();
    let query = use_query_map();
    let navigate = use_navigate();

    let (list, rows) = deployments::live_list(live);

    let param = move |name: &'static str| {
        Memo::new(move |_| {
            query
                .with(|q| q.get(name))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    let wanted_id = param("deployment");
    let wanted_model = param("model");
    let wanted_task = param("task");

    let selection = Memo::new(move |_| {
        let id = wanted_id.get();
        let model = wanted_model.get();
        rows.with(|r| {
            r.as_ref()
                .map(|rows| select(rows, id.as_deref(), model.as_deref()))
        })
    });
    let selected = Memo::new(move |_| match selection.get() {
        Some(Selection::Deployment(d)) => Some(*d),
        _ => None,
    });
    let selected_id = Memo::new(move |_| selected.with(|d| d.as_ref().map(|d| d.id.clone())));
    let own_task = Memo::new(move |_| selected.with(|d| d.as_ref().map(|d| d.task.clone())));
    let choices = Memo::new(move |_| {
        own_task
            .get()
            .map(|t| PlayTask::choices(&t))
            .unwrap_or_default()
    });
    let task = Memo::new(move |_| {
        let own = own_task.get().map(|t| PlayTask::parse(&t));
        let wanted = wanted_task.get().map(|t| PlayTask::parse(&t));
        match (own, wanted) {
            (Some(_), Some(w)) if choices.with(|c| c.contains(&w)) => w,
            (Some(own), _) => own,
            (None, _) => PlayTask::FeatureExtraction,
        }
    });

    // Nothing asked for: the first callable deployment, written into the URL.
    {
        let navigate = navigate.clone();
        Effect::new(move || {
            if wanted_id.get().is_some() || wanted_model.get().is_some() {
                return;
            }
            if let Some(id) = selected_id.get() {
                navigate(
                    &playground_path(&id, None),
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..Default::default()
                    },
                );
            }
        });
    }

    let drafts = Drafts::new();
    let built = Memo::new(move |_| {
        let task = task.get();
        build_request(&task, &drafts.of(&task).values())
    });
    let errors = FieldErrors::new();
    let key = Memo::new(move |_| {
        selected_id.get().map(|deployment_id| RunKey {
            deployment_id,
            task: task.get(),
        })
    });
    // The call under way (one at a time; a newer one supersedes it) and its number.
    let running = RwSignal::new(None::<(u64, RunKey)>);
    let calls = StoredValue::new(0_u64);
    let last_run = RwSignal::new(None::<RunRecord>);
    let busy = Signal::derive(move || {
        running.with(|r| {
            r.as_ref()
                .map(|(_, k)| k)
                .is_some_and(|k| key.with(|c| c.as_ref() == Some(k)))
        })
    });
    // Derived rather than cleared by an effect: another deployment or task shows no
    // answer, and coming back shows its last one again.
    let shown_run = Memo::new(move |_| {
        last_run.with(|r| {
            r.as_ref()
                .filter(|r| key.with(|k| k.as_ref() == Some(&r.key)))
                .cloned()
        })
    });

    let run = Callback::new(move |()| {
        if busy.get_untracked() {
            return;
        }
        let Some(deployment) = selected.get_untracked() else {
            return;
        };
        let task = task.get_untracked();
        let built = untrack(|| build_request(&task, &drafts.of(&task).values()));
        errors.clear();
        if !built.problems.is_empty() {
            for (field, message) in &built.problems {
                errors.set(field, message.clone());
            }
            focus_first_invalid(FORM_ID);
            return;
        }
        if !is_callable(&deployment) {
            return;
        }
        calls.update_value(|n| *n += 1);
        let number = calls.get_value();
        let run_key = RunKey {
            deployment_id: deployment.id.clone(),
            task: task.clone(),
        };
        running.set(Some((number, run_key.clone())));
        let request = built.body;
        let started = now_ms();
        spawn_local(async move {
            let answer = deployments::infer(&deployment.id, &request).await;
            let latency_ms = now_ms() - started;
            // Superseded by a newer call (or the page is gone): drop the answer.
            if running.try_with_untracked(|r| r.as_ref().map(|(n, _)| *n)) != Some(Some(number)) {
                return;
            }
            running.set(None);
            let still_shown =
                key.try_with_untracked(|k| k.as_ref() == Some(&run_key)) == Some(true);
            if let Err(failure) = &answer
                && still_shown
            {
                let mut shown = false;
                for (field, message) in api::field_errors(&failure.error) {
                    if let Some((form_field, text)) = server_field_error(&task, &field, &message) {
                        errors.set(form_field, text);
                        shown = true;
                    }
                }
                if shown {
                    focus_first_invalid(FORM_ID);
                }
            }
            last_run.set(Some(RunRecord {
                key: run_key,
                request,
                latency_ms,
                answer,
            }));
        });
    });

    let pick = {
        let navigate = navigate.clone();
        Callback::new(move |id: String| {
            if selected_id.get_untracked().as_deref() != Some(id.as_str()) {
                errors.clear();
                navigate(&playground_path(&id, None), NavigateOptions::default());
            }
        })
    };
    let choose_task = Callback::new(move |chosen: PlayTask| {
        let Some(d) = selected.get_untracked() else {
            return;
        };
        let own = PlayTask::parse(&d.task);
        let param = (chosen != own).then(|| chosen.as_str().to_owned());
        errors.clear();
        navigate(
            &playground_path(&d.id, param.as_deref()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    });

    let play = Play {
        rows,
        selection,
        selected,
        selected_id,
        choices,
        task,
        wanted_model,
        drafts,
        built,
        errors,
        busy,
        shown_run,
        run,
        pick,
        choose_task,
    };

    let phase = Memo::new(move |_| match selection.get() {
        None => match list.get() {
            Some(Err(e)) => Phase::Failed(e),
            _ => Phase::Loading,
        },
        Some(sel) => {
            let any_callable = rows.with(|r| r.as_ref().is_some_and(|r| r.iter().any(is_callable)));
            if any_callable || matches!(sel, Selection::Deployment(_)) {
                Phase::Ready
            } else {
                Phase::Empty
            }
        }
    });

    let actions = move || {
        view! {
            <A href=Page::ApiKeys.path() attr:class="button button--small" attr:data-testid="playground-api-keys">
                <Icon kind=IconKind::Key class="button-icon" />
                "API keys"
            </A>
        }
    };

    view! {
        <div class="page" data-testid="page-playground">
            <PageHeader
                title=Page::Playground.title()
                subtitle="Call a running deployment, read its answer, and copy the same call as code."
                actions=actions
            />
            {move || match phase.get() {
                Phase::Loading => view! { <PlaygroundSkeleton /> }.into_any(),
                Phase::Failed(e) => {
                    view! { <LoadFailed title="Deployments" error=e retry=move |()| list.refetch() /> }
                        .into_any()
                }
                Phase::Empty => view! { <NothingRunning play=play /> }.into_any(),
                Phase::Ready => view! { <Workbench play=play /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn PlaygroundSkeleton() -> impl IntoView {
    view! {
        <div class="pg-layout" aria-busy="true" aria-label="Loading the deployments" data-testid="playground-loading">
            <div class="card card--skeleton">
                <div class="card-body skeleton-lines">
                    <SkeletonLine width="60%" height="1rem" />
                    <SkeletonLine width="90%" />
                    <SkeletonLine width="75%" />
                    <SkeletonLine width="85%" />
                </div>
            </div>
            <div class="stack">
                <SkeletonCard lines=4 />
                <SkeletonCard lines=2 />
            </div>
        </div>
    }
}

/// No deployment the team could call: where to get one.
#[component]
fn NothingRunning(play: Play) -> impl IntoView {
    let starting = Memo::new(move |_| {
        play.rows.with(|r| {
            r.as_ref().map_or(0, |rows| {
                rows.iter()
                    .filter(|d| d.desired == "running" && !is_callable(d))
                    .count()
            })
        })
    });
    move || {
        let model = play.wanted_model.get();
        let (title, message) = match &model {
            Some(model) => (
                format!("No running deployment of {model}"),
                "Deploy it, then try it here: it shows up as soon as it runs.".to_owned(),
            ),
            None => (
                "Nothing running to try".to_owned(),
                "Deploy a model from the catalog; once it runs, call it here with a form for its task and copy the same call as curl or Python.".to_owned(),
            ),
        };
        view! {
            <div data-testid="playground-empty">
                <EmptyState icon=Page::Playground.icon() title=title message=message>
                    {move || {
                        let n = starting.get();
                        (n > 0)
                            .then(|| {
                                view! {
                                    <p class="pg-starting small" data-testid="playground-starting">
                                        <Spinner />
                                        {if n == 1 {
                                            "One deployment is starting; it appears here when it runs.".to_owned()
                                        } else {
                                            format!("{n} deployments are starting; they appear here when they run.")
                                        }}
                                    </p>
                                }
                            })
                    }}
                    <div class="empty-state-actions">
                        {model
                            .clone()
                            .map(|model| {
                                view! {
                                    <a class="button button--primary" href=deploy_path(&model) data-testid="playground-deploy-model">
                                        <Icon kind=IconKind::Deployments class="button-icon" />
                                        "Deploy it"
                                    </a>
                                }
                            })}
                        <A
                            href=Page::Catalog.path()
                            attr:class=if model.is_some() { "button" } else { "button button--primary" }
                            attr:data-testid="playground-empty-catalog"
                        >
                            <Icon kind=IconKind::Catalog class="button-icon" />
                            "Browse the catalog"
                        </A>
                        <A href=Page::Deployments.path() attr:class="button" attr:data-testid="playground-empty-deployments">
                            "Deployments"
                        </A>
                    </div>
                </EmptyState>
            </div>
        }
    }
}

/// The picker, the request, the response and the code.
#[component]
fn Workbench(play: Play) -> impl IntoView {
    // The cards stay while another deployment is picked: they follow it, and keep the
    // chosen snippet language.
    let has_selection = Memo::new(move |_| play.selected_id.with(Option::is_some));
    view! {
        <div class="pg-layout">
            <Picker play=play />
            <div class="stack pg-main">
                {move || match play.selection.get() {
                    Some(Selection::UnknownModel(model)) => Some(
                        view! {
                            <div class="callout callout--warn" role="note" data-testid="playground-missing">
                                <Icon kind=IconKind::Info />
                                <p>
                                    "Your team has no deployment of "
                                    <span class="mono">{model.clone()}</span>
                                    ". "
                                    <a href=deploy_path(&model) data-testid="playground-deploy-model">"Deploy it"</a>
                                    ", or pick a running deployment."
                                </p>
                            </div>
                        }
                        .into_any(),
                    ),
                    Some(Selection::UnknownId(_)) => Some(
                        view! {
                            <div class="callout callout--warn" role="note" data-testid="playground-missing">
                                <Icon kind=IconKind::Info />
                                <p>"No deployment with this id in your team (deleted, or in another team). Pick one of the running deployments."</p>
                            </div>
                        }
                        .into_any(),
                    ),
                    _ => None,
                }}
                {move || {
                    if has_selection.get() {
                        view! {
                            <RequestCard play=play />
                            <ResponseCard play=play />
                            <CodeCard play=play />
                        }
                        .into_any()
                    } else {
                        view! {
                            <section class="card" data-testid="playground-pick">
                                <div class="card-body pg-placeholder muted">
                                    "Pick a deployment to call it."
                                </div>
                            </section>
                        }
                        .into_any()
                    }
                }}
            </div>
        </div>
    }
}

/// The callable deployments (and the selected one even when it cannot take calls).
#[component]
fn Picker(play: Play) -> impl IntoView {
    let shown = Memo::new(move |_| {
        let selected = play.selected_id.get();
        play.rows.with(|r| {
            r.as_ref()
                .map(|rows| {
                    rows.iter()
                        .filter(|d| is_callable(d) || selected.as_deref() == Some(d.id.as_str()))
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let not_running = Memo::new(move |_| {
        play.rows.with(|r| {
            r.as_ref().map_or(0, |rows| {
                rows.iter()
                    .filter(|d| !is_callable(d) && d.desired != "deleted")
                    .count()
            })
        })
    });
    view! {
        <section class="card pg-picker-card">
            <header class="card-header">
                <h2 class="card-title">
                    <Icon kind=IconKind::Deployments class="card-icon" />
                    "Deployment"
                </h2>
            </header>
            <div class="pg-picker" role="group" aria-label="Deployments you can call" data-testid="playground-picker">
                <For
                    each=move || shown.get()
                    key=|d| (d.id.clone(), d.status.clone(), d.reconciling, d.name.clone())
                    children=move |d| {
                        let id = d.id.clone();
                        let is_selected = {
                            let id = id.clone();
                            Signal::derive(move || play.selected_id.with(|s| s.as_deref() == Some(id.as_str())))
                        };
                        let target = d.target.label();
                        view! {
                            <button
                                type="button"
                                class="pg-option"
                                class:pg-option--selected=move || is_selected.get()
                                aria-pressed=move || is_selected.get().to_string()
                                data-testid="playground-option"
                                data-id=id.clone()
                                data-selected=move || is_selected.get().to_string()
                                on:click=move |_| play.pick.run(id.clone())
                            >
                                <span class="pg-option-head">
                                    <span class="pg-option-name" data-testid="playground-option-name">{d.name.clone()}</span>
                                    <DeployStatusBadge status=d.status.clone() reconciling=d.reconciling testid="playground-option-status" />
                                </span>
                                <span class="pg-option-model mono small" data-testid="playground-option-model">{d.model_id.clone()}</span>
                                <span class="pg-option-meta small muted">
                                    <span class="mono" data-testid="playground-option-task">{d.task.clone()}</span>
                                    " · "
                                    {target}
                                </span>
                            </button>
                        }
                    }
                />
            </div>
            <footer class="pg-picker-footer small muted">
                {move || {
                    let n = not_running.get();
                    (n > 0)
                        .then(|| {
                            view! {
                                <span data-testid="playground-not-running">
                                    {if n == 1 { "1 more deployment is not running. ".to_owned() } else { format!("{n} more deployments are not running. ") }}
                                    <A href=Page::Deployments.path()>"See them"</A>
                                </span>
                            }
                        })
                }}
                <A href=Page::Catalog.path() attr:class="pg-picker-deploy">
                    <Icon kind=IconKind::Plus class="inline-icon" />
                    "Deploy another model"
                </A>
            </footer>
        </section>
    }
}

/// A labelled multi-line field of the form, with its error under it.
#[component]
fn TextArea(
    field: &'static str,
    #[prop(into)] label: String,
    value: RwSignal<String>,
    errors: FieldErrors,
    #[prop(default = 3)] rows: u32,
    #[prop(optional)] mono: bool,
    #[prop(optional, into)] hint: Option<Signal<String>>,
) -> impl IntoView {
    let id = format!("playground-{field}");
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = {
        let (error_id, hint_id) = (error_id.clone(), hint_id.clone());
        move || {
            let mut ids = Vec::new();
            if errors.get(field).is_some() {
                ids.push(error_id.clone());
            }
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="form-field" class:form-field--invalid=move || errors.get(field).is_some()>
            <label class="form-label" for=id.clone()>{label}</label>
            <textarea
                class="input pg-textarea"
                class:pg-textarea--mono=mono
                id=id.clone()
                name=field
                rows=rows.to_string()
                spellcheck=(!mono).to_string()
                aria-invalid=move || errors.get(field).is_some().then_some("true")
                aria-describedby=described_by
                data-testid=id.clone()
                bind:value=value
                on:input=move |_| errors.clear_field(field)
            ></textarea>
            {hint.map(|hint| view! { <p class="form-hint" id=hint_id>{move || hint.get()}</p> })}
            <FieldError id=error_id errors=errors name=field />
        </div>
    }
}

/// The fields of the task's form (the parameters editor comes after them).
fn task_fields(task: &PlayTask, draft: Draft, errors: FieldErrors) -> AnyView {
    match task {
        PlayTask::SentenceSimilarity => {
            let count = Signal::derive(move || {
                let n = draft.sentences.with(|s| sentence_lines(s).len());
                match n {
                    0 => "Each line is one sentence.".to_owned(),
                    1 => "1 sentence.".to_owned(),
                    n => format!("{n} sentences."),
                }
            });
            view! {
                <div class="form-field" class:form-field--invalid=move || errors.get(SOURCE).is_some()>
                    <label class="form-label" for="playground-source">"Source sentence"</label>
                    <input
                        class="input"
                        id="playground-source"
                        name=SOURCE
                        autocomplete="off"
                        aria-invalid=move || errors.get(SOURCE).is_some().then_some("true")
                        aria-describedby=move || errors.get(SOURCE).is_some().then_some("playground-source-error")
                        data-testid="playground-source"
                        bind:value=draft.source
                        on:input=move |_| errors.clear_field(SOURCE)
                    />
                    <FieldError id="playground-source-error".to_owned() errors=errors name=SOURCE />
                </div>
                <TextArea
                    field=SENTENCES
                    label="Sentences to compare with it, one per line"
                    value=draft.sentences
                    errors=errors
                    rows=4
                    hint=count
                />
            }
            .into_any()
        }
        PlayTask::Other(name) => {
            let hint = format!(
                "Sent as the request's inputs for {}: a JSON string, list or object.",
                if name.is_empty() {
                    "the task"
                } else {
                    name.as_str()
                }
            );
            view! {
                <TextArea
                    field=INPUTS
                    label="Inputs (JSON)"
                    value=draft.json_inputs
                    errors=errors
                    rows=5
                    mono=true
                    hint=Signal::stored(hint)
                />
            }
            .into_any()
        }
        other => {
            let label = match other {
                PlayTask::FeatureExtraction => "Text to embed",
                PlayTask::TextGeneration => "Prompt",
                _ => "Text",
            };
            view! {
                <TextArea field=INPUTS label=label value=draft.text errors=errors rows=3 />
            }
            .into_any()
        }
    }
}

/// Rewrites the parameters editor's JSON with indentation, when it parses.
fn pretty_json(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text.trim()).ok()?;
    serde_json::to_string_pretty(&value).ok()
}

#[component]
fn RequestCard(play: Play) -> impl IntoView {
    let info = move || play.selected.get();
    let callable =
        Signal::derive(move || play.selected.with(|d| d.as_ref().is_some_and(is_callable)));
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "Enter" {
            ev.prevent_default();
            play.run.run(());
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        play.run.run(());
    };
    let parameters_hint = Signal::derive(move || {
        format!(
            "Sent as the request's parameters; empty or {{}} sends none. This task takes: {}",
            play.task.with(PlayTask::parameter_hint)
        )
    });

    view! {
        <section class="card pg-request" data-testid="playground-request">
            <header class="card-header">
                <h2 class="card-title">
                    <Icon kind=IconKind::Playground class="card-icon" />
                    {move || {
                        info()
                            .map(|d| {
                                view! {
                                    <A href=deployment_path(&d.id) attr:data-testid="playground-deployment-name">
                                        {d.name.clone()}
                                    </A>
                                }
                            })
                    }}
                </h2>
                <div class="card-aside">
                    {move || {
                        info()
                            .map(|d| {
                                view! {
                                    <DeployStatusBadge status=d.status.clone() reconciling=d.reconciling testid="playground-status" />
                                }
                            })
                    }}
                </div>
            </header>
            <div class="card-body">
                <p class="pg-meta small muted">
                    {move || {
                        info()
                            .map(|d| {
                                view! {
                                    <A href=model_path(&d.model_id) attr:class="mono" attr:data-testid="playground-model">
                                        {d.model_id.clone()}
                                    </A>
                                    " · "
                                    {d.target.label()}
                                    " · "
                                    <span class="mono">{d.task.clone()}</span>
                                }
                            })
                    }}
                </p>
                {move || info().filter(|d| !is_callable(d)).map(|d| view! { <NotCallable info=d /> })}
                {move || {
                    let choices = play.choices.get();
                    (choices.len() > 1)
                        .then(|| {
                            view! {
                                <div class="pg-switch" role="group" aria-label="Task" data-testid="playground-tasks">
                                    {choices
                                        .into_iter()
                                        .map(|choice| {
                                            let key = choice.as_str().to_owned();
                                            let label = choice.label();
                                            let pressed = {
                                                let choice = choice.clone();
                                                move || play.task.with(|t| *t == choice)
                                            };
                                            view! {
                                                <button
                                                    type="button"
                                                    class="pg-switch-option"
                                                    class:pg-switch-option--on=pressed.clone()
                                                    aria-pressed=move || pressed().to_string()
                                                    data-testid=format!("playground-task-{key}")
                                                    title=key.clone()
                                                    on:click=move |_| play.choose_task.run(choice.clone())
                                                >
                                                    {label}
                                                </button>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                            }
                        })
                }}
                <form
                    id=FORM_ID
                    class="form pg-form"
                    novalidate
                    data-task=move || play.task.with(|t| t.as_str().to_owned())
                    on:submit=on_submit
                    on:keydown=on_keydown
                >
                    {move || {
                        let task = play.task.get();
                        task_fields(&task, play.drafts.of(&task), play.errors)
                    }}
                    {move || {
                        let draft = play.drafts.of(&play.task.get());
                        view! {
                            <TextArea
                                field=PARAMETERS
                                label="Parameters (JSON)"
                                value=draft.parameters
                                errors=play.errors
                                rows=2
                                mono=true
                                hint=parameters_hint
                            />
                            <div class="pg-json-tools">
                                <button
                                    type="button"
                                    class="link-button small"
                                    data-testid="playground-parameters-format"
                                    on:click=move |_| {
                                        match pretty_json(&draft.parameters.get_untracked()) {
                                            Some(pretty) => {
                                                draft.parameters.set(pretty);
                                                play.errors.clear_field(PARAMETERS);
                                            }
                                            None => play.errors.set(PARAMETERS, "Not valid JSON: nothing to format."),
                                        }
                                    }
                                >
                                    "Format JSON"
                                </button>
                            </div>
                        }
                    }}
                    <div class="form-actions pg-run-row">
                        <SubmitButton
                            label="Run"
                            busy=play.busy
                            testid="playground-run"
                            disabled=Signal::derive(move || !callable.get())
                        />
                        <span class="small muted pg-shortcut">
                            <kbd class="pg-kbd">"Ctrl"</kbd>
                            " / "
                            <kbd class="pg-kbd">"⌘"</kbd>
                            " + "
                            <kbd class="pg-kbd">"Enter"</kbd>
                            " runs from any field"
                        </span>
                    </div>
                </form>
            </div>
        </section>
    }
}

/// Why the selected deployment cannot take calls now, and what to do.
#[component]
fn NotCallable(info: DeploymentInfo) -> impl IntoView {
    let message = if info.desired == "paused" {
        "It is paused: resume it on its page to call it.".to_owned()
    } else if info.desired == "deleted" {
        "It is being deleted.".to_owned()
    } else if info.status == "failed" {
        "It failed to start: its page says why and can retry.".to_owned()
    } else if is_coming_up(&info.status) || info.running_version.is_none() {
        format!(
            "It is {}: it takes calls as soon as it runs, and this page updates by itself.",
            status_text(&info.status)
        )
    } else {
        format!("It cannot take calls while {}.", status_text(&info.status))
    };
    view! {
        <div class="callout callout--warn pg-not-callable" role="note" data-testid="playground-not-callable">
            <Icon kind=IconKind::Info />
            <p>
                {message}
                " "
                <A href=deployment_path(&info.id)>"Open the deployment"</A>
            </p>
        </div>
    }
}

#[component]
fn ResponseCard(play: Play) -> impl IntoView {
    view! {
        <section class="card pg-response" data-testid="playground-response" aria-live="polite" aria-busy=move || play.busy.get().to_string()>
            <header class="card-header">
                <h2 class="card-title">
                    <Icon kind=IconKind::Bolt class="card-icon" />
                    "Response"
                </h2>
                <div class="card-aside">
                    {move || play.busy.get().then(|| view! { <span class="pg-running small muted" data-testid="playground-running"><Spinner />"Running…"</span> })}
                </div>
            </header>
            <div class="card-body" class:pg-stale=move || play.busy.get()>
                {move || match play.shown_run.get() {
                    None => view! {
                        <p class="muted pg-placeholder" data-testid="playground-no-result">
                            "Run the form to see the answer here, with its latency and the tokens it took."
                        </p>
                    }
                    .into_any(),
                    Some(record) => view! { <RunView record=record /> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn RunView(record: RunRecord) -> impl IntoView {
    let latency = record.latency_ms;
    let headers = match &record.answer {
        Ok(a) => a.headers.clone(),
        Err(f) => f.headers.clone(),
    };
    // An error answer without the header still carries its request id in the body.
    let request_id = headers.request_id.clone().or_else(|| {
        record
            .answer
            .as_ref()
            .err()
            .and_then(|f| f.error.request_id.clone())
    });
    let metric = |label: &'static str, testid: &'static str, value: String| {
        view! {
            <div class="pg-metric">
                <dt>{label}</dt>
                <dd class="mono" data-testid=testid>{value}</dd>
            </div>
        }
    };
    let metrics = view! {
        <dl class="pg-metrics" data-testid="playground-metrics" data-cold-start=headers.cold_start.to_string()>
            <div class="pg-metric">
                <dt>"Latency"</dt>
                <dd class="mono" data-testid="playground-latency" data-ms=format!("{latency:.1}")>
                    {format::millis(latency)}
                </dd>
            </div>
            {headers.tokens.map(|t| metric("Tokens", "playground-tokens", t.to_string()))}
            {headers.attempts.map(|n| metric("Attempts", "playground-attempts", n.to_string()))}
            {headers
                .upstream_status
                .map(|s| metric("Upstream", "playground-upstream-status", format!("HTTP {s}")))}
            <div class="pg-metric pg-metric--chips">
                {headers
                    .cold_start
                    .then(|| {
                        view! {
                            <span class="chip chip--warn" data-testid="playground-cold-start" title="The model was loaded (or the target woken) by this call, so it took longer.">
                                "cold start"
                            </span>
                        }
                    })}
                {headers
                    .truncated
                    .filter(|n| *n > 0)
                    .map(|n| {
                        view! {
                            <span class="chip chip--warn" data-testid="playground-truncated" title="Inputs longer than the model takes were cut to its maximum length.">
                                {if n == 1 { "1 input truncated".to_owned() } else { format!("{n} inputs truncated") }}
                            </span>
                        }
                    })}
            </div>
            {request_id
                .map(|id| {
                    view! {
                        <div class="pg-metric pg-metric--id">
                            <dt>"Request"</dt>
                            <dd class="mono small" data-testid="playground-request-id">{id}</dd>
                        </div>
                    }
                })}
        </dl>
    };
    let body = match record.answer {
        Ok(answer) => {
            let raw = serde_json::to_string_pretty(&answer.body).unwrap_or_default();
            let outcome = interpret(&record.key.task, &record.request, &answer.body);
            view! { <OutcomeView outcome=outcome raw=raw /> }.into_any()
        }
        Err(failure) => view! { <CallError error=failure.error /> }.into_any(),
    };
    view! {
        {metrics}
        {body}
    }
}

/// A failed call: code, message, request id, and the field errors.
#[component]
fn CallError(error: ErrorDetail) -> impl IntoView {
    let fields = api::field_errors(&error);
    let code = error.code.as_str();
    let hint = match error.code {
        ErrorCode::Conflict => {
            Some("The deployment cannot take calls right now; its page says why.".to_owned())
        }
        ErrorCode::ServiceUnavailable | ErrorCode::RateLimited => {
            Some("The model is busy or loading; try again in a moment.".to_owned())
        }
        ErrorCode::Forbidden => Some("Your role in this team does not allow calls.".to_owned()),
        ErrorCode::Timeout => Some(format!(
            "The page stops waiting after {} s; a model that is loading or a slow remote target can take longer.",
            api::TIMEOUT_MS / 1000
        )),
        _ => None,
    };
    view! {
        <div class="callout pg-error" role="alert" data-testid="playground-error" data-code=code>
            <Icon kind=IconKind::Alert />
            <div class="pg-error-body">
                <p class="pg-error-message" data-testid="playground-error-message">{error.message.clone()}</p>
                <p class="small pg-error-meta">
                    <span class="chip mono" data-testid="playground-error-code">{code}</span>
                    {error
                        .request_id
                        .clone()
                        .map(|id| {
                            view! {
                                " request "
                                <span class="mono" data-testid="playground-error-request-id">{id}</span>
                            }
                        })}
                </p>
                {(!fields.is_empty())
                    .then(|| {
                        view! {
                            <ul class="pg-error-fields small">
                                {fields
                                    .into_iter()
                                    .map(|(field, message)| {
                                        view! {
                                            <li data-testid="playground-error-field" data-field=field.clone()>
                                                <span class="mono">{field.clone()}</span>
                                                ": "
                                                {message}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })}
                {hint.map(|h| view! { <p class="small muted">{h}</p> })}
            </div>
        </div>
    }
}

/// The call as curl and Python, following the form as it is typed.
#[component]
fn CodeCard(play: Play) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    let language = RwSignal::new(Language::Curl);
    let snippet = Memo::new(move |_| {
        let d = play.selected.get()?;
        let task = play.task.get();
        let language = language.get();
        Some(play.built.with(|built| {
            language.snippet(&SnippetContext {
                origin: &origin,
                deployment_id: &d.id,
                deployment_name: &d.name,
                model_id: &d.model_id,
                target: d.target,
                task: &task,
                body: &built.body,
            })
        }))
    });
    let text = Signal::derive(move || match snippet.get() {
        Some(Ok(code)) => code,
        _ => String::new(),
    });
    view! {
        <section class="card pg-code-card" data-testid="playground-code">
            <header class="card-header">
                <h2 class="card-title">
                    <Icon kind=IconKind::File class="card-icon" />
                    "Call it from code"
                </h2>
                <div class="card-aside">
                    <CopyButton text=text testid="snippet-copy" />
                </div>
            </header>
            <div class="card-body">
                <div class="pg-tabs" role="tablist" aria-label="Language">
                    {Language::ALL
                        .into_iter()
                        .map(|lang| {
                            view! {
                                <button
                                    type="button"
                                    role="tab"
                                    class="pg-tab"
                                    aria-selected=move || (language.get() == lang).to_string()
                                    aria-controls="playground-snippet"
                                    data-testid=format!("snippet-tab-{}", lang.key())
                                    on:click=move |_| language.set(lang)
                                >
                                    {lang.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                <div id="playground-snippet" role="tabpanel">
                    {move || match snippet.get() {
                        Some(Ok(code)) => view! {
                            <pre class="code-block pg-code" data-testid="snippet-code" data-lang=move || language.get().key()>
                                {code}
                            </pre>
                        }
                        .into_any(),
                        Some(Err(why)) => view! {
                            <p class="callout callout--warn" data-testid="snippet-note">
                                <Icon kind=IconKind::Info />
                                <span>{why}</span>
                            </p>
                        }
                        .into_any(),
                        None => ().into_any(),
                    }}
                </div>
                <p class="small muted pg-key-note">
                    {format!("${KEY_VARIABLE} is an API key with the inference scope: create one on the ")}
                    <A href=Page::ApiKeys.path() attr:data-testid="snippet-api-keys">"API keys"</A>
                    {format!(" page and export {KEY_VARIABLE}=hfb_… first. Your sign-in session is never put in a snippet.")}
                </p>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hfb_shared::deployments::{DeploymentSpec, Scaling, TargetKind};

    fn info(id: &str, model: &str, status: &str, running: bool) -> DeploymentInfo {
        DeploymentInfo {
            id: id.to_owned(),
            team_id: "t1".to_owned(),
            name: id.to_owned(),
            model_id: model.to_owned(),
            target: TargetKind::Local,
            task: "sentence-similarity".to_owned(),
            status: status.to_owned(),
            status_message: None,
            desired: if status == "paused" {
                "paused"
            } else {
                "running"
            }
            .to_owned(),
            current_version: 1,
            running_version: running.then_some(1),
            spec: DeploymentSpec {
                revision: "main".to_owned(),
                scaling: Scaling {
                    min_replicas: 0,
                    max_replicas: 1,
                    scale_to_zero_after_secs: 900,
                    target_concurrency: 8,
                },
                instance_type: None,
                instance_size: None,
                env: Default::default(),
            },
            endpoint_url: None,
            reconciling: false,
            created_by: "u".to_owned(),
            created_at: "2026-01-01T00:00:00.000Z".to_owned(),
            updated_at: "2026-01-01T00:00:00.000Z".to_owned(),
        }
    }

    fn picked(selection: Selection) -> Option<String> {
        match selection {
            Selection::Deployment(d) => Some(d.id),
            _ => None,
        }
    }

    #[test]
    fn callable_means_asked_to_run_with_a_version_applied() {
        assert!(is_callable(&info("a", "o/m", "running", true)));
        assert!(is_callable(&info("a", "o/m", "scaled_to_zero", true)));
        assert!(!is_callable(&info("a", "o/m", "provisioning", false)));
        assert!(!is_callable(&info("a", "o/m", "paused", true)));
    }

    #[test]
    fn the_url_picks_the_deployment() {
        let rows = vec![
            info("starting", "o/m", "initializing", false),
            info("idle", "o/m", "scaled_to_zero", true),
            info("warm", "o/m", "running", true),
            info("other", "o/x", "running", true),
        ];
        // Nothing asked for: the first running one.
        assert_eq!(picked(select(&rows, None, None)), Some("warm".into()));
        assert_eq!(
            picked(select(&rows, Some("idle"), None)),
            Some("idle".into())
        );
        // An id wins over a model, and any status can be asked for by id.
        assert_eq!(
            picked(select(&rows, Some("starting"), Some("o/x"))),
            Some("starting".into())
        );
        assert_eq!(
            select(&rows, Some("gone"), None),
            Selection::UnknownId("gone".into())
        );
        // A model: its running deployment, case-insensitively.
        assert_eq!(
            picked(select(&rows, None, Some("O/M"))),
            Some("warm".into())
        );
        assert_eq!(
            picked(select(&rows, None, Some("o/x"))),
            Some("other".into())
        );
        assert_eq!(
            select(&rows, None, Some("o/none")),
            Selection::UnknownModel("o/none".into())
        );
        // A model whose only deployment is starting: that one, to follow it.
        let rows = vec![info("starting", "o/m", "initializing", false)];
        assert_eq!(
            picked(select(&rows, None, Some("o/m"))),
            Some("starting".into())
        );
        assert_eq!(select(&rows, None, None), Selection::Nothing);
    }
}
