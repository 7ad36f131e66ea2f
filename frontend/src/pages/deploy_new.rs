//! `/deployments/new?model={id}`: the one-click deploy. Everything but the model has a
//! default (the first configured target that serves the model's task, the target's
//! scaling), so "Deploy" is all it takes; the advanced section changes the rest.
//!
//! Targets this server cannot use are shown disabled with the reason (credentials to
//! set), instead of failing after the click.

use hfb_shared::ErrorDetail;
use hfb_shared::catalog::ModelDetail;
use hfb_shared::deployments::{CreateDeploymentRequest, TargetInfo, TargetKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, ApiResult, catalog, deployments};
use crate::components::card::{Card, LoadFailed};
use crate::components::deploy_fields::{
    ScalingFields, ScalingInputs, default_scaling, form_field_of, instance_problem,
    model_id_problem, name_from_model, name_problem, parse_env, revision_problem, scaling_summary,
};
use crate::components::form::{
    FieldError, FieldErrors, Spinner, SubmitButton, TextField, focus_first_invalid, sentence,
};
use crate::components::icon::{Icon, IconKind};
use crate::components::page_header::PageHeader;
use crate::components::require_auth::RequireAuth;
use crate::components::skeleton::SkeletonLine;
use crate::pages::deployment::deployment_path;
use crate::pages::{Page, model_path};
use crate::state::toast::{Toasts, use_toasts};

const FORM: &str = "deploy";

/// Fields inside the collapsed "advanced" section: an error there opens it.
const ADVANCED_FIELDS: [&str; 10] = [
    "name",
    "task",
    "revision",
    "min_replicas",
    "max_replicas",
    "scale_to_zero_after_secs",
    "target_concurrency",
    "instance_type",
    "instance_size",
    "env",
];

#[component]
pub fn DeployNew() -> impl IntoView {
    view! {
        <RequireAuth>
            <DeployNewPage />
        </RequireAuth>
    }
}

/// The target to preselect: the first configured one that serves `task`, else the first
/// configured one.
fn preferred_target(targets: &[TargetInfo], task: Option<&str>) -> Option<TargetKind> {
    let serves = |t: &&TargetInfo| task.is_none_or(|task| t.tasks.iter().any(|x| x == task));
    targets
        .iter()
        .filter(|t| t.configured)
        .find(serves)
        .or_else(|| targets.iter().find(|t| t.configured))
        .map(|t| t.kind)
}

/// `owner/name` split for the catalog route; `None` for ids the catalog cannot hold.
fn split_model_id(id: &str) -> Option<(String, String)> {
    let (owner, name) = id.split_once('/')?;
    (model_id_problem(id).is_none()).then(|| (owner.to_owned(), name.to_owned()))
}

