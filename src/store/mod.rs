//! All SQL lives under this module. One code path for SQLite and PostgreSQL through sqlx's Any
//! driver; see migrations/ for the portable schema conventions.
pub mod accounts;
pub mod agents;
pub mod callers;
pub mod api_keys;
pub mod grants;
pub mod jobs;
pub mod memories;
pub mod oauth;
pub mod otp;
pub mod passports;
pub mod rate_limit;
pub mod sessions;

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Executor;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got {0:?})")]
    UnsupportedUrl(String),
    #[error("could not create the database folder {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error("a row with that unique value already exists")]
    Conflict,
    #[error("stored row is not valid: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// Maps a unique-constraint violation to `Conflict`, leaving other errors as they are.
pub(crate) fn conflict_or(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Db(e),
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The id of a memory or a job: a UUIDv7, so the ids one process makes sort in the order it
/// made them. The memories of one message share a creation time and are loaded by (time, id);
/// a batch of jobs is worked in id order. With random ids, both orders (and so the ranking's
/// tie-breaks, and which message came before which) changed from one run to the next.
pub fn new_ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Ids from outside (paths, forms) that are not our UUIDs are simply unknown; checking first
/// also keeps bytes PostgreSQL refuses in text (NUL) away from SQL.
pub fn is_id(id: &str) -> bool {
    id.len() == 36 && uuid::Uuid::parse_str(id).is_ok()
}

/// Makes sure the folder of a SQLite file exists and asks SQLite to create the file.
fn prepare_sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" && !path.is_empty() {
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::DataDir(dir.display().to_string(), e))?;
        }
    }
    let mode = if query.contains("mode=") { String::new() } else { "mode=rwc".to_string() };
    let query = [query.to_string(), mode].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("&");
    Ok(format!("sqlite://{path}?{query}"))
}

impl Db {
    /// Connects, creates the SQLite file if needed, and runs every migration.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, prepare_sqlite_url(url)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(url.split(':').next().unwrap_or("").to_string()));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while one writer commits; it is a property of the file.
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Db { pool, backend })
    }

    /// True when the database answers a trivial query (for /readyz).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Removes what is past its retention (see [`Retention`]); returns the rows removed per
    /// table. Runs every ten minutes in every server process (each sweep is idempotent).
    pub async fn sweep(&self) -> StoreResult<Vec<(&'static str, u64)>> {
        self.sweep_at(now_ms(), &Retention::DEFAULT).await
    }

    /// `sweep` as if the time were `now`.
    pub async fn sweep_at(&self, now: i64, keep: &Retention) -> StoreResult<Vec<(&'static str, u64)>> {
        let steps: [(&'static str, &str, i64); 12] = [
            ("sessions", "DELETE FROM sessions WHERE expires_at < $1", now),
            ("rate_limits", "DELETE FROM rate_limits WHERE window_start < $1", now - rate_limit::LONGEST_WINDOW_MS),
            ("otp_codes", "DELETE FROM otp_codes WHERE expires_at < $1", now),
            ("exchange_codes", "DELETE FROM exchange_codes WHERE expires_at < $1", now - keep.dead_credentials_ms),
            (
                "uui_tokens",
                "DELETE FROM uui_tokens WHERE revoked_at < $1 OR grant_id IN \
                 (SELECT id FROM grants WHERE revoked_at < $1 OR expires_at < $1)",
                now - keep.dead_credentials_ms,
            ),
            (
                "memory_jobs",
                "DELETE FROM memory_jobs WHERE status IN ('completed', 'failed') AND completed_at < $1",
                now - keep.finished_jobs_ms,
            ),
            ("grant_events", "DELETE FROM grant_events WHERE created_at < $1", now - keep.grant_events_ms),
            (
                "memory_conflicts",
                "DELETE FROM memory_conflicts WHERE status = 'resolved' AND resolved_at < $1",
                now - keep.resolved_questions_ms,
            ),
            ("memory_uses", "DELETE FROM memory_uses WHERE grant_id IN (SELECT id FROM grants WHERE revoked_at < $1)", now - keep.grant_events_ms),
            ("memory_removals", "DELETE FROM memory_removals WHERE removed_at < $1", now - memories::REMOVALS_KEPT_MS),
            ("oauth_tokens", "DELETE FROM oauth_tokens WHERE expires_at < $1 OR revoked_at < $1", now - keep.dead_credentials_ms),
            (
                // Apps that registered themselves and were never reviewed nor given access.
                "self_registered_agents",
                "DELETE FROM global_agents WHERE tenant_id = 'self-registered' AND status = 'pending' AND created_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.agent_id = global_agents.id)",
                now - keep.unused_clients_ms,
            ),
        ];
        let mut removed = Vec::with_capacity(steps.len());
        for (table, sql, cutoff) in steps {
            let done = sqlx::query(sql).bind(cutoff).execute(&self.pool).await?;
            removed.push((table, done.rows_affected()));
        }
        Ok(removed)
    }
}

/// How long rows that nothing needs any more are kept before the sweeper removes them
/// (documented in the README's "Retention").
#[derive(Clone, Debug)]
pub struct Retention {
    /// Used or expired exchange codes, and `uui_` tokens of revoked or ended grants: a day, so
    /// that a replay in that time still finds (and refuses) them in the logs' terms.
    pub dead_credentials_ms: i64,
    /// Completed and failed add jobs (their conversation is already cleared): seven days, the
    /// time an idempotency key is honoured.
    pub finished_jobs_ms: i64,
    /// A person's grant history (and the use counts of grants revoked that long ago): a year.
    pub grant_events_ms: i64,
    /// Answered questions: ninety days.
    pub resolved_questions_ms: i64,
    /// Apps that registered themselves and that nobody reviewed or gave access to: a week.
    pub unused_clients_ms: i64,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl Retention {
    pub const DEFAULT: Retention = Retention {
        dead_credentials_ms: DAY_MS,
        finished_jobs_ms: 7 * DAY_MS,
        grant_events_ms: 365 * DAY_MS,
        resolved_questions_ms: 90 * DAY_MS,
        unused_clients_ms: 7 * DAY_MS,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(prepare_sqlite_url("sqlite::memory:").unwrap(), "sqlite://:memory:?mode=rwc");
        let dir = std::env::temp_dir().join(format!("mp-{}", new_id()));
        let url = format!("sqlite://{}/x/db.sqlite?mode=ro", dir.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), url);
        assert!(dir.join("x").is_dir());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
