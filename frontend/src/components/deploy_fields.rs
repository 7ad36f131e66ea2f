//! The fields of a deployment's settings (scaling, name, revision, instance, env) and the
//! checks that mirror the server's (`backend/src/services/deployments.rs`), so that most
//! mistakes show next to the field before a round trip. The server stays the authority:
//! its 422 field errors land in the same places ([`form_field_of`]).

use std::collections::BTreeMap;

use hfb_shared::deployments::{Scaling, TargetKind};
use leptos::prelude::*;

use crate::components::form::{FieldErrors, TextField};

/// The server's limits.
pub const LOCAL_MAX_REPLICAS: u32 = 8;
pub const CLOUD_MAX_REPLICAS: u32 = 100;
pub const MAX_IDLE_SECS: u32 = 7 * 86_400;
pub const MAX_CONCURRENCY: u32 = 1000;
pub const MAX_ENV_VARS: usize = 64;
const MAX_ENV_VALUE: usize = 4096;
const MAX_ENV_NAME: usize = 128;

/// The scaling shown until the server's defaults (`TargetInfo::default_scaling`) arrive.
pub fn default_scaling(target: TargetKind) -> Scaling {
    let (max_replicas, target_concurrency) = match target {
        TargetKind::Local => (1, 8),
        TargetKind::HfEndpoint | TargetKind::HfSpace => (1, 10),
        TargetKind::AwsLambda => (10, 1),
    };
    Scaling {
        min_replicas: 0,
        max_replicas,
        scale_to_zero_after_secs: 900,
        target_concurrency,
    }
}

pub fn max_replicas(target: TargetKind) -> u32 {
    if target == TargetKind::Local {
        LOCAL_MAX_REPLICAS
    } else {
        CLOUD_MAX_REPLICAS
    }
}

/// `0–1 replicas · scale to zero after 15m 0s idle · 8 concurrent calls per replica`.
pub fn scaling_summary(s: &Scaling) -> String {
    let idle = if s.min_replicas == 0 {
        format!(
            " · scale to zero after {} idle",
            crate::format::duration_short(u64::from(s.scale_to_zero_after_secs))
        )
    } else {
        String::new()
    };
    format!(
        "{}–{} replica{}{idle} · {} concurrent call{} per replica",
        s.min_replicas,
        s.max_replicas,
        if s.max_replicas == 1 { "" } else { "s" },
        s.target_concurrency,
        if s.target_concurrency == 1 { "" } else { "s" },
    )
}

/// The form's name for a field the server names in a 422 (`scaling.max_replicas` →
/// `max_replicas`, `env.KEY` → `env`); `None` for fields no form shows.
pub fn form_field_of(server_field: &str) -> Option<&'static str> {
    Some(match server_field {
        "model_id" => "model_id",
        "target" => "target",
        "task" => "task",
        "name" => "name",
        "revision" => "revision",
        "scaling.min_replicas" => "min_replicas",
        "scaling.max_replicas" => "max_replicas",
        "scaling.scale_to_zero_after_secs" => "scale_to_zero_after_secs",
        "scaling.target_concurrency" => "target_concurrency",
        "instance_type" => "instance_type",
        "instance_size" => "instance_size",
        f if f == "env" || f.starts_with("env.") => "env",
        _ => return None,
    })
}

fn whole_number(text: &str) -> Result<u32, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter a number.".to_owned());
    }
    text.parse::<u32>()
        .map_err(|_| "Enter a whole number (0 or more).".to_owned())
}

