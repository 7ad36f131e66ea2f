//! Deployments of the current team: targets, list, create, change, roll back, pause,
//! resume, retry, delete, a test call, and the live feed the WebSocket fills.

use std::collections::HashMap;

use gloo_net::http::{Headers, Method};
use hfb_shared::deployments::{
    CreateDeploymentRequest, DeploymentDetail, DeploymentInfo, RollbackRequest, TargetInfo,
    UpdateDeploymentRequest,
};
use hfb_shared::ws::ServerMessage;
use hfb_shared::{ErrorCode, ErrorDetail};

use super::{
    ApiResult, credentials, delete_json_authed, encode, error_from_response, get_json_authed,
    patch_json_authed, post_json_authed, read_json, send_cancellable, send_raw, signed_out,
};

const BASE: &str = "/v1/deployments";

fn path_of(id: &str) -> String {
    format!("{BASE}/{}", encode(id))
}

/// `GET /api/v1/deployments/targets`: every target, and whether this server can use it.
pub async fn targets() -> ApiResult<Vec<TargetInfo>> {
    get_json_authed(&format!("{BASE}/targets")).await
}

/// `GET /api/v1/deployments`: the team's deployments, newest first.
pub async fn list() -> ApiResult<Vec<DeploymentInfo>> {
    get_json_authed(BASE).await
}

/// The request behind [`live_list`].
pub type ListRequest = leptos::prelude::LocalResource<ApiResult<Vec<DeploymentInfo>>>;
/// The rows [`live_list`] shows.
pub type ListRows = leptos::prelude::Memo<Option<Vec<DeploymentInfo>>>;

/// The team's deployments as the pages show them: the list from the API, loaded again
/// on every (re)subscription of the live feed (updates may have been missed), with the
/// feed's newer states merged in. Returns the request (for its loading and error states
/// and `refetch`) and the rows: the last list that loaded, so a reload keeps them and a
/// failed one still shows them.
pub fn live_list(live: crate::api::ws::LiveConnection) -> (ListRequest, ListRows) {
    use leptos::prelude::*;
    let subscriptions = Memo::new(move |_| live.deployments.with(|f| f.subscriptions));
    let list = LocalResource::new(move || {
        subscriptions.track();
        list()
    });
    let loaded =
        Memo::new(
            move |previous: Option<&Option<Vec<DeploymentInfo>>>| match list.get() {
                Some(Ok(rows)) => Some(rows),
                _ => previous.cloned().flatten(),
            },
        );
    let rows = Memo::new(move |_| {
        loaded.with(|l| {
            l.as_ref()
                .map(|snapshot| live.deployments.with(|f| f.merge(snapshot)))
        })
    });
    (list, rows)
}

/// `GET /api/v1/deployments/{id}`: with versions and events, newest first.
pub async fn detail(id: &str) -> ApiResult<DeploymentDetail> {
    get_json_authed(&path_of(id)).await
}

/// `POST /api/v1/deployments` with `Idempotency-Key`: sending the same key and body again
/// (a double submit, a retry after a lost answer) returns the first deployment instead of
/// making a second one.
pub async fn create(
    request: &CreateDeploymentRequest,
    idempotency_key: &str,
) -> ApiResult<DeploymentInfo> {
    // Like `send_authed`, with one more header: a 401 renews the token once and retries once.
    let credentials = credentials()?;
    let send = |token: String| async move {
        let bearer = format!("Bearer {token}");
        let headers = [
            ("authorization", bearer.as_str()),
            ("idempotency-key", idempotency_key),
        ];
        send_cancellable(Method::POST, BASE, Some(request), &headers, None).await
    };
    let token = credentials.token().await.map_err(signed_out)?;
    let response = match send(token.clone()).await {
        Err(e) if e.code == ErrorCode::Unauthorized => {
            let renewed = credentials.renew(&token).await.map_err(signed_out)?;
            match send(renewed).await {
                Err(e) if e.code == ErrorCode::Unauthorized => {
                    credentials.session_ended(&e);
                    Err(signed_out(e))
                }
                other => other,
            }
        }
        other => other,
    }?;
    read_json(response).await
}

/// `PATCH /api/v1/deployments/{id}`: a new version (409 when `expected_version` is stale).
pub async fn update(id: &str, request: &UpdateDeploymentRequest) -> ApiResult<DeploymentInfo> {
    patch_json_authed(&path_of(id), request).await
}

