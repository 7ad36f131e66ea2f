//! The `hfb` command: `hfb serve` (the default) runs the platform.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use hfb_backend::config::Settings;
use hfb_backend::startup::{Application, openapi_document};
use hfb_backend::telemetry;

/// mimalloc rather than glibc's malloc: an inference call makes a few hundred small
/// allocations, and glibc spent ~15% of the hop's CPU in them (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hfb",
    version,
    about = "hfb — Hugging Face for Business: find, deploy, call and watch ML models"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server and the web app (the default). Configured by environment
    /// variables or a `.env` file; see the README's configuration table.
    Serve,
    /// Print the effective configuration as JSON, with secrets redacted.
    Config,
    /// Print the OpenAPI document of this build.
    Openapi,
    /// Manage the model catalog.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Manage the local model store (models the built-in runtime serves).
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Probe `/healthz` of a running server; exit 0 when it answers 200 (container health checks).
    Healthcheck {
        /// Base URL to probe. Default: derived from HFB_BIND.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Copy a model folder (Hugging Face layout: config.json, tokenizer.json,
    /// model.safetensors...) into the store, after checking that the runtime loads it.
    Add {
        /// The model folder.
        path: std::path::PathBuf,
        /// `owner/name` to register it as. Default: the folder's last two path components.
        #[arg(long)]
        id: Option<String>,
    },
    /// List the models in the store.
    List,
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import a JSON array in the Hub's `/api/models?full=true` format (air-gapped installs).
    /// Prints a JSON report; exits 1 when some entries were rejected.
    Import {
        /// The JSON file.
        file: std::path::PathBuf,
    },
}

/// The local runtime runs one single-threaded worker per core. candle would otherwise hand
/// every elementwise op to a process-wide pool of spinning threads that all workers share
/// (measured: one-call batches of 32 at 189 vs 305 sentences/s on 2 cores). candle reads
/// this only from the environment, once; an operator's own setting wins.
fn default_kernel_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // SAFETY: called first in `main`, before any thread is started (no runtime, no
        // logger, no worker yet), so nothing can read the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("CANDLE_NUM_THREADS", "1");
        }
    }
}

fn main() -> ExitCode {
    default_kernel_threads();
    // A missing .env is normal; a malformed one is reported.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("hfb: cannot read .env: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        return match openapi_document().to_pretty_json() {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hfb: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("hfb: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Config => match serde_json::to_string_pretty(&settings) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hfb: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Catalog {
            command: CatalogCommand::Import { file },
        } => catalog_import(settings, &file),
        Command::Models { command } => models_command(settings, command),
        Command::Healthcheck { url } => {
            healthcheck(url.unwrap_or_else(|| format!("http://{}", settings.bind)))
        }
        Command::Serve | Command::Openapi => serve(settings),
    }
}

fn serve(settings: Settings) -> ExitCode {
    telemetry::init(&settings);
    if let Some(path) = &settings.generated_secrets_file {
        tracing::warn!(
            path = %path.display(),
            "JWT_SECRET/JWT_REFRESH_SECRET are not set: using development secrets generated and kept in this file"
        );
    }
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).await?;
        let handle = app.handle();
        let hub = app.state().hub.clone();
        actix_web::rt::spawn(async move {
            wait_for_shutdown_signal().await;
            tracing::info!("shutting down: closing live sockets, finishing in-flight requests");
            hub.shutdown();
            handle.stop(true).await;
        });
        let url = app.url();
        tracing::info!(url = %url, "listening on {url}");
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok::<(), Box<dyn std::error::Error>>(())
    });
    telemetry::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "hfb failed to start");
            eprintln!("hfb: {e}");
            ExitCode::FAILURE
        }
    }
}

fn catalog_import(settings: Settings, file: &std::path::Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("hfb: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let result = actix_web::rt::System::new().block_on(async move {
        let store = hfb_backend::startup::open_store(&settings)
            .await
            .map_err(|e| e.to_string())?;
        hfb_backend::services::catalog::import(store.as_ref(), &bytes)
            .await
            .map_err(|e| e.message)
    });
    match result {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            if report.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("hfb: import failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn models_command(settings: Settings, command: ModelsCommand) -> ExitCode {
    use hfb_backend::services::local_models;
    let models_dir = settings.data_dir.join("models");
    match command {
        ModelsCommand::List => {
            for (id, dir) in local_models::list(&models_dir) {
                println!("{id}\t{}", dir.display());
            }
            ExitCode::SUCCESS
        }
        ModelsCommand::Add { path, id } => {
            let id = id.or_else(|| {
                let canonical = path.canonicalize().ok()?;
                let name = canonical.file_name()?.to_string_lossy().into_owned();
                let owner = canonical
                    .parent()?
                    .file_name()?
                    .to_string_lossy()
                    .into_owned();
                Some(format!("{owner}/{name}"))
            });
            let Some(id) = id else {
                eprintln!("hfb: say which id to register the model as: --id owner/name");
                return ExitCode::from(2);
            };
            let result = actix_web::rt::System::new().block_on(async move {
                let target = local_models::add(&models_dir, &path, &id).await?;
                let store = hfb_backend::startup::open_store(&settings)
                    .await
                    .map_err(|e| e.to_string())?;
                local_models::register_all(store.as_ref(), &models_dir)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((id, target))
            });
            match result {
                Ok((id, target)) => {
                    println!(
                        "added {id} at {} (in the catalog as a local model)",
                        target.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("hfb: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (orchestrators).
async fn wait_for_shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A dependency-free HTTP/1.0 GET of `/healthz` (images may lack curl).
fn healthcheck(base: String) -> ExitCode {
    let Some(authority) = base
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
    else {
        eprintln!("hfb: healthcheck needs an http:// URL");
        return ExitCode::from(2);
    };
    let authority = authority.replace("0.0.0.0", "127.0.0.1");
    let probe = || -> std::io::Result<bool> {
        let addr = authority
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))?;
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
        stream.set_read_timeout(Some(Duration::from_secs(3)))?;
        write!(stream, "GET /healthz HTTP/1.0\r\nHost: {authority}\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && &head[9..12] == b"200")
    };
    match probe() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("hfb: {base}/healthz did not answer 200");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("hfb: {base}/healthz: {e}");
            ExitCode::FAILURE
        }
    }
}