/// The four scaling inputs as typed, checked like the server does: the settings, or the
/// problem per form field.
pub fn parse_scaling(
    target: TargetKind,
    min: &str,
    max: &str,
    idle: &str,
    concurrency: &str,
) -> Result<Scaling, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    let mut number = |field: &'static str, text: &str| match whole_number(text) {
        Ok(n) => Some(n),
        Err(message) => {
            problems.push((field, message));
            None
        }
    };
    let min = number("min_replicas", min);
    let max = number("max_replicas", max);
    let idle = number("scale_to_zero_after_secs", idle);
    let concurrency = number("target_concurrency", concurrency);
    let limit = max_replicas(target);
    if let Some(max) = max
        && !(1..=limit).contains(&max)
    {
        let on = if target == TargetKind::Local {
            " on the local runtime"
        } else {
            ""
        };
        problems.push((
            "max_replicas",
            format!("Must be between 1 and {limit}{on}."),
        ));
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        problems.push((
            "min_replicas",
            format!("Must not be more than the maximum ({max})."),
        ));
    }
    if let Some(idle) = idle
        && !(1..=MAX_IDLE_SECS).contains(&idle)
    {
        problems.push((
            "scale_to_zero_after_secs",
            format!("Must be between 1 and {MAX_IDLE_SECS} seconds (7 days)."),
        ));
    }
    if let Some(c) = concurrency
        && !(1..=MAX_CONCURRENCY).contains(&c)
    {
        problems.push((
            "target_concurrency",
            format!("Must be between 1 and {MAX_CONCURRENCY}."),
        ));
    }
    match (min, max, idle, concurrency) {
        (Some(min_replicas), Some(max_replicas), Some(idle), Some(target_concurrency))
            if problems.is_empty() =>
        {
            Ok(Scaling {
                min_replicas,
                max_replicas,
                scale_to_zero_after_secs: idle,
                target_concurrency,
            })
        }
        _ => Err(problems),
    }
}

/// Why a model id is not `owner/name` as the Hub allows it (`hfb_hub::validate_repo_id`).
pub fn model_id_problem(id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() {
        return Some("Enter a model id like owner/name.".to_owned());
    }
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() > 2 {
        return Some("Use owner/name, with one '/'.".to_owned());
    }
    for part in parts {
        let edge_ok = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let problem = if part.is_empty() {
            Some("The owner and the name must not be empty.")
        } else if part.len() > 96 {
            Some("The owner and the name are at most 96 characters each.")
        } else if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            Some("Use letters, digits, '-', '_' and '.' only.")
        } else if part.contains("..") || part.contains("--") {
            Some("'..' and '--' are not allowed.")
        } else if !part.starts_with(edge_ok) || !part.ends_with(edge_ok) {
            Some("The owner and the name cannot start or end with '-' or '.'.")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Some(problem.to_owned());
        }
    }
    None
}

/// Why a deployment name would be refused; an empty name means "derive it".
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return None;
    }
    if name.len() > 63 {
        return Some("Use at most 63 characters.");
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    (!ok).then_some("Use lowercase letters, digits and '-', not starting or ending with '-'.")
}

/// The name the server derives from a model id (`all-MiniLM-L6-v2` → `all-minilm-l6-v2`).
pub fn name_from_model(model_id: &str) -> String {
    let base = model_id.rsplit('/').next().unwrap_or(model_id);
    let mut name = String::new();
    for c in base.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && (name.is_empty() || name.ends_with('-'))) {
            name.push(c);
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(50).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "deployment".to_owned()
    } else {
        name.to_owned()
    }
}

pub fn revision_problem(revision: &str) -> Option<&'static str> {
    if revision.is_empty() {
        Some("Enter a branch, tag or commit.")
    } else if revision.chars().count() > 200 {
        Some("Use at most 200 characters.")
    } else if revision
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        Some("Must not contain spaces.")
    } else {
        None
    }
}

/// Instance type or size: empty means the target's default.
pub fn instance_problem(value: &str) -> Option<&'static str> {
    if value.is_empty() {
        None
    } else if value.chars().count() > 64 {
        Some("Use at most 64 characters.")
    } else if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        Some("Use letters, digits, '-', '_' and '.' only.")
    } else {
        None
    }
}

