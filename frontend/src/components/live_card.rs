//! The "Live connection" card: state of the WebSocket and its latest heartbeat.

use hfb_shared::ws::ServerMessage;
use leptos::prelude::*;

use crate::api::ws::{WsState, use_live_connection};
use crate::components::badge::{StatusBadge, Tone};
use crate::components::card::{Card, Field};
use crate::components::icon::IconKind;
use crate::format;

#[component]
pub fn LiveConnectionCard() -> impl IntoView {
    let live = use_live_connection();
    let tone = Signal::derive(move || match live.state.get() {
        WsState::Live => Tone::Ok,
        WsState::Connecting => Tone::Neutral,
        WsState::Reconnecting => Tone::Warn,
    });
    let label = Signal::derive(move || live.state.get().as_str().to_owned());
    let beat = move || live.last_heartbeat.get();

    view! {
        <Card
            title="Live connection"
            icon=IconKind::Pulse
            testid="live-connection".to_owned()
            aside=move || view! { <StatusBadge tone=tone label=label testid="ws-state" /> }
        >
            <p class="card-lead">
                {move || match live.state.get() {
                    WsState::Live => "Heartbeats arrive over the WebSocket at /api/ws.".to_owned(),
                    WsState::Connecting => "Opening the WebSocket at /api/ws…".to_owned(),
                    WsState::Reconnecting => {
                        match live.retry.get() {
                            Some(retry) => {
                                format!(
                                    "The connection dropped; reconnecting (attempt {}).",
                                    retry.attempt + 1,
                                )
                            }
                            None => "The connection dropped; reconnecting…".to_owned(),
                        }
                    }
                }}
            </p>
            <dl class="fields">
                <Field label="Last heartbeat">
                    {move || match beat() {
                        Some(b) => {
                            view! {
                                <span class="mono">
                                    "#"<span data-testid="ws-heartbeat-seq">{b.seq}</span>
                                </span>
                            }
                                .into_any()
                        }
                        None => view! { <span class="muted">"waiting…"</span> }.into_any(),
                    }}
                </Field>
                <Field label="Server time" testid="ws-server-time">
                    {move || {
                        beat()
                            .map(|b| format::clock_time_ms(b.server_time_ms as f64))
                            .unwrap_or_else(|| "—".to_owned())
                    }}
                </Field>
                <Field label="Connections" testid="ws-connections">
                    {move || {
                        beat().map(|b| b.connections.to_string()).unwrap_or_else(|| "—".to_owned())
                    }}
                </Field>
                <Field label="Round trip">
                    {move || live.rtt_ms.get().map(format::millis).unwrap_or_else(|| "—".to_owned())}
                </Field>
                <Field label="Last message" testid="ws-last-message">
                    {move || {
                        live.last_message
                            .get()
                            .map(|m| message_kind(&m))
                            .unwrap_or("—")
                    }}
                </Field>
                <Field label="Interval">
                    {move || {
                        live.hello
                            .get()
                            .map(|h| format::millis(h.heartbeat_interval_ms as f64))
                            .unwrap_or_else(|| "—".to_owned())
                    }}
                </Field>
            </dl>
        </Card>
    }
}

fn message_kind(message: &ServerMessage) -> &'static str {
    match message {
        ServerMessage::Hello { .. } => "hello",
        ServerMessage::Heartbeat { .. } => "heartbeat",
        ServerMessage::Pong { .. } => "pong",
        ServerMessage::Error { .. } => "error",
        ServerMessage::Subscribed { .. } => "subscribed",
        ServerMessage::Deployment { .. } => "deployment",
        ServerMessage::DeploymentRemoved { .. } => "deployment removed",
    }
}