/// `POST /api/v1/deployments/{id}/rollback`: an earlier version's spec as a new version.
pub async fn rollback(id: &str, version: u32) -> ApiResult<DeploymentInfo> {
    post_json_authed(
        &format!("{}/rollback", path_of(id)),
        Some(&RollbackRequest { version }),
    )
    .await
}

/// Pause, resume, retry or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Retry,
    Delete,
}

impl Action {
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Retry => "retry",
            Self::Delete => "delete",
        }
    }
}

/// Runs an action; delete answers 202 and the reconciler removes the deployment.
pub async fn act(id: &str, action: Action) -> ApiResult<DeploymentInfo> {
    match action {
        Action::Delete => delete_json_authed(&path_of(id)).await,
        other => post_json_authed(&format!("{}/{}", path_of(id), other.verb()), None::<&()>).await,
    }
}

/// `POST /api/v1/deployments/{id}/infer` with `{"inputs": text}`: a feature-extraction
/// deployment answers one vector.
pub async fn embed(id: &str, text: &str) -> ApiResult<Vec<f64>> {
    post_json_authed(
        &format!("{}/infer", path_of(id)),
        Some(&serde_json::json!({ "inputs": text })),
    )
    .await
}

/// `POST /api/v1/deployments/{id}/infer` with `{"inputs": {"source_sentence", "sentences"}}`:
/// a sentence-similarity deployment answers one score per sentence.
pub async fn similarity(id: &str, source: &str, sentences: &[String]) -> ApiResult<Vec<f64>> {
    post_json_authed(
        &format!("{}/infer", path_of(id)),
        Some(&serde_json::json!({
            "inputs": { "source_sentence": source, "sentences": sentences }
        })),
    )
    .await
}

/// What the `X-Hfb-*` headers of an `/infer` answer said (successful or not).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallHeaders {
    /// `X-Hfb-Tokens`: tokens the inputs came to.
    pub tokens: Option<u64>,
    /// `X-Hfb-Truncated`: inputs cut to the model's maximum length.
    pub truncated: Option<u64>,
    /// `X-Hfb-Cold-Start`: the model was loaded (or the target woken) by this call.
    pub cold_start: bool,
    /// `X-Hfb-Attempts`: calls made to a remote target, retries included.
    pub attempts: Option<u32>,
    /// `X-Hfb-Upstream-Status`: the HTTP status the remote target answered.
    pub upstream_status: Option<u16>,
    pub request_id: Option<String>,
}

impl CallHeaders {
    fn read(headers: &Headers) -> Self {
        let number = |name: &str| headers.get(name).and_then(|v| v.trim().parse::<u64>().ok());
        Self {
            tokens: number("x-hfb-tokens"),
            truncated: number("x-hfb-truncated"),
            cold_start: headers
                .get("x-hfb-cold-start")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            attempts: number("x-hfb-attempts").and_then(|n| u32::try_from(n).ok()),
            upstream_status: number("x-hfb-upstream-status").and_then(|n| u16::try_from(n).ok()),
            request_id: headers.get("x-request-id"),
        }
    }
}

/// A successful `/infer` call: the task's JSON answer and the headers.
#[derive(Debug, Clone, PartialEq)]
pub struct InferAnswer {
    pub body: serde_json::Value,
    pub headers: CallHeaders,
}

/// A failed `/infer` call: the error, and the headers when an answer came (a remote
/// target's status and the attempts made say most about an upstream failure).
#[derive(Debug, Clone, PartialEq)]
pub struct InferFailure {
    pub error: ErrorDetail,
    pub headers: CallHeaders,
}

impl From<ErrorDetail> for InferFailure {
    fn from(error: ErrorDetail) -> Self {
        Self {
            error,
            headers: CallHeaders::default(),
        }
    }
}

