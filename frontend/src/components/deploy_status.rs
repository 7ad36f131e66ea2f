//! A deployment's status: the badge (a colour per status, a spinner while the reconciler
//! works), what the status means, and the steps shown while a deployment comes up.

use leptos::prelude::*;

use crate::components::form::Spinner;

/// Statuses on the way to `running`, in order; the step each belongs to.
const STEPS: [(&str, &[&str]); 3] = [
    ("Queued", &["pending"]),
    ("Provisioning", &["provisioning", "building"]),
    ("Starting", &["initializing", "updating"]),
];

/// The CSS modifier of a status: one colour family per kind of state.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "running" => "deploy-status--running",
        "scaled_to_zero" => "deploy-status--idle",
        "pending" => "deploy-status--pending",
        "provisioning" | "initializing" | "building" | "updating" => "deploy-status--working",
        "pausing" | "paused" => "deploy-status--paused",
        "failed" => "deploy-status--failed",
        "deleting" | "removed" => "deploy-status--deleting",
        _ => "deploy-status--other",
    }
}

/// `scaled_to_zero` → `scaled to zero`: the status as people read it.
pub fn status_text(status: &str) -> String {
    status.replace('_', " ")
}

/// One sentence on what the status means, for the badge's tooltip.
pub fn status_meaning(status: &str) -> &'static str {
    match status {
        "pending" => "Waiting for the reconciler to start.",
        "provisioning" => "The target is setting up resources.",
        "building" => "The target is building the serving image.",
        "initializing" => "The model is loading.",
        "updating" => "A new version is being rolled out.",
        "running" => "Serving calls.",
        "scaled_to_zero" => "Unloaded after idle time; the next call starts it again.",
        "pausing" => "Stopping; the deployment is kept.",
        "paused" => "Stopped; resume it to serve again.",
        "failed" => "The target reported an error; retry when the cause is fixed.",
        "deleting" | "removed" => "Being torn down at the target.",
        _ => "",
    }
}

/// Whether the deployment is on its way to running (not yet serving, not stopped).
pub fn is_coming_up(status: &str) -> bool {
    STEPS.iter().any(|(_, statuses)| statuses.contains(&status))
}

/// The step (index into the steps, `STEPS.len()` when serving) a status stands at.
pub fn step_of(status: &str) -> usize {
    STEPS
        .iter()
        .position(|(_, statuses)| statuses.contains(&status))
        .unwrap_or(STEPS.len())
}

/// The status word in its colour, with a spinner while `reconciling`. The word itself
/// carries `testid` (tests read the exact status).
#[component]
pub fn DeployStatusBadge(
    #[prop(into)] status: Signal<String>,
    #[prop(into)] reconciling: Signal<bool>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! {
        <span
            class=move || format!("badge deploy-status {}", status_class(&status.get()))
            title=move || status_meaning(&status.get())
            data-status=move || status.get()
            data-reconciling=move || reconciling.get().to_string()
        >
            {move || {
                if reconciling.get() {
                    view! { <Spinner /> }.into_any()
                } else {
                    view! { <span class="badge-dot" aria-hidden="true"></span> }.into_any()
                }
            }}
            <span data-testid=(!testid.is_empty()).then_some(testid)>
                {move || status_text(&status.get())}
            </span>
            {move || reconciling.get().then(|| view! { <span class="visually-hidden">" (in progress)"</span> })}
        </span>
    }
}

/// Queued → Provisioning → Starting → Running, with the current step marked.
#[component]
pub fn DeployProgress(#[prop(into)] status: Signal<String>) -> impl IntoView {
    let current = Memo::new(move |_| step_of(&status.get()));
    let labels = STEPS
        .iter()
        .map(|(label, _)| *label)
        .chain(std::iter::once("Running"));
    view! {
        <ol class="deploy-steps" data-testid="deploy-progress" aria-label="Progress">
            {labels
                .enumerate()
                .map(|(i, label)| {
                    let state = move || {
                        let at = current.get();
                        if i < at {
                            "deploy-step deploy-step--done"
                        } else if i == at {
                            "deploy-step deploy-step--current"
                        } else {
                            "deploy-step"
                        }
                    };
                    view! {
                        <li
                            class=state
                            aria-current=move || (current.get() == i).then_some("step")
                        >
                            <span class="deploy-step-dot" aria-hidden="true"></span>
                            <span class="deploy-step-label">{label}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_the_way_up() {
        assert_eq!(step_of("pending"), 0);
        assert_eq!(step_of("provisioning"), 1);
        assert_eq!(step_of("initializing"), 2);
        assert_eq!(step_of("running"), 3);
        assert!(is_coming_up("updating"));
        assert!(!is_coming_up("running"));
        assert!(!is_coming_up("failed"));
    }

    #[test]
    fn every_status_has_a_colour_and_a_meaning() {
        for status in [
            "pending",
            "provisioning",
            "building",
            "initializing",
            "updating",
            "running",
            "scaled_to_zero",
            "pausing",
            "paused",
            "failed",
            "deleting",
            "removed",
        ] {
            assert_ne!(status_class(status), "deploy-status--other", "{status}");
            assert!(!status_meaning(status).is_empty(), "{status}");
        }
        assert_eq!(status_text("scaled_to_zero"), "scaled to zero");
    }
}
