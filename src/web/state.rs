use crate::config::Config;
use crate::auth::server_key::ServerKey;
use crate::mail::Mailer;
use crate::store::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Shared by every handler and, through Leptos context, every server function.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub key: ServerKey,
    pub mailer: Mailer,
    /// Caches, use counters, rate limits and the job signal of the agent API.
    pub universal: Arc<crate::service::universal::Universal>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}