/// `POST /api/v1/deployments/{id}/infer` with any body in the Hugging Face task format
/// (`{"inputs", "parameters"}`): the answer as JSON, with its headers.
pub async fn infer(id: &str, request: &serde_json::Value) -> Result<InferAnswer, InferFailure> {
    // Like `send_authed` (a 401 renews the token once and retries once), keeping the
    // headers of error answers.
    let path = format!("{}/infer", path_of(id));
    let send = |token: String| {
        let path = path.clone();
        async move {
            let bearer = format!("Bearer {token}");
            send_raw(
                Method::POST,
                &path,
                Some(request),
                &[("authorization", bearer.as_str())],
                None,
            )
            .await
        }
    };
    let credentials = credentials()?;
    let token = credentials.token().await.map_err(signed_out)?;
    let mut response = send(token.clone()).await?;
    if response.status() == 401 {
        let renewed = credentials.renew(&token).await.map_err(signed_out)?;
        response = send(renewed).await?;
        if response.status() == 401 {
            let error = error_from_response(response).await;
            credentials.session_ended(&error);
            return Err(signed_out(error).into());
        }
    }
    let headers = CallHeaders::read(&response.headers());
    if !response.ok() {
        return Err(InferFailure {
            error: error_from_response(response).await,
            headers,
        });
    }
    match read_json(response).await {
        Ok(body) => Ok(InferAnswer { body, headers }),
        Err(error) => Err(InferFailure { error, headers }),
    }
}

/// A fresh `Idempotency-Key`: 128 random bits as hex. It only has to be unique, not
/// secret, so the page's random generator is enough.
pub fn new_idempotency_key() -> String {
    (0..4)
        .map(|_| {
            format!(
                "{:08x}",
                (js_sys::Math::random() * f64::from(u32::MAX)) as u32
            )
        })
        .collect()
}

/// Whether `a` is at least as new as `b`. The server writes every instant in one fixed
/// form (`2026-01-02T03:04:05.678Z`), so the text orders like the time.
fn not_older(a: &DeploymentInfo, b: &DeploymentInfo) -> bool {
    (a.updated_at.as_str(), a.current_version) >= (b.updated_at.as_str(), b.current_version)
}

/// What the WebSocket told about the team's deployments.
///
/// Pages load a snapshot over HTTP and lay the feed over it ([`DeploymentFeed::merge`],
/// [`DeploymentFeed::overlay`]), keeping whichever is newer. Every `subscribed` (after a
/// (re)connect, a sign-in, a token renewal or a team switch) bumps `subscriptions`:
/// updates may have been missed before it, so pages load their snapshot again. What was
/// pushed before still overlays older snapshots, but only what arrived since the last
/// `subscribed` adds deployments a snapshot lacks (an earlier push may be of a deployment
/// whose removal was missed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentFeed {
    /// The team the updates are for.
    pub team_id: Option<String>,
    /// Bumped on every `subscribed`.
    pub subscriptions: u64,
    /// The latest pushed state per deployment id (`None` once removed), with the
    /// subscription it arrived in.
    latest: HashMap<String, (u64, Option<DeploymentInfo>)>,
}

impl DeploymentFeed {
    /// Takes one server message; returns whether it was a deployment message.
    pub fn apply(&mut self, message: &ServerMessage) -> bool {
        match message {
            ServerMessage::Subscribed { team_id } => {
                if self.team_id.as_deref() != Some(team_id) {
                    self.latest.clear();
                }
                self.team_id = Some(team_id.clone());
                self.subscriptions += 1;
            }
            ServerMessage::Deployment { deployment } => {
                let newer = match self.latest.get(&deployment.id) {
                    Some((_, Some(known))) => not_older(deployment, known),
                    // Removal is final.
                    Some((_, None)) => false,
                    None => true,
                };
                if newer {
                    self.latest.insert(
                        deployment.id.clone(),
                        (self.subscriptions, Some((**deployment).clone())),
                    );
                }
            }
            ServerMessage::DeploymentRemoved { deployment_id } => {
                self.latest
                    .insert(deployment_id.clone(), (self.subscriptions, None));
            }
            _ => return false,
        }
        true
    }

    /// Signed out: nothing is known any more.
    pub fn reset(&mut self) {
        self.team_id = None;
        self.latest.clear();
    }

    /// One deployment as the snapshot had it, or newer from the feed; `None` once removed.
    pub fn overlay(&self, snapshot: &DeploymentInfo) -> Option<DeploymentInfo> {
        match self.latest.get(&snapshot.id) {
            Some((_, None)) => None,
            Some((_, Some(pushed))) if not_older(pushed, snapshot) => Some(pushed.clone()),
            _ => Some(snapshot.clone()),
        }
    }

