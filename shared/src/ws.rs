//! Messages on the `/api/ws` WebSocket, as JSON text frames tagged by `type`.

use serde::{Deserialize, Serialize};

/// Server to client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message after the upgrade.
    Hello {
        /// The server process this socket is attached to.
        instance_id: String,
        /// How often `heartbeat` messages arrive.
        heartbeat_interval_ms: u64,
        /// Server clock, Unix milliseconds.
        server_time_ms: i64,
    },
    /// Sent to every client on a fixed interval; proves the socket is live.
    Heartbeat {
        /// Increases by one per tick of the hub.
        seq: u64,
        server_time_ms: i64,
        /// Sockets open on this instance.
        connections: usize,
    },
    /// Answer to a client `ping`.
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
        server_time_ms: i64,
    },
    /// The client sent something the server does not understand.
    Error { code: String, message: String },
    /// Answer to `subscribe`: deployment updates of this team will follow.
    Subscribed { team_id: String },
    /// A deployment of the subscribed team changed status, version or settings.
    Deployment {
        deployment: Box<crate::deployments::DeploymentInfo>,
    },
    /// A deployment of the subscribed team was removed.
    DeploymentRemoved { deployment_id: String },
}

/// Client to server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Ask for a `pong` (round-trip time measurement).
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    /// Receive live updates of the team of this access token (the same JWT the API takes).
    Subscribe { token: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_tagged_by_type() {
        let msg = ServerMessage::Heartbeat {
            seq: 3,
            server_time_ms: 1,
            connections: 2,
        };
        let json = serde_json::to_value(&msg).unwrap();
        assert_eq!(json["type"], "heartbeat");
        let ping: ClientMessage = serde_json::from_str(r#"{"type":"ping","nonce":7}"#).unwrap();
        assert_eq!(ping, ClientMessage::Ping { nonce: Some(7) });
    }
}