/// `KEY=value` lines (blank lines and `#` comments skipped) as environment variables.
pub fn parse_env(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut env = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("Line {line_no}: write KEY=value."));
        };
        let key = key.trim();
        let valid = key.len() <= MAX_ENV_NAME
            && key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "Line {line_no}: names are letters, digits and '_', not starting with a digit."
            ));
        }
        if value.len() > MAX_ENV_VALUE {
            return Err(format!(
                "Line {line_no}: values are at most {MAX_ENV_VALUE} bytes."
            ));
        }
        if env.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("Line {line_no}: {key} is set twice."));
        }
    }
    if env.len() > MAX_ENV_VARS {
        return Err(format!("At most {MAX_ENV_VARS} variables."));
    }
    Ok(env)
}

/// The scaling inputs of one form, as typed.
#[derive(Clone, Copy)]
pub struct ScalingInputs {
    pub min: RwSignal<String>,
    pub max: RwSignal<String>,
    pub idle: RwSignal<String>,
    pub concurrency: RwSignal<String>,
}

impl ScalingInputs {
    pub fn new(scaling: &Scaling) -> Self {
        Self {
            min: RwSignal::new(scaling.min_replicas.to_string()),
            max: RwSignal::new(scaling.max_replicas.to_string()),
            idle: RwSignal::new(scaling.scale_to_zero_after_secs.to_string()),
            concurrency: RwSignal::new(scaling.target_concurrency.to_string()),
        }
    }

    pub fn set(&self, scaling: &Scaling) {
        self.min.set(scaling.min_replicas.to_string());
        self.max.set(scaling.max_replicas.to_string());
        self.idle.set(scaling.scale_to_zero_after_secs.to_string());
        self.concurrency.set(scaling.target_concurrency.to_string());
    }

    /// Whether the inputs say exactly `scaling` (tracked).
    pub fn shows(&self, scaling: &Scaling) -> bool {
        self.min
            .with(|v| v.trim() == scaling.min_replicas.to_string())
            && self
                .max
                .with(|v| v.trim() == scaling.max_replicas.to_string())
            && self
                .idle
                .with(|v| v.trim() == scaling.scale_to_zero_after_secs.to_string())
            && self
                .concurrency
                .with(|v| v.trim() == scaling.target_concurrency.to_string())
    }

    /// The settings, or `None` with the problems set on `errors`.
    pub fn read(&self, target: TargetKind, errors: FieldErrors) -> Option<Scaling> {
        match parse_scaling(
            target,
            &self.min.get_untracked(),
            &self.max.get_untracked(),
            &self.idle.get_untracked(),
            &self.concurrency.get_untracked(),
        ) {
            Ok(scaling) => Some(scaling),
            Err(problems) => {
                for (field, message) in problems {
                    errors.set(field, message);
                }
                None
            }
        }
    }
}

