//! The live WebSocket: hello, heartbeats, ping/pong, bad frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{assert_error, spawn_app};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(socket: &mut Socket) -> serde_json::Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("valid frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON text frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

async fn next_of_type(socket: &mut Socket, kind: &str) -> serde_json::Value {
    for _ in 0..50 {
        let msg = next_json(socket).await;
        if msg["type"] == kind {
            return msg;
        }
    }
    panic!("no {kind} message");
}

#[tokio::test]
async fn a_socket_gets_hello_then_increasing_heartbeats() {
    let app = spawn_app().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let hello = next_json(&mut socket).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    assert_eq!(hello["heartbeat_interval_ms"], 200);
    let version: serde_json::Value = app.get("/api/v1/version").await.json().await.unwrap();
    assert_eq!(hello["instance_id"], version["instance_id"]);
    let first = next_of_type(&mut socket, "heartbeat").await;
    let second = next_of_type(&mut socket, "heartbeat").await;
    assert!(second["seq"].as_u64() > first["seq"].as_u64());
    assert_eq!(second["connections"], 1);
}

#[tokio::test]
async fn ping_gets_pong_and_garbage_gets_an_error_message() {
    let app = spawn_app().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    socket
        .send(Message::text(r#"{"type":"ping","nonce":41}"#))
        .await
        .unwrap();
    let pong = next_of_type(&mut socket, "pong").await;
    assert_eq!(pong["nonce"], 41);
    socket.send(Message::text("not json")).await.unwrap();
    let err = next_of_type(&mut socket, "error").await;
    assert_eq!(err["code"], "invalid_message");
    // The socket stays usable after a bad message.
    socket
        .send(Message::text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    next_of_type(&mut socket, "pong").await;
}

#[tokio::test]
async fn closed_sockets_leave_the_hub() {
    let app = spawn_app().await;
    let (mut a, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let (mut b, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    next_json(&mut b).await;
    let beat = loop {
        let beat = next_of_type(&mut a, "heartbeat").await;
        if beat["connections"] == 2 {
            break beat;
        }
    };
    assert_eq!(beat["connections"], 2);
    b.close(None).await.unwrap();
    drop(b);
    let mut seen_one = false;
    for _ in 0..20 {
        if next_of_type(&mut a, "heartbeat").await["connections"] == 1 {
            seen_one = true;
            break;
        }
    }
    assert!(seen_one, "the closed socket was never removed");
}

#[tokio::test]
async fn a_plain_get_is_told_to_upgrade() {
    let app = spawn_app().await;
    let body = assert_error(app.get("/api/ws").await, 400, "bad_request").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("WebSocket")
    );
}

#[tokio::test]
async fn a_graceful_shutdown_closes_sockets_with_going_away() {
    let app = spawn_app().await;
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    next_json(&mut socket).await;
    app.state.hub.shutdown();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        assert!(std::time::Instant::now() < deadline, "no close frame");
        match tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(u16::from(frame.code), 1001);
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}
