//! The live connection: one WebSocket to the same-origin `/api/ws`, kept open for the whole
//! session and reopened with capped exponential backoff whenever it drops or goes quiet.
//!
//! Pages read it through [`use_live_connection`]; only the task in this module writes.
//!
//! While someone is signed in, the socket is subscribed to their team's deployment
//! updates (`subscribe` with the access token): again after every reconnect, and whenever
//! the session changes (sign-in, token renewal, team switch). After a sign-out the socket
//! is reopened, so that it stops receiving the team's updates.

use std::collections::{HashMap, VecDeque};

use futures::{
    SinkExt, StreamExt,
    channel::mpsc,
    future::{Either, pending, select},
};
use gloo_net::websocket::{Message, futures::WebSocket};
use gloo_timers::future::TimeoutFuture;
use hfb_shared::ws::{ClientMessage, ServerMessage};
use leptos::{prelude::*, task::spawn_local};

use super::deployments::DeploymentFeed;
use crate::state::session::Session;

/// First retry delay; each further failure doubles it up to [`MAX_BACKOFF_MS`].
const BASE_BACKOFF_MS: u32 = 500;
const MAX_BACKOFF_MS: u32 = 30_000;
/// How long a socket may stay silent before hello arrives.
const HELLO_TIMEOUT_MS: u32 = 10_000;
/// Heartbeats kept for the dashboard's stream.
pub const HISTORY_LEN: usize = 60;
/// A round-trip ping goes out on hello and then every this many heartbeats.
const PING_EVERY: u64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsState {
    /// The first attempt is under way.
    Connecting,
    /// Hello arrived; heartbeats are flowing.
    Live,
    /// The socket dropped; the next attempt is scheduled.
    Reconnecting,
}

impl WsState {
    /// Stable lower-case name, also what the UI and its tests show.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Live => "live",
            Self::Reconnecting => "reconnecting",
        }
    }
}

/// What hello told us about the server end of the socket.
#[derive(Debug, Clone, PartialEq)]
pub struct HelloInfo {
    pub instance_id: String,
    pub heartbeat_interval_ms: u64,
}

/// One heartbeat, stamped with the client clock when it arrived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeartbeatSample {
    pub seq: u64,
    pub server_time_ms: i64,
    pub connections: usize,
    pub received_at_ms: f64,
}

/// When the next attempt starts and how many failed before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryInfo {
    pub attempt: u32,
    pub at_ms: f64,
}

/// Read-only view of the live connection, shared through context.
#[derive(Clone, Copy)]
pub struct LiveConnection {
    pub state: ReadSignal<WsState>,
    pub last_message: ReadSignal<Option<ServerMessage>>,
    pub hello: ReadSignal<Option<HelloInfo>>,
    pub last_heartbeat: ReadSignal<Option<HeartbeatSample>>,
    pub history: ReadSignal<VecDeque<HeartbeatSample>>,
    pub rtt_ms: ReadSignal<Option<f64>>,
    pub retry: ReadSignal<Option<RetryInfo>>,
    /// The deployment updates pushed for the signed-in team (see [`DeploymentFeed`]).
    pub deployments: ReadSignal<DeploymentFeed>,
}

#[derive(Clone, Copy)]
struct Writers {
    state: WriteSignal<WsState>,
    last_message: WriteSignal<Option<ServerMessage>>,
    hello: WriteSignal<Option<HelloInfo>>,
    last_heartbeat: WriteSignal<Option<HeartbeatSample>>,
    history: WriteSignal<VecDeque<HeartbeatSample>>,
    rtt_ms: WriteSignal<Option<f64>>,
    retry: WriteSignal<Option<RetryInfo>>,
    deployments: WriteSignal<DeploymentFeed>,
}

