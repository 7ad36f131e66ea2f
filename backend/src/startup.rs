//! Building the application from settings, and running it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, Condition, from_fn};
use actix_web::{App, HttpServer, web};
use hfb_cache::Cache;
use hfb_store::Store;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::auth::tokens::TokenKeys;
use crate::config::Settings;
use crate::error;
use crate::middleware::{SecurityHeaders, request_context};
use crate::openapi::ApiDoc;
use crate::routes;
use crate::spa;
use crate::state::AppState;
use crate::ws::WsHub;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot open the store: {0}")]
    Store(#[from] hfb_store::StoreError),
    #[error("cannot start the cache: {0}")]
    Cache(#[from] hfb_cache::CacheError),
    #[error("{0}")]
    Keys(#[from] crate::auth::tokens::KeyError),
    #[error("cannot open the artifact store: {0}")]
    Blobs(#[from] hfb_blob::BlobError),
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let store = open_store(&settings).await?;
        let cache = open_cache(&settings)?;
        let redis_url = settings.redis_url.as_ref().map(|s| s.expose());
        let limiter = hfb_cache::rate_limiter_from_url(redis_url)?;
        let tokens = Arc::new(TokenKeys::new(
            settings.jwt_secret.expose(),
            settings.jwt_refresh_secret.expose(),
        )?);
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind.clone(),
            source,
        })?;
        let local = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: settings.bind.clone(),
            source,
        })?;
        let blobs = hfb_blob::open(&hfb_blob::BlobSettings {
            data_dir: settings.data_dir.clone(),
            s3_bucket: settings.s3_bucket.clone(),
            s3_region: Some(settings.aws_region.clone()),
            s3_endpoint: settings.aws_endpoint_url.clone(),
            ..hfb_blob::BlobSettings::default()
        })
        .await?;
        let models_dir = settings.data_dir.join("models");
        match crate::services::local_models::register_all(store.as_ref(), &models_dir).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(models = n, "local models added to the catalog"),
            Err(e) => tracing::warn!(error = %e, "could not add local models to the catalog"),
        }
        let local_target = crate::targets::local::LocalTarget::new(models_dir);
        let targets = crate::targets::build(&settings, local_target.clone()).await;
        let state = AppState {
            targets,
            local: local_target.clone(),
            reconciler: crate::workers::reconciler::ReconcilerHandle::default(),
            blobs,
            hub: WsHub::spawn(settings.ws_heartbeat),
            tokens,
            limiter,
            live_hub: crate::services::catalog::live_hub(&settings),
            upstreams: Arc::new(crate::services::upstream::Upstreams::new(
                crate::services::upstream::UpstreamSettings::from_settings(&settings),
            )),
            lambda_signer: Arc::default(),
            hot: Arc::new(crate::services::hot::HotCaches::new(
                std::time::Duration::from_millis(settings.auth_cache_ms),
                std::time::Duration::from_millis(settings.deployment_cache_ms),
            )),
            settings: Arc::new(settings),
            store,
            cache,
            instance_id: uuid::Uuid::new_v4().simple().to_string()[..12].into(),
            started_at: Instant::now(),
        };
        let server = run(listener, state.clone())?;
        crate::workers::catalog_sync::spawn(state.clone());
        crate::workers::reconciler::spawn(state.clone());
        local_target.spawn_janitor(crate::services::deployments::on_scaled_to_zero(&state));
        let host = match local.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        Ok(Self {
            port: local.port(),
            host,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Base URL of this server, e.g. `http://127.0.0.1:3000`.
    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle that stops the server gracefully.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (graceful: in-flight requests finish) or `handle().stop()`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Opens the configured store (MongoDB when `MONGODB_URI` is set, else SQLite).
pub async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, StartupError> {
    let Some(uri) = &settings.mongodb_uri else {
        return Ok(Arc::new(
            hfb_store::SqliteStore::open(&settings.sqlite_path()).await?,
        ));
    };
    // MongoDB may come up after us (compose, ECS): wait for it a while before giving up.
    let mut delay = std::time::Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        match hfb_store::MongoStore::connect(uri.expose(), &settings.mongodb_database).await {
            Ok(store) => return Ok(Arc::new(store)),
            Err(hfb_store::StoreError::Unavailable(why)) if attempt < MONGO_CONNECT_ATTEMPTS => {
                tracing::warn!(attempt, error = %why, "MongoDB unavailable; retrying in {}s", delay.as_secs());
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// About a minute of retries at start before reporting MongoDB unreachable.
const MONGO_CONNECT_ATTEMPTS: u32 = 8;

fn open_cache(settings: &Settings) -> Result<Arc<dyn Cache>, StartupError> {
    Ok(hfb_cache::from_url(
        settings.redis_url.as_ref().map(|s| s.expose()),
    )?)
}

/// The whole HTTP application; also used by tests that need the route table.
fn run(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let settings = state.settings.clone();
    let data = web::Data::new(state);
    let max_body = settings.max_body_bytes;
    let static_dir = settings.static_dir.clone();
    let security = web::Data::new(SecurityHeaders::new(
        &spa::inline_script_hashes(&static_dir),
        settings.public_app_url.starts_with("https://"),
    ));
    let cors_origins = settings.cors_origins.clone();
    let mut server = HttpServer::new(move || {
        let (app, spec) = App::new()
            .app_data(data.clone())
            .app_data(security.clone())
            .app_data(
                web::JsonConfig::default()
                    .limit(max_body)
                    .error_handler(error::json_error),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error))
            .app_data(web::PathConfig::default().error_handler(error::path_error))
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(from_fn(request_context))
            // CORS is closed unless HFB_CORS_ORIGINS names origins.
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            // Outermost, so the error envelope is rewritten before the body is compressed.
            .wrap(Compress::default())
            .into_utoipa_app()
            .openapi(ApiDoc::openapi())
            .configure(routes::configure)
            .split_for_parts();
        app.app_data(web::Data::new(spa::RouteIndex::from_spec(&spec)))
            .service(routes::docs::services(&spec))
            // Unknown API paths answer JSON 404 for every method, never the web app.
            .service(web::scope("/api").default_service(web::to(spa::default_service)))
            .service(spa::service(static_dir.clone()))
            .default_service(web::to(spa::default_service))
    })
    .listen(listener)
    .map_err(|source| StartupError::Bind {
        addr: settings.bind.clone(),
        source,
    })?
    .shutdown_timeout(settings.shutdown_timeout_secs)
    // `main` handles SIGINT/SIGTERM itself, to close WebSockets before draining.
    .disable_signals();
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.run())
}

fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .allowed_header("x-csrf-token")
        .allowed_header("x-request-id")
        .expose_headers([
            "x-request-id",
            "retry-after",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
        ])
        .supports_credentials()
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The OpenAPI document of the whole route table (for `hfb openapi` and tests).
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, spec) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes::configure)
        .split_for_parts();
    spec
}
