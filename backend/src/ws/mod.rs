//! WebSocket fan-out: a hub task owns the set of open sockets and is driven by an mpsc
//! command enum (no shared locks); each socket runs its own session task.

pub mod session;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hfb_shared::ws::ServerMessage;
use tokio::sync::{mpsc, oneshot};

/// Messages a slow socket may have queued before it misses some.
const OUTBOX_CAPACITY: usize = 64;

/// What the hub sends a socket.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A JSON text frame.
    Text(Arc<str>),
    /// The server is shutting down: close with 1001 so the client reconnects elsewhere.
    Close,
}

enum HubCommand {
    Join {
        id: u64,
        outbox: mpsc::Sender<Outgoing>,
    },
    Leave {
        id: u64,
    },
    Connections {
        reply: oneshot::Sender<usize>,
    },
    Broadcast {
        text: Arc<str>,
    },
    /// From now on the socket also gets the team's messages.
    Subscribe {
        id: u64,
        team_id: String,
    },
    /// Sends to the sockets subscribed to one team.
    BroadcastTeam {
        team_id: String,
        text: Arc<str>,
    },
    Shutdown,
}

/// A socket's membership in the hub: its id and the frames the hub sends it.
pub struct Outbox {
    pub id: u64,
    pub frames: mpsc::Receiver<Outgoing>,
    pub heartbeat: Duration,
}

/// Cheap to clone; every clone talks to the same hub task.
#[derive(Clone)]
pub struct WsHub {
    commands: mpsc::UnboundedSender<HubCommand>,
    next_id: Arc<AtomicU64>,
    heartbeat: Duration,
}

impl WsHub {
    /// Starts the hub task on the current Tokio runtime. It ends when every handle is dropped.
    pub fn spawn(heartbeat: Duration) -> Self {
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, heartbeat));
        Self {
            commands,
            next_id: Arc::new(AtomicU64::new(1)),
            heartbeat,
        }
    }

    pub fn heartbeat(&self) -> Duration {
        self.heartbeat
    }

    /// Registers a socket; `None` once the hub has stopped.
    pub async fn join(&self) -> Option<Outbox> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (outbox, frames) = mpsc::channel(OUTBOX_CAPACITY);
        self.commands.send(HubCommand::Join { id, outbox }).ok()?;
        Some(Outbox {
            id,
            frames,
            heartbeat: self.heartbeat,
        })
    }

    pub fn leave(&self, id: u64) {
        let _ = self.commands.send(HubCommand::Leave { id });
    }

    /// Sends a message to every open socket of this instance.
    pub fn broadcast(&self, message: &ServerMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            let _ = self
                .commands
                .send(HubCommand::Broadcast { text: text.into() });
        }
    }

    /// Subscribes a socket to its team's messages (after the session checked the token).
    pub fn subscribe(&self, id: u64, team_id: String) {
        let _ = self.commands.send(HubCommand::Subscribe { id, team_id });
    }

    /// Sends a message to the sockets of this instance subscribed to `team_id`.
    pub fn broadcast_team(&self, team_id: &str, message: &ServerMessage) {
        if let Ok(text) = serde_json::to_string(message) {
            let _ = self.commands.send(HubCommand::BroadcastTeam {
                team_id: team_id.to_owned(),
                text: text.into(),
            });
        }
    }

    /// Closes every socket (1001 going away) and stops accepting new ones: called when
    /// the server begins a graceful shutdown, so browsers reconnect to another instance.
    pub fn shutdown(&self) {
        let _ = self.commands.send(HubCommand::Shutdown);
    }

    /// Open sockets on this instance.
    pub async fn connections(&self) -> usize {
        let (reply, rx) = oneshot::channel();
        if self
            .commands
            .send(HubCommand::Connections { reply })
            .is_err()
        {
            return 0;
        }
        rx.await.unwrap_or(0)
    }
}

async fn run(mut commands: mpsc::UnboundedReceiver<HubCommand>, heartbeat: Duration) {
    let mut sockets: HashMap<u64, mpsc::Sender<Outgoing>> = HashMap::new();
    let mut teams: HashMap<u64, String> = HashMap::new();
    let mut ticker = tokio::time::interval(heartbeat);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut seq: u64 = 0;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                None => break,
                Some(HubCommand::Join { id, outbox }) => {
                    sockets.insert(id, outbox);
                }
                Some(HubCommand::Leave { id }) => {
                    sockets.remove(&id);
                    teams.remove(&id);
                }
                Some(HubCommand::Subscribe { id, team_id }) => {
                    if sockets.contains_key(&id) {
                        teams.insert(id, team_id);
                    }
                }
                Some(HubCommand::BroadcastTeam { team_id, text }) => {
                    sockets.retain(|id, outbox| {
                        if teams.get(id) != Some(&team_id) {
                            return true;
                        }
                        !matches!(
                            outbox.try_send(Outgoing::Text(text.clone())),
                            Err(mpsc::error::TrySendError::Closed(_))
                        )
                    });
                    teams.retain(|id, _| sockets.contains_key(id));
                }
                Some(HubCommand::Connections { reply }) => {
                    let _ = reply.send(sockets.len());
                }
                Some(HubCommand::Broadcast { text }) => fan_out(&mut sockets, &text),
                Some(HubCommand::Shutdown) => {
                    for (_, outbox) in sockets.drain() {
                        let _ = outbox.try_send(Outgoing::Close);
                    }
                    break;
                }
            },
            _ = ticker.tick() => {
                seq += 1;
                if sockets.is_empty() {
                    continue;
                }
                let beat = ServerMessage::Heartbeat {
                    seq,
                    server_time_ms: chrono::Utc::now().timestamp_millis(),
                    connections: sockets.len(),
                };
                if let Ok(text) = serde_json::to_string(&beat) {
                    fan_out(&mut sockets, &Arc::from(text));
                }
            }
        }
    }
}

/// Queues `text` for every socket; a full queue skips this message for that socket
/// (a slow client never stalls the others), a closed one is forgotten.
fn fan_out(sockets: &mut HashMap<u64, mpsc::Sender<Outgoing>>, text: &Arc<str>) {
    sockets.retain(
        |_, outbox| match outbox.try_send(Outgoing::Text(text.clone())) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        },
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn hub_counts_sockets_and_sends_heartbeats() {
        let hub = WsHub::spawn(Duration::from_millis(50));
        let mut a = hub.join().await.unwrap();
        let b = hub.join().await.unwrap();
        assert_eq!(hub.connections().await, 2);
        let frame = tokio::time::timeout(Duration::from_secs(2), a.frames.recv())
            .await
            .unwrap()
            .unwrap();
        let Outgoing::Text(frame) = frame else {
            panic!("expected a text frame, got {frame:?}");
        };
        let msg: ServerMessage = serde_json::from_str(&frame).unwrap();
        assert!(
            matches!(msg, ServerMessage::Heartbeat { connections: 2, .. }),
            "{msg:?}"
        );
        hub.leave(b.id);
        assert_eq!(hub.connections().await, 1);
        drop(a);
        // A dropped socket is forgotten on the next fan-out.
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(hub.connections().await, 0);
    }

    #[tokio::test]
    async fn shutdown_tells_every_socket_to_close() {
        let hub = WsHub::spawn(Duration::from_secs(60));
        let mut a = hub.join().await.unwrap();
        hub.shutdown();
        let frame = tokio::time::timeout(Duration::from_secs(2), a.frames.recv())
            .await
            .unwrap();
        assert!(matches!(frame, Some(Outgoing::Close)), "{frame:?}");
        assert!(hub.join().await.is_none() || hub.connections().await == 0);
    }
}