/// Opens the live connection and puts it in context; call once, at the root.
pub fn provide_live_connection() -> LiveConnection {
    let (state, set_state) = signal(WsState::Connecting);
    let (last_message, set_last_message) = signal(None);
    let (hello, set_hello) = signal(None);
    let (last_heartbeat, set_last_heartbeat) = signal(None);
    let (history, set_history) = signal(VecDeque::with_capacity(HISTORY_LEN));
    let (rtt_ms, set_rtt_ms) = signal(None);
    let (retry, set_retry) = signal(None);
    let (deployments, set_deployments) = signal(DeploymentFeed::default());
    let live = LiveConnection {
        state,
        last_message,
        hello,
        last_heartbeat,
        history,
        rtt_ms,
        retry,
        deployments,
    };
    let writers = Writers {
        state: set_state,
        last_message: set_last_message,
        hello: set_hello,
        last_heartbeat: set_last_heartbeat,
        history: set_history,
        rtt_ms: set_rtt_ms,
        retry: set_retry,
        deployments: set_deployments,
    };
    provide_context(live);
    // Every change of the session (sign-in, renewed token, team switch, sign-out) sets its
    // user: the socket then subscribes again, or drops the subscription.
    let (session_changed, changes) = mpsc::unbounded::<()>();
    if let Some(session) = use_context::<Session>() {
        Effect::new(move || {
            session.with_user(|_| ());
            let _ = session_changed.unbounded_send(());
        });
    }
    if let Some(url) = socket_url() {
        spawn_local(run(url, writers, changes));
    }
    live
}

pub fn use_live_connection() -> LiveConnection {
    expect_context::<LiveConnection>()
}

/// `ws://` or `wss://` (matching the page) to `/api/ws` on the page's own host.
pub fn socket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    Some(format!(
        "{scheme}//{}{}/ws",
        location.host().ok()?,
        super::API_BASE
    ))
}

/// Delay before attempt `attempt` (1-based): doubling from the base, capped, with ±20 %
/// jitter so many tabs do not reconnect in lockstep after a restart.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u32 {
    let exp = attempt.saturating_sub(1).min(16);
    let raw = BASE_BACKOFF_MS.saturating_mul(1 << exp).min(MAX_BACKOFF_MS);
    let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
    (f64::from(raw) * factor).round() as u32
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The session loop: connect, read until the socket drops or goes quiet, wait, repeat.
async fn run(url: String, tx: Writers, mut changes: mpsc::UnboundedReceiver<()>) {
    let mut failures: u32 = 0;
    loop {
        tx.state.set(if failures == 0 {
            WsState::Connecting
        } else {
            WsState::Reconnecting
        });
        if let Ok(socket) = WebSocket::open(&url)
            && read_socket(socket, tx, &mut changes).await
        {
            failures = 0;
        }
        failures = failures.saturating_add(1);
        let delay = backoff_ms(failures, js_sys::Math::random());
        tx.state.set(WsState::Reconnecting);
        tx.retry.set(Some(RetryInfo {
            attempt: failures,
            at_ms: now_ms() + f64::from(delay),
        }));
        TimeoutFuture::new(delay).await;
        tx.retry.set(None);
    }
}

/// What woke the socket loop.
enum Wake {
    Frame(Message),
    /// The session changed; `false` when nobody can tell about changes any more.
    SessionChanged(bool),
}

/// The `subscribe` message for the signed-in user's current token; `None` when nobody is
/// signed in.
async fn subscribe_message() -> Option<String> {
    let token = super::credentials().ok()?.token().await.ok()?;
    serde_json::to_string(&ClientMessage::Subscribe { token }).ok()
}

