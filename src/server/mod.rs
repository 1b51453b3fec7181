//! The HTTP server: one router for pages, server functions, static files and `/v1`.
pub mod metrics;
mod server_fn_errors;

pub use crate::web::AppState;
use crate::request::id as request_id;
use crate::web::{csrf, headers};

use crate::app::{shell, App};
use crate::auth::server_key::{KeyError, ServerKey};
use crate::config::Config;
use crate::mail::{MailError, Mailer};
use crate::store::{Db, StoreError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;

/// Largest request body accepted anywhere (the JSON API has its own, smaller limit).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Connects to the database (migrating it), loads the server key, sets up mail, and builds
/// the application.
pub async fn build(config: Config) -> Result<(Router, AppState), StartError> {
    let db = Db::connect(&config.database_url).await?;
    let key = match &config.secret_key {
        Some(secret) => ServerKey::from_secret(&secret.0)?,
        None => ServerKey::from_file(&config.secret_key_file)?,
    };
    let mailer = Mailer::new(config.smtp_url.as_deref(), config.mail_outbox_dir.clone(), &config.mail_from)?;
    let state = AppState::new(config, db, key, mailer);
    crate::service::token_count::warm();
    spawn_background(&state);
    Ok((router(state.clone()), state))
}

/// The app's routes, worked out once per process. Working them out runs the app with resource
/// loading switched off for the whole process (leptos-rs/leptos#4773): a page render whose
/// resource first polls meanwhile waits for ever. Doing it once, before the first server
/// serves, keeps it from overlapping any render (tests start many servers in one process).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let options = state.leptos_options.clone();
    // Pages and server functions; `/v1` has its own limit so that its 413 is in the envelope.
    let pages = Router::new()
        .leptos_routes(&state, routes, move || shell(options.clone()))
        // The same pages' steps as plain form posts (before or without the script).
        .route("/consent", post(crate::app::forms::consent))
        .route("/manage", post(crate::app::forms::manage))
        .route("/passport/link", post(crate::app::forms::use_link))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_errors::client_errors))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES));
    metrics::handle();
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::render))
        .nest("/v1", crate::api::v1::router())
        .merge(crate::api::oauth::router())
        .merge(crate::api::mcp::router(state.clone()))
        .nest("/pkg", crate::web::assets::pkg(&state.config.site_root, state.config.hash_files))
        .route("/assets/{file}", get(crate::web::assets::consent_script))
        .merge(pages)
        // After routing, so requests are counted under their route's pattern.
        .route_layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::guard));
    // Outside the CSRF guard, so that its refusals carry the headers too.
    headers::layers(app)
        .layer(CompressionLayer::new())
        .layer(request_id::trace_layer())
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let addr = config.site_addr;
    let (app, state) = build(config).await?;
    spawn_sweeper(state.db.clone(), state.universal.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, public_url = %state.config.public_url, "memory-passport listening");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    // Use counts gathered since the last flush.
    state.universal.usage.flush(&state.db).await;
    Ok(())
}

/// The agent API's helpers: job workers and the batched writer of memory use.
fn spawn_background(state: &AppState) {
    use crate::service::universal::{commit, usage, worker};
    let _ = state.universal.committer.set(commit::Committer::spawn(state.db.clone()));
    worker::spawn(state.db.clone(), state.universal.clone(), state.config.job_workers, state.config.job_claim_secs as i64 * 1000);
    if state.config.job_workers > 0 {
        worker::spawn_backfill(state.db.clone(), state.universal.clone());
    }
    let (db, universal) = (state.db.clone(), state.universal.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(usage::FLUSH_EVERY);
        loop {
            tick.tick().await;
            universal.usage.flush(&db).await;
        }
    });
    let (db, universal) = (state.db.clone(), state.universal.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::service::universal::corpus::STALE_CHECK_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = universal.corpora.drop_stale(&db, universal.model_id()).await {
                tracing::warn!(error = %e, "checking cached memories failed");
            }
        }
    });
}

fn spawn_sweeper(db: Db, universal: Arc<crate::service::universal::Universal>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            universal.tidy();
            match db.sweep().await {
                Ok(removed) => {
                    for (table, rows) in removed.into_iter().filter(|(_, n)| *n > 0) {
                        tracing::debug!(table, rows, "swept rows past their retention");
                        ::metrics::counter!("swept_rows_total", "table" => table).increment(rows);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sweeping expired rows failed"),
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Whether the build's list of hashed file names is where Leptos looks for it.
fn hash_file_beside_binary() -> bool {
    std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt"))).is_some_and(|p| p.is_file())
}

impl AppState {
    pub fn new(mut config: Config, db: Db, key: ServerKey, mailer: Mailer) -> AppState {
        // Leptos reads the hashed names from `hash.txt` beside the binary on every page and
        // cannot render without it: a build that wrote none serves the plain names.
        if config.hash_files && !hash_file_beside_binary() {
            tracing::warn!("LEPTOS_HASH_FILES is set but no hash.txt is beside the binary (build with LEPTOS_HASH_FILES=true cargo leptos build); serving unhashed file names");
            config.hash_files = false;
        }
        let leptos_options = LeptosOptions::builder()
            .output_name("memory-passport")
            .site_root(config.site_root.as_str())
            .site_pkg_dir("pkg")
            .hash_files(config.hash_files)
            .site_addr(config.site_addr)
            .build();
        let embedder = match &config.embedding {
            Some((dir, mode)) => match crate::embed::shared(dir, *mode) {
                Ok(e) => {
                    tracing::info!(model = e.model_id(), dir = %dir.display(), "semantic search on");
                    Some(e)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "semantic search off: the embedding model did not load; retrieval ranks by keywords");
                    None
                }
            },
            None => {
                tracing::info!("semantic search off: EMBEDDING_MODEL_DIR is not set; retrieval ranks by keywords (make run sets it)");
                None
            }
        };
        let universal = Arc::new(crate::service::universal::Universal::new(config.agent_rate_limit, embedder));
        AppState { leptos_options, db, config: Arc::new(config), key, mailer, universal }
    }
}