    /// The list snapshot with the feed laid over it: newer states replace older ones,
    /// removed deployments leave, deployments created since appear; newest first.
    pub fn merge(&self, snapshot: &[DeploymentInfo]) -> Vec<DeploymentInfo> {
        let mut rows: Vec<DeploymentInfo> =
            snapshot.iter().filter_map(|d| self.overlay(d)).collect();
        for (epoch, pushed) in self.latest.values() {
            let Some(pushed) = pushed else { continue };
            let fresh = *epoch == self.subscriptions
                && self.team_id.as_deref() == Some(pushed.team_id.as_str());
            if fresh && !snapshot.iter().any(|d| d.id == pushed.id) {
                rows.push(pushed.clone());
            }
        }
        rows.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hfb_shared::deployments::{DeploymentSpec, Scaling, TargetKind};

    fn info(id: &str, status: &str, updated_at: &str, version: u32) -> DeploymentInfo {
        DeploymentInfo {
            id: id.to_owned(),
            team_id: "t1".to_owned(),
            name: id.to_owned(),
            model_id: "o/m".to_owned(),
            target: TargetKind::Local,
            task: "feature-extraction".to_owned(),
            status: status.to_owned(),
            status_message: None,
            desired: "running".to_owned(),
            current_version: version,
            running_version: None,
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
            created_at: format!("2026-01-01T00:00:0{}.000Z", &id[1..]),
            updated_at: updated_at.to_owned(),
        }
    }

    fn pushed(d: DeploymentInfo) -> ServerMessage {
        ServerMessage::Deployment {
            deployment: Box::new(d),
        }
    }

    fn subscribed() -> ServerMessage {
        ServerMessage::Subscribed {
            team_id: "t1".to_owned(),
        }
    }

    #[test]
    fn newer_pushes_win_and_older_ones_are_ignored() {
        let mut feed = DeploymentFeed::default();
        assert!(feed.apply(&subscribed()));
        let snapshot = info("d1", "pending", "2026-01-01T00:00:01.000Z", 1);
        assert!(feed.apply(&pushed(info(
            "d1",
            "running",
            "2026-01-01T00:00:02.000Z",
            1
        ))));
        assert_eq!(
            feed.overlay(&snapshot).map(|d| d.status),
            Some("running".into())
        );
        // A stale push (an answer that lost a race) does not undo the newer state.
        feed.apply(&pushed(info(
            "d1",
            "pending",
            "2026-01-01T00:00:01.500Z",
            1,
        )));
        assert_eq!(
            feed.overlay(&snapshot).map(|d| d.status),
            Some("running".into())
        );
        // A snapshot newer than every push stays.
        let fresh = info("d1", "paused", "2026-01-01T00:00:09.000Z", 2);
        assert_eq!(
            feed.overlay(&fresh).map(|d| d.status),
            Some("paused".into())
        );
    }

    #[test]
    fn merge_adds_new_drops_removed_and_sorts_newest_first() {
        let mut feed = DeploymentFeed::default();
        feed.apply(&subscribed());
        let snapshot = vec![
            info("d2", "running", "2026-01-01T00:00:05.000Z", 1),
            info("d1", "running", "2026-01-01T00:00:05.000Z", 1),
        ];
        feed.apply(&pushed(info(
            "d3",
            "pending",
            "2026-01-01T00:00:06.000Z",
            1,
        )));
        feed.apply(&ServerMessage::DeploymentRemoved {
            deployment_id: "d1".to_owned(),
        });
        let ids: Vec<String> = feed.merge(&snapshot).into_iter().map(|d| d.id).collect();
        assert_eq!(ids, ["d3", "d2"]);
        // A removed deployment never comes back from a late push.
        feed.apply(&pushed(info(
            "d1",
            "deleting",
            "2026-01-01T00:00:07.000Z",
            1,
        )));
        assert!(feed.overlay(&snapshot[1]).is_none());
        // After another subscription (the page reloads its snapshot) an earlier push
        // still overlays, but no longer adds a deployment the new snapshot lacks.
        feed.apply(&subscribed());
        assert_eq!(feed.subscriptions, 2);
        let ids: Vec<String> = feed
            .merge(&snapshot[..1])
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, ["d2"]);
        let stale = info("d3", "pending", "2026-01-01T00:00:01.000Z", 1);
        assert_eq!(
            feed.overlay(&stale).map(|d| d.updated_at),
            Some("2026-01-01T00:00:06.000Z".into())
        );
        // Another team's subscription forgets everything.
        feed.apply(&ServerMessage::Subscribed {
            team_id: "t2".to_owned(),
        });
        assert_eq!(
            feed.overlay(&stale).map(|d| d.status),
            Some("pending".into())
        );
        assert!(!feed.apply(&ServerMessage::Pong {
            nonce: None,
            server_time_ms: 0
        }));
    }
}
