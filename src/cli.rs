//! The command line: `serve` (the default) and admin commands that work on the same database.
use crate::config::{Config, DbArgs, ServeArgs};
use crate::domain::agent::AgentStatus;
use crate::error::AppError;
use crate::service;
use crate::store::accounts::{self, AccountKind};
use crate::store::{agents, Db};
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};

#[derive(Parser, Debug)]
#[command(name = "memory-passport", version, about = "Memory Passport server and admin commands")]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Tenant accounts and their API keys.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Operator accounts (they review global agents).
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Review global agents.
    #[command(subcommand)]
    Agent(AgentCommand),
}

#[derive(Subcommand, Debug)]
pub enum TenantCommand {
    /// Create a tenant account.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create a `mem_…` API key for a tenant and print it (once).
    ApiKey {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OperatorCommand {
    /// Create an operator account.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AgentCommand {
    /// List live global agents with their review status.
    List,
    /// Mark an agent verified.
    Verify { id: String },
    /// Reject an agent: it cannot receive grants.
    Reject { id: String },
    /// Suspend an agent: it cannot receive grants and its API calls fail.
    Suspend { id: String },
}

/// An error for the person at the terminal.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl From<AppError> for CliError {
    fn from(e: AppError) -> CliError {
        match e {
            AppError::Store(inner) => CliError(format!("database error: {inner}")),
            other => CliError(other.for_people()),
        }
    }
}

impl From<crate::store::StoreError> for CliError {
    fn from(e: crate::store::StoreError) -> CliError {
        CliError(format!("database error: {e}"))
    }
}

fn read_password(from_stdin: bool) -> Result<String, CliError> {
    let password = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| CliError(format!("could not read the password: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first = rpassword::prompt_password("Password: ").map_err(|e| CliError(e.to_string()))?;
        let again = rpassword::prompt_password("Password again: ").map_err(|e| CliError(e.to_string()))?;
        if first != again {
            return Err(CliError("the two passwords differ".into()));
        }
        first
    };
    Ok(password)
}

async fn create_account(db: &Db, kind: AccountKind, email: &str, password_stdin: bool) -> Result<(), CliError> {
    let password = read_password(password_stdin)?;
    let account = service::accounts::register(db, kind, email, &password).await?;
    println!("created {} {} ({})", kind.session_kind(), account.email, account.id);
    Ok(())
}

/// Runs an admin command against the database named by `db_args`.
pub async fn run_admin(db_args: DbArgs, command: Command) -> Result<(), CliError> {
    let db = Db::connect(&db_args.database_url).await?;
    match command {
        Command::Serve(_) => unreachable!("serve is handled by main"),
        Command::Tenant(TenantCommand::Create { email, password_stdin }) => {
            create_account(&db, AccountKind::Tenant, &email, password_stdin).await
        }
        Command::Operator(OperatorCommand::Create { email, password_stdin }) => {
            create_account(&db, AccountKind::Operator, &email, password_stdin).await
        }
        Command::Tenant(TenantCommand::ApiKey { email, name }) => {
            let email = crate::domain::email::normalize(&email).map_err(|m| CliError(m.to_string()))?;
            let tenant = accounts::find_by_email(&db, AccountKind::Tenant, &email)
                .await?
                .ok_or_else(|| CliError(format!("no tenant with email {email}")))?;
            let (_, raw) = service::api_keys::create(&db, &tenant.id, &name).await?;
            println!("{raw}");
            eprintln!("Store this key now: it is shown only once.");
            Ok(())
        }
        Command::Agent(AgentCommand::List) => {
            for a in agents::list_all(&db).await? {
                println!("{}\t{}\t{}", a.id, a.status.as_str(), a.profile.name);
            }
            Ok(())
        }
        Command::Agent(cmd) => {
            let (id, status) = match cmd {
                AgentCommand::Verify { id } => (id, AgentStatus::Verified),
                AgentCommand::Reject { id } => (id, AgentStatus::Rejected),
                AgentCommand::Suspend { id } => (id, AgentStatus::Suspended),
                AgentCommand::List => unreachable!(),
            };
            let agent = service::agents::review(&db, &id, status, "cli")
                .await
                .map_err(|e| match e {
                    AppError::NotFound => CliError(format!("no live agent with id {id}")),
                    other => other.into(),
                })?;
            println!("{}\t{}\t{}", agent.id, agent.status.as_str(), agent.profile.name);
            Ok(())
        }
    }
}

/// Parses arguments and runs; the process exit code follows the result.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.db, ServeArgs::parse_from_env()).await,
        Some(Command::Serve(args)) => serve(cli.db, args).await,
        Some(command) => match run_admin(cli.db, command).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

async fn serve(db: DbArgs, args: ServeArgs) -> std::process::ExitCode {
    match crate::server::serve(Config::new(db, args)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

impl ServeArgs {
    /// Defaults and environment only, for `memory-passport` with no subcommand.
    fn parse_from_env() -> ServeArgs {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Only::parse_from(["memory-passport"]).serve
    }
}

/// Logs to stderr: text for people, or one JSON object per line with `LOG_FORMAT=json` (for
/// log collectors when several nodes run); RUST_LOG picks the level.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().flatten_event(true).with_current_span(true).init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn settings_parse_with_defaults_and_from_flags() {
        let cli = Cli::try_parse_from(["memory-passport", "serve"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!("serve") };
        assert!(args.trusted_proxies.0.is_empty());
        assert_eq!(args.site_addr.to_string(), "127.0.0.1:3000");
        let cli = Cli::try_parse_from(["memory-passport", "serve", "--trusted-proxies", "10.0.0.1, ::1"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!("serve") };
        assert_eq!(args.trusted_proxies.0.len(), 2);
        assert!(Cli::try_parse_from(["memory-passport", "serve", "--trusted-proxies", "proxy"]).is_err());
        assert!(Cli::try_parse_from(["memory-passport", "agent", "verify"]).is_err(), "an id is required");
    }
}