#[component]
fn DeployNewPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let query = use_query_map();
    let preset = query
        .with_untracked(|q| q.get("model"))
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty());
    let model_fixed = preset.is_some();
    let model_id = RwSignal::new(preset.clone().unwrap_or_default());
    // The id looked up in the catalog: the preset one, or the typed one once the field is left.
    let looked_up = RwSignal::new(preset.unwrap_or_default());
    let model = LocalResource::new(move || {
        let id = looked_up.get();
        async move {
            match split_model_id(&id) {
                Some((owner, name)) => Some(catalog::detail(&owner, &name, true).await),
                None => None,
            }
        }
    });
    let model_task = Memo::new(move |_| {
        model.with(|m| match m {
            Some(Some(Ok(detail))) => detail.model.task.clone(),
            _ => None,
        })
    });

    let targets = LocalResource::new(deployments::targets);
    let target = RwSignal::new(None::<TargetKind>);
    let target_info = move |kind: TargetKind| -> Option<TargetInfo> {
        targets.with(|t| match t {
            Some(Ok(list)) => list.iter().find(|i| i.kind == kind).cloned(),
            _ => None,
        })
    };
    // Preselect once the targets (and the model's task, when it has one) are known.
    Effect::new(move || {
        let task = model_task.get();
        let Some(Ok(list)) = targets.get() else {
            return;
        };
        if target.get_untracked().is_none() {
            target.set(preferred_target(&list, task.as_deref()));
        }
    });

    let errors = FieldErrors::new();
    let advanced = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let task = RwSignal::new(String::new());
    let revision = RwSignal::new("main".to_owned());
    let instance_type = RwSignal::new(String::new());
    let instance_size = RwSignal::new(String::new());
    let env = RwSignal::new(String::new());
    let scaling_target = Signal::derive(move || target.get().unwrap_or(TargetKind::Local));
    // The server's defaults for the chosen target (they depend on the machine: a local
    // deployment gets a replica per core); the built-in ones until the targets load.
    let defaults = Memo::new(move |_| {
        let kind = scaling_target.get();
        target_info(kind).map_or_else(|| default_scaling(kind), |t| t.default_scaling)
    });
    let scaling = ScalingInputs::new(&default_scaling(TargetKind::Local));
    // Untouched scaling follows the defaults shown.
    let shown_defaults = StoredValue::new(default_scaling(TargetKind::Local));
    Effect::new(move || {
        let now = defaults.get();
        let before = shown_defaults.get_value();
        if now != before {
            if untrack(|| scaling.shows(&before)) {
                scaling.set(&now);
            }
            shown_defaults.set_value(now);
        }
    });
    let name_hint = if model_fixed {
        format!(
            "Empty: {} (with -2, -3… when taken).",
            name_from_model(&model_id.get_untracked())
        )
    } else {
        "Empty: derived from the model's name.".to_owned()
    };
    let busy = RwSignal::new(false);
    // The key of the last submitted request and the request it was for: the same request
    // again (a double submit, a retry after a lost answer) reuses it, so the server makes
    // one deployment; a changed request gets a new key.
    let last_key = StoredValue::new(None::<(String, String)>);

    let choose = move |kind: TargetKind| {
        target.set(Some(kind));
        errors.clear_field("target");
        errors.clear_field("task");
    };

    // What the chosen target cannot do with this model, said before the click.
    let task_problem = move || -> Option<String> {
        let kind = target.get()?;
        let info = target_info(kind)?;
        let wanted = task.with(|t| (!t.is_empty()).then(|| t.clone()));
        let wanted = wanted.or_else(|| model_task.get())?;
        (!info.tasks.contains(&wanted)).then(|| {
            format!(
                "{} cannot serve {wanted}; it serves {}.",
                info.label,
                info.tasks.join(", ")
            )
        })
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        errors.clear();
        let model = model_id.get_untracked().trim().to_owned();
        errors.check("model_id", model_id_problem(&model));
        let kind = target.get_untracked();
        match kind.and_then(|k| untrack(|| target_info(k))) {
            None => errors.set("target", "Choose where to deploy."),
            Some(info) if !info.configured => errors.set(
                "target",
                format!(
                    "{} is not configured: {}",
                    info.label,
                    info.reason.unwrap_or_default()
                ),
            ),
            Some(_) => {
                if let Some(problem) = untrack(task_problem) {
                    errors.set("target", problem);
                }
            }
        }
        let kind = kind.unwrap_or(TargetKind::Local);
        let name_text = name.get_untracked().trim().to_owned();
        errors.check("name", name_problem(&name_text));
        let revision_text = revision.get_untracked().trim().to_owned();
        errors.check("revision", revision_problem(&revision_text));
        let cloud = kind != TargetKind::Local;
        let itype = instance_type.get_untracked().trim().to_owned();
        let isize = instance_size.get_untracked().trim().to_owned();
        if cloud {
            errors.check("instance_type", instance_problem(&itype));
            errors.check("instance_size", instance_problem(&isize));
        }
        let env_vars = match parse_env(&env.get_untracked()) {
            Ok(vars) => Some(vars),
            Err(problem) => {
                errors.set("env", problem);
                None
            }
        };
        let scaling_settings = scaling.read(kind, errors);
        if !errors.is_empty() {
            if ADVANCED_FIELDS.iter().any(|f| errors.get(f).is_some()) {
                advanced.set(true);
            }
            focus_first_invalid(FORM);
            return;
        }
        let task_text = task.get_untracked();
        let request = CreateDeploymentRequest {
            model_id: model.clone(),
            name: (!name_text.is_empty()).then_some(name_text),
            target: Some(kind),
            task: (!task_text.is_empty()).then_some(task_text),
            revision: Some(revision_text),
            scaling: scaling_settings,
            instance_type: (cloud && !itype.is_empty()).then_some(itype),
            instance_size: (cloud && !isize.is_empty()).then_some(isize),
            env: env_vars.filter(|e| !e.is_empty()),
        };
        let body = serde_json::to_string(&request).unwrap_or_default();
        let key = match last_key.get_value() {
            Some((key, last_body)) if last_body == body => key,
            _ => {
                let key = deployments::new_idempotency_key();
                last_key.set_value(Some((key.clone(), body)));
                key
            }
        };
        busy.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = deployments::create(&request, &key).await;
            busy.set(false);
            match result {
                Ok(created) => {
                    toasts.success(&format!("Deploying {}", created.name));
                    navigate(&deployment_path(&created.id), NavigateOptions::default());
                }
                Err(e) => report(errors, advanced, &e, toasts),
            }
        });
    };

    let targets_view = move || match targets.get() {
        None => view! {
            <div class="deploy-targets" aria-busy="true">
                <SkeletonLine height="4.5rem" />
                <SkeletonLine height="4.5rem" />
            </div>
        }
        .into_any(),
        Some(Err(e)) => {
            view! { <LoadFailed title="Targets" error=e retry=move |()| targets.refetch() /> }
                .into_any()
        }
        Some(Ok(list)) => view! {
            <TargetChooser targets=list selected=target on_choose=choose />
        }
        .into_any(),
    };

    view! {
        <div class="page" data-testid="page-deploy-new">
            <PageHeader
                title="Deploy a model"
                subtitle="One click with sensible defaults; open the advanced settings to change them."
                actions=move || {
                    view! {
                        <A href=Page::Deployments.path() attr:class="button button--small">
                            "All deployments"
                        </A>
                    }
                }
            />
            <form id=FORM class="form deploy-form" novalidate on:submit=submit>
                <Card title="Model" icon=IconKind::Catalog>
                    {if model_fixed {
                        view! {
                            <p class="deploy-model">
                                <A href=model_path(&model_id.get_untracked()) attr:class="mono deploy-model-id">
                                    <span data-testid="deploy-model">{model_id.get_untracked()}</span>
                                </A>
                            </p>
                        }
                            .into_any()
                    } else {
                        view! {
                            <div on:change=move |_| looked_up.set(model_id.get_untracked().trim().to_owned())>
                                <TextField
                                    form=FORM
                                    name="model_id"
                                    label="Model id"
                                    placeholder="sentence-transformers/all-MiniLM-L6-v2"
                                    autocomplete="off"
                                    value=model_id
                                    errors=errors
                                    required=true
                                    autofocus=true
                                    hint="owner/name, as in the catalog."
                                />
                            </div>
                        }
                            .into_any()
                    }}
                    <ModelFacts model=model target=target />
                    {model_fixed
                        .then(|| {
                            view! { <FieldError id=format!("{FORM}-model_id-error") errors=errors name="model_id" /> }
                        })}
                </Card>
                <Card title="Target" icon=IconKind::Server>
                    {targets_view}
                    <FieldError id=format!("{FORM}-target-error") errors=errors name="target" />
                    {move || {
                        task_problem()
                            .filter(|_| errors.get("target").is_none())
                            .map(|p| {
                                view! {
                                    <p class="callout callout--warn" data-testid="deploy-task-warning">
                                        <Icon kind=IconKind::Alert />
                                        <span>{p} " Choose another target, or another task under the advanced settings."</span>
                                    </p>
                                }
                            })
                    }}
                </Card>
                <details
                    class="card deploy-advanced"
                    prop:open=move || advanced.get()
                    on:toggle=move |ev| {
                        let open = event_target::<web_sys::HtmlElement>(&ev)
                            .get_attribute("open")
                            .is_some();
                        if open != advanced.get_untracked() {
                            advanced.set(open);
                        }
                    }
                >
                    <summary class="deploy-advanced-summary" data-testid="deploy-advanced">
                        <span class="deploy-advanced-title">"Advanced settings"</span>
                        <span class="muted small" data-testid="deploy-defaults">
                            {move || {
                                format!("Defaults: revision main · {}", defaults.with(scaling_summary))
                            }}
                        </span>
                    </summary>
                    <div class="card-body form">
                        <div class="form-row deploy-row">
                            <TextField
                                form=FORM
                                name="name"
                                label="Name"
                                autocomplete="off"
                                value=name
                                errors=errors
                                hint=name_hint.clone()
                            />
                            <TaskSelect task=task model_task=model_task target=target target_info=target_info errors=errors />
                            <TextField
                                form=FORM
                                name="revision"
                                label="Revision"
                                autocomplete="off"
                                value=revision
                                errors=errors
                                hint="A branch, tag or commit of the model repository."
                            />
                        </div>
                        <fieldset class="deploy-fieldset">
                            <legend class="form-label">"Scaling"</legend>
                            <ScalingFields form=FORM inputs=scaling errors=errors target=scaling_target />
                        </fieldset>
                        {move || {
                            (scaling_target.get() != TargetKind::Local)
                                .then(|| {
                                    view! {
                                        <div class="form-row deploy-row">
                                            <TextField
                                                form=FORM
                                                name="instance_type"
                                                label="Instance type"
                                                autocomplete="off"
                                                placeholder="target default"
                                                value=instance_type
                                                errors=errors
                                                hint="e.g. intel-spr or cpu-basic; empty for the target's default."
                                            />
                                            <TextField
                                                form=FORM
                                                name="instance_size"
                                                label="Instance size"
                                                autocomplete="off"
                                                placeholder="target default"
                                                value=instance_size
                                                errors=errors
                                                hint="x1, x2… on Endpoints; memory in MB on Lambda."
                                            />
                                        </div>
                                    }
                                })
                        }}
                        <div class="form-field" class:form-field--invalid=move || errors.get("env").is_some()>
                            <label class="form-label" for=format!("{FORM}-env")>
                                "Environment variables"
                            </label>
                            <textarea
                                class="input deploy-env"
                                id=format!("{FORM}-env")
                                data-testid=format!("{FORM}-env")
                                rows="3"
                                spellcheck="false"
                                placeholder="KEY=value, one per line"
                                aria-invalid=move || errors.get("env").is_some().then_some("true")
                                aria-describedby=format!("{FORM}-env-error")
                                bind:value=env
                                on:input=move |_| errors.clear_field("env")
                            ></textarea>
                            <FieldError id=format!("{FORM}-env-error") errors=errors name="env" />
                        </div>
                    </div>
                </details>
                <div class="form-actions deploy-actions">
                    <SubmitButton
                        label="Deploy"
                        busy=busy
                        testid="deploy-submit"
                        disabled=Signal::derive(move || target.get().is_none())
                    />
                    <span class="muted small">"Enter deploys too."</span>
                </div>
            </form>
        </div>
    }
}

