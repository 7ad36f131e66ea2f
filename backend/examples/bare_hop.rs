//! The bare proxy hop `bench/proxy.sh` compares hfb with: actix-web and one pooled
//! `reqwest::Client`, nothing else (no auth, no validation, no limits, no logging).
//!
//! ```text
//! cargo run --release -p hfb-backend --example bare_hop -- \
//!     --upstream http://127.0.0.1:PORT/ep/NAME [--port 0] [--workers 1]
//! ```
//!
//! Every request (any path; wrk sends `POST`) sends its body to `--upstream` as `POST` with
//! `content-type: application/json` and answers the upstream's status, content type and
//! body; an unreachable upstream is a 502. Prints `listening on http://127.0.0.1:{port}`
//! once bound (port 0 picks a free port).

use std::io::Write;
use std::net::TcpListener;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Bare actix-web + reqwest proxy hop for bench/proxy.sh")]
struct Args {
    /// Where every request goes, e.g. `http://127.0.0.1:8080/ep/bench`.
    #[arg(long)]
    upstream: String,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

struct Hop {
    client: reqwest::Client,
    upstream: reqwest::Url,
}

async fn forward(hop: web::Data<Hop>, body: web::Bytes) -> HttpResponse {
    let sent = hop
        .client
        .post(hop.upstream.clone())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(e) => return HttpResponse::BadGateway().body(format!("upstream: {e}")),
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec());
    match answer.bytes().await {
        Ok(bytes) => {
            let mut res = HttpResponse::build(status);
            if let Some(ct) = content_type {
                res.insert_header(("content-type", ct));
            }
            res.body(bytes)
        }
        Err(e) => HttpResponse::BadGateway().body(format!("upstream body: {e}")),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let upstream = reqwest::Url::parse(&args.upstream).map_err(|e| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("--upstream: {e}"))
    })?;
    // One client (one connection pool) shared by every worker; loopback never needs a proxy.
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(std::io::Error::other)?;
    let hop = web::Data::new(Hop { client, upstream });
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    let addr = listener.local_addr()?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(hop.clone())
            .default_service(web::to(forward))
    })
    .workers(args.workers.max(1))
    .listen(listener)?
    .run();
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    server.await
}