/// Reads one socket until it ends; true when it got as far as hello.
async fn read_socket(
    socket: WebSocket,
    tx: Writers,
    changes: &mut mpsc::UnboundedReceiver<()>,
) -> bool {
    let (mut sink, mut stream) = socket.split();
    let mut got_hello = false;
    // Subscribe once hello arrived, and again after every change of the session.
    let mut subscribe_due = true;
    let mut subscribed = false;
    let mut changes_open = true;
    // Quiet for three heartbeat intervals means the socket is dead even if it never closed.
    let mut silence_ms = HELLO_TIMEOUT_MS;
    let mut next_nonce: u64 = 1;
    let mut pings: HashMap<u64, f64> = HashMap::new();

    loop {
        if got_hello && subscribe_due {
            subscribe_due = false;
            match subscribe_message().await {
                Some(json) => {
                    if sink.send(Message::Text(json)).await.is_err() {
                        break;
                    }
                    subscribed = true;
                }
                None => {
                    tx.deployments.update(DeploymentFeed::reset);
                    // Signed out: only a new socket forgets the old subscription.
                    if subscribed {
                        break;
                    }
                }
            }
        }
        let next = stream.next();
        let changed = if changes_open {
            Either::Left(changes.next())
        } else {
            Either::Right(pending::<Option<()>>())
        };
        let quiet = TimeoutFuture::new(silence_ms);
        let woken = match select(select(next, changed), quiet).await {
            Either::Left((Either::Left((Some(Ok(frame)), _)), _)) => Wake::Frame(frame),
            Either::Left((Either::Right((change, _)), _)) => Wake::SessionChanged(change.is_some()),
            // Closed, errored or silent: let the caller reconnect.
            Either::Left((Either::Left((Some(Err(_)) | None, _)), _)) | Either::Right(_) => break,
        };
        let frame = match woken {
            Wake::Frame(frame) => frame,
            Wake::SessionChanged(open) => {
                changes_open = open;
                subscribe_due = open;
                // Several changes at once need one subscription.
                while changes.try_recv().is_ok() {}
                continue;
            }
        };
        let Message::Text(text) = frame else { continue };
        let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
            leptos::logging::warn!("hfb: ignoring an unknown WebSocket message: {text}");
            continue;
        };
        let mut ping_now = false;
        match &message {
            ServerMessage::Hello {
                instance_id,
                heartbeat_interval_ms,
                ..
            } => {
                got_hello = true;
                silence_ms = u32::try_from(heartbeat_interval_ms.saturating_mul(3))
                    .unwrap_or(u32::MAX)
                    .max(3_000);
                tx.hello.set(Some(HelloInfo {
                    instance_id: instance_id.clone(),
                    heartbeat_interval_ms: *heartbeat_interval_ms,
                }));
                tx.state.set(WsState::Live);
                ping_now = true;
            }
            ServerMessage::Heartbeat {
                seq,
                server_time_ms,
                connections,
            } => {
                let sample = HeartbeatSample {
                    seq: *seq,
                    server_time_ms: *server_time_ms,
                    connections: *connections,
                    received_at_ms: now_ms(),
                };
                tx.last_heartbeat.set(Some(sample));
                tx.history.update(|h| {
                    if h.len() == HISTORY_LEN {
                        h.pop_front();
                    }
                    h.push_back(sample);
                });
                ping_now = seq % PING_EVERY == 0;
            }
            ServerMessage::Pong {
                nonce: Some(nonce), ..
            } => {
                if let Some(sent) = pings.remove(nonce) {
                    tx.rtt_ms.set(Some(now_ms() - sent));
                }
            }
            ServerMessage::Pong { nonce: None, .. } => {}
            ServerMessage::Error { code, message } => {
                leptos::logging::warn!("hfb: WebSocket error from server: {code}: {message}");
            }
            ServerMessage::Subscribed { .. }
            | ServerMessage::Deployment { .. }
            | ServerMessage::DeploymentRemoved { .. } => {
                tx.deployments.update(|feed| {
                    feed.apply(&message);
                });
            }
        }
        tx.last_message.set(Some(message));

        if ping_now {
            let nonce = next_nonce;
            next_nonce += 1;
            // Unanswered pings from a previous stretch are stale; keep the map small.
            pings.retain(|n, _| nonce.saturating_sub(*n) < 4);
            pings.insert(nonce, now_ms());
            let ping = ClientMessage::Ping { nonce: Some(nonce) };
            if let Ok(json) = serde_json::to_string(&ping)
                && sink.send(Message::Text(json)).await.is_err()
            {
                break;
            }
        }
    }
    got_hello
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1, 0.5), 500);
        assert_eq!(backoff_ms(2, 0.5), 1_000);
        assert_eq!(backoff_ms(3, 0.5), 2_000);
        assert_eq!(backoff_ms(10, 0.5), 30_000);
        assert_eq!(backoff_ms(u32::MAX, 0.5), 30_000);
        assert_eq!(backoff_ms(1, 0.0), 400);
        assert_eq!(backoff_ms(1, 1.0), 600);
    }
}