/// The server's answer to a refused deploy: field errors next to their fields (opening
/// the advanced section when one is there), anything else as a toast.
fn report(errors: FieldErrors, advanced: RwSignal<bool>, error: &ErrorDetail, toasts: Toasts) {
    let mut shown = false;
    for (field, message) in api::field_errors(error) {
        let Some(form_field) = form_field_of(&field) else {
            continue;
        };
        let message = match field.strip_prefix("env.") {
            Some(key) => format!("{key}: {message}"),
            None => message,
        };
        errors.set(form_field, sentence(&message));
        if ADVANCED_FIELDS.contains(&form_field) {
            advanced.set(true);
        }
        shown = true;
    }
    if shown {
        focus_first_invalid(FORM);
    } else {
        toasts.api_error("Could not deploy", error);
    }
}

/// Every target, the configured ones selectable and the others disabled with the reason.
#[component]
fn TargetChooser(
    targets: Vec<TargetInfo>,
    selected: RwSignal<Option<TargetKind>>,
    on_choose: impl Fn(TargetKind) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <fieldset class="deploy-targets" aria-describedby=format!("{FORM}-target-error")>
            <legend class="visually-hidden">"Where to deploy"</legend>
            {targets
                .into_iter()
                .map(|t| {
                    let kind = t.kind;
                    let id = format!("target-{}", kind.as_str());
                    let tasks = t.tasks.join(", ");
                    view! {
                        <label
                            class="deploy-target"
                            class:deploy-target--disabled=!t.configured
                            class:deploy-target--selected=move || selected.get() == Some(kind)
                            data-testid=format!("{id}-option")
                            data-configured=t.configured.to_string()
                        >
                            <input
                                type="radio"
                                name="target"
                                value=kind.as_str()
                                data-testid=id.clone()
                                disabled=!t.configured
                                prop:checked=move || selected.get() == Some(kind)
                                on:change=move |_| on_choose(kind)
                            />
                            <span class="deploy-target-body">
                                <span class="deploy-target-head">
                                    <span class="deploy-target-label">{t.label.clone()}</span>
                                    {if t.configured {
                                        view! { <span class="chip deploy-chip--ready">"Ready"</span> }.into_any()
                                    } else {
                                        view! { <span class="chip">"Not configured"</span> }.into_any()
                                    }}
                                </span>
                                <span class="deploy-target-tasks muted small">{format!("Serves {tasks}")}</span>
                                {t
                                    .reason
                                    .clone()
                                    .filter(|_| !t.configured)
                                    .map(|reason| {
                                        view! {
                                            <span class="deploy-target-reason small" data-testid=format!("{id}-reason")>
                                                {reason}
                                            </span>
                                        }
                                    })}
                            </span>
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// What the catalog says about the model: its task and where it comes from.
#[component]
fn ModelFacts(
    model: LocalResource<Option<ApiResult<ModelDetail>>>,
    target: RwSignal<Option<TargetKind>>,
) -> impl IntoView {
    move || {
        match model.get() {
        None => view! {
            <p class="deploy-model-facts muted small">
                <Spinner />
                " Looking the model up in the catalog…"
            </p>
        }
        .into_any(),
        Some(None) => ().into_any(),
        Some(Some(Ok(detail))) => {
            let m = detail.model;
            let not_local = m.source != "local" && target.get() == Some(TargetKind::Local);
            view! {
                <p class="deploy-model-facts" data-testid="deploy-model-facts">
                    <span class="chip" data-testid="deploy-model-task">
                        {m.task.clone().unwrap_or_else(|| "no task".to_owned())}
                    </span>
                    <span class="chip">
                        {if m.source == "local" { "in the local model store".to_owned() } else { format!("catalog: {}", m.source) }}
                    </span>
                    {m.library.clone().map(|l| view! { <span class="chip">{l}</span> })}
                </p>
                {not_local
                    .then(|| {
                        view! {
                            <p class="callout callout--warn">
                                <Icon kind=IconKind::Alert />
                                <span>
                                    "The local runtime serves models from the local model store, and this one may not be there. Add its folder with "
                                    <code>"hfb models add PATH"</code> ", or choose another target."
                                </span>
                            </p>
                        }
                    })}
            }
            .into_any()
        }
        Some(Some(Err(e))) => view! {
            <p class="callout callout--warn" data-testid="deploy-model-unknown">
                <Icon kind=IconKind::Info />
                <span>
                    {if e.code == hfb_shared::ErrorCode::NotFound {
                        "This model is not in the catalog; the target checks it when you deploy, and you may have to name its task under the advanced settings.".to_owned()
                    } else {
                        format!("Could not look the model up: {}", e.message)
                    }}
                </span>
            </p>
        }
        .into_any(),
    }
    }
}

/// The task to serve: the catalog's by default, or one the target serves.
#[component]
fn TaskSelect(
    task: RwSignal<String>,
    model_task: Memo<Option<String>>,
    target: RwSignal<Option<TargetKind>>,
    target_info: impl Fn(TargetKind) -> Option<TargetInfo> + Copy + Send + Sync + 'static,
    errors: FieldErrors,
) -> impl IntoView {
    let id = format!("{FORM}-task");
    let options = move || {
        target
            .get()
            .and_then(target_info)
            .map(|t| t.tasks)
            .unwrap_or_default()
    };
    view! {
        <div class="form-field" class:form-field--invalid=move || errors.get("task").is_some()>
            <label class="form-label" for=id.clone()>
                "Task"
            </label>
            <select
                class="select"
                id=id.clone()
                data-testid=id.clone()
                aria-invalid=move || errors.get("task").is_some().then_some("true")
                on:change=move |ev| {
                    task.set(event_target_value(&ev));
                    errors.clear_field("task");
                    errors.clear_field("target");
                }
            >
                <option value="" selected=move || task.with(String::is_empty)>
                    {move || match model_task.get() {
                        Some(t) => format!("From the catalog ({t})"),
                        None => "From the catalog".to_owned(),
                    }}
                </option>
                {move || {
                    options()
                        .into_iter()
                        .map(|t| {
                            let selected = task.with_untracked(|c| *c == t);
                            view! {
                                <option value=t.clone() selected=selected>
                                    {t.clone()}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            <p class="form-hint">"What the deployment answers, in the Hugging Face task format."</p>
            <FieldError id=format!("{id}-error") errors=errors name="task" />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: TargetKind, configured: bool, tasks: &[&str]) -> TargetInfo {
        TargetInfo {
            kind,
            label: kind.label().to_owned(),
            configured,
            reason: (!configured).then(|| "set the token".to_owned()),
            tasks: tasks.iter().map(|t| (*t).to_owned()).collect(),
            default_scaling: default_scaling(kind),
        }
    }

    #[test]
    fn the_preselected_target_is_configured_and_serves_the_task() {
        let targets = [
            target(TargetKind::Local, true, &["feature-extraction"]),
            target(TargetKind::HfEndpoint, false, &["text-generation"]),
            target(TargetKind::HfSpace, true, &["text-generation"]),
        ];
        assert_eq!(
            preferred_target(&targets, Some("feature-extraction")),
            Some(TargetKind::Local)
        );
        assert_eq!(
            preferred_target(&targets, Some("text-generation")),
            Some(TargetKind::HfSpace)
        );
        assert_eq!(
            preferred_target(&targets, Some("image-classification")),
            Some(TargetKind::Local)
        );
        assert_eq!(preferred_target(&targets[1..2], None), None);
    }

    #[test]
    fn only_owner_slash_name_ids_are_looked_up() {
        assert_eq!(
            split_model_id("sentence-transformers/all-MiniLM-L6-v2"),
            Some(("sentence-transformers".into(), "all-MiniLM-L6-v2".into()))
        );
        assert_eq!(split_model_id("gpt2"), None);
        assert_eq!(split_model_id("a b/c"), None);
    }
}