/// The four scaling fields, ids `{form}-min_replicas`...
#[component]
pub fn ScalingFields(
    form: &'static str,
    inputs: ScalingInputs,
    errors: FieldErrors,
    #[prop(into)] target: Signal<TargetKind>,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let max_hint = move || {
        format!(
            "Up to {} here. Replicas are worker threads on the local runtime, instances elsewhere.",
            max_replicas(target.get())
        )
    };
    view! {
        <div class="deploy-scaling-grid">
            <TextField
                form=form
                name="min_replicas"
                label="Min replicas"
                kind="number"
                value=inputs.min
                errors=errors
                disabled=disabled
                hint="0 lets it scale to zero when idle."
            />
            {move || {
                view! {
                    <TextField
                        form=form
                        name="max_replicas"
                        label="Max replicas"
                        kind="number"
                        value=inputs.max
                        errors=errors
                        disabled=disabled
                        hint=max_hint()
                    />
                }
            }}
            <TextField
                form=form
                name="scale_to_zero_after_secs"
                label="Scale to zero after (s)"
                kind="number"
                value=inputs.idle
                errors=errors
                disabled=disabled
                hint="Idle seconds before unloading, when min replicas is 0."
            />
            <TextField
                form=form
                name="target_concurrency"
                label="Target concurrency"
                kind="number"
                value=inputs.concurrency
                errors=errors
                disabled=disabled
                hint="Calls one replica takes before another is added."
            />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_is_checked_like_the_server_does() {
        let ok = parse_scaling(TargetKind::Local, "0", "2", "900", "8");
        assert_eq!(
            ok,
            Ok(Scaling {
                min_replicas: 0,
                max_replicas: 2,
                scale_to_zero_after_secs: 900,
                target_concurrency: 8
            })
        );
        let fields = |r: Result<Scaling, Vec<(&'static str, String)>>| {
            r.err()
                .unwrap_or_default()
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(parse_scaling(TargetKind::Local, "0", "9", "900", "8")),
            ["max_replicas"]
        );
        assert!(parse_scaling(TargetKind::AwsLambda, "0", "9", "900", "8").is_ok());
        assert_eq!(
            fields(parse_scaling(TargetKind::Local, "3", "2", "0", "1001")),
            [
                "min_replicas",
                "scale_to_zero_after_secs",
                "target_concurrency"
            ]
        );
        assert_eq!(
            fields(parse_scaling(TargetKind::Local, "x", "", "-1", "1.5")),
            [
                "min_replicas",
                "max_replicas",
                "scale_to_zero_after_secs",
                "target_concurrency"
            ]
        );
    }

    #[test]
    fn names_ids_and_revisions() {
        assert_eq!(
            name_from_model("sentence-transformers/all-MiniLM-L6-v2"),
            "all-minilm-l6-v2"
        );
        assert_eq!(name_from_model("org/__x__"), "x");
        assert_eq!(name_from_model("org/___"), "deployment");
        assert_eq!(name_problem(""), None);
        assert_eq!(name_problem("my-model-2"), None);
        assert!(name_problem("My model").is_some());
        assert!(name_problem("-x").is_some());
        assert_eq!(
            model_id_problem("sentence-transformers/all-MiniLM-L6-v2"),
            None
        );
        assert_eq!(model_id_problem("gpt2"), None);
        assert!(model_id_problem("a/b/c").is_some());
        assert!(model_id_problem("a/-b").is_some());
        assert!(model_id_problem("a b/c").is_some());
        assert!(model_id_problem("").is_some());
        assert_eq!(revision_problem("main"), None);
        assert!(revision_problem("my branch").is_some());
        assert_eq!(instance_problem("intel-spr"), None);
        assert!(instance_problem("x 1").is_some());
    }

    #[test]
    fn env_lines_become_variables() {
        let env = parse_env("# comment\nA=1\n\n B_2 = x=y \r\nEMPTY=").unwrap();
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(env.get("B_2").map(String::as_str), Some(" x=y "));
        assert_eq!(env.get("EMPTY").map(String::as_str), Some(""));
        assert!(parse_env("NOPE").unwrap_err().starts_with("Line 1"));
        assert!(parse_env("A=1\n1A=2").unwrap_err().starts_with("Line 2"));
        assert!(parse_env("A=1\nA=2").unwrap_err().contains("twice"));
    }

    #[test]
    fn server_fields_map_to_form_fields() {
        assert_eq!(form_field_of("scaling.max_replicas"), Some("max_replicas"));
        assert_eq!(form_field_of("env.1A"), Some("env"));
        assert_eq!(form_field_of("model_id"), Some("model_id"));
        assert_eq!(form_field_of("whatever"), None);
    }

    #[test]
    fn defaults_read_as_a_sentence() {
        assert_eq!(
            scaling_summary(&default_scaling(TargetKind::Local)),
            "0–1 replica · scale to zero after 15m 0s idle · 8 concurrent calls per replica"
        );
    }
}
