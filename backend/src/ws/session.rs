//! One WebSocket connection: forwards hub frames, answers pings, and closes sockets
//! whose peer stopped answering.

use std::sync::Arc;
use std::time::Instant;

use actix_ws::{CloseCode, CloseReason, Message};
use futures_util::StreamExt;
use hfb_shared::ws::{ClientMessage, ServerMessage};

use super::{Outbox, Outgoing, WsHub};
use crate::auth::tokens::TokenKeys;

/// Missed heartbeats after which a silent peer is disconnected.
const MISSED_HEARTBEATS: u32 = 3;

pub async fn run(
    mut session: actix_ws::Session,
    stream: actix_ws::MessageStream,
    outbox: Outbox,
    hub: WsHub,
    instance_id: Arc<str>,
    tokens: Arc<TokenKeys>,
) {
    let Outbox {
        id,
        mut frames,
        heartbeat,
    } = outbox;
    let mut stream = stream.max_frame_size(64 * 1024);
    let hello = ServerMessage::Hello {
        instance_id: instance_id.to_string(),
        heartbeat_interval_ms: u64::try_from(heartbeat.as_millis()).unwrap_or(u64::MAX),
        server_time_ms: now_ms(),
    };
    let mut close_reason = None;
    if send(&mut session, &hello).await {
        let mut last_seen = Instant::now();
        let mut ping_timer = tokio::time::interval(heartbeat);
        ping_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        close_reason = loop {
            tokio::select! {
                incoming = stream.next() => {
                    let Some(Ok(message)) = incoming else { break None };
                    last_seen = Instant::now();
                    match message {
                        Message::Text(text) => {
                            let answer = match serde_json::from_str::<ClientMessage>(&text) {
                                Ok(ClientMessage::Ping { nonce }) => ServerMessage::Pong { nonce, server_time_ms: now_ms() },
                                Ok(ClientMessage::Subscribe { token }) => match tokens.verify_access(&token) {
                                    Ok(claims) => {
                                        hub.subscribe(id, claims.team.clone());
                                        ServerMessage::Subscribed { team_id: claims.team }
                                    }
                                    Err(_) => ServerMessage::Error {
                                        code: "unauthorized".to_owned(),
                                        message: "the access token is invalid or expired; refresh it and subscribe again".to_owned(),
                                    },
                                },
                                Err(e) => ServerMessage::Error {
                                    code: "invalid_message".to_owned(),
                                    message: format!("expected a JSON message like {{\"type\":\"ping\"}}: {e}"),
                                },
                            };
                            if !send(&mut session, &answer).await { break None; }
                        }
                        Message::Binary(_) => {
                            let answer = ServerMessage::Error {
                                code: "invalid_message".to_owned(),
                                message: "binary frames are not supported; send JSON text".to_owned(),
                            };
                            if !send(&mut session, &answer).await { break None; }
                        }
                        Message::Ping(bytes) => {
                            if session.pong(&bytes).await.is_err() { break None; }
                        }
                        Message::Close(reason) => break reason,
                        Message::Pong(_) | Message::Continuation(_) | Message::Nop => {}
                    }
                }
                frame = frames.recv() => match frame {
                    Some(Outgoing::Text(text)) => {
                        if session.text(text.to_string()).await.is_err() { break None; }
                    }
                    Some(Outgoing::Close) => {
                        break Some(CloseReason { code: CloseCode::Away, description: Some("server shutting down".to_owned()) });
                    }
                    None => break None,
                },
                _ = ping_timer.tick() => {
                    if last_seen.elapsed() > heartbeat * MISSED_HEARTBEATS {
                        break Some(CloseReason { code: CloseCode::Away, description: Some("heartbeat timeout".to_owned()) });
                    }
                    if session.ping(b"").await.is_err() { break None; }
                }
            }
        };
    }
    hub.leave(id);
    let _ = session.close(close_reason).await;
}

async fn send(session: &mut actix_ws::Session, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => session.text(text).await.is_ok(),
        Err(_) => false,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
