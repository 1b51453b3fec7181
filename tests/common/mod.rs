//! The test world, in the manner of zero2prod's `tests/api/helpers.rs`: `app` starts the real
//! server (`spawn_app`, on a fresh SQLite file or a fresh PostgreSQL database) and drives it
//! over HTTP; `outbox` reads the mail it sent; `person` signs a person in and calls their own
//! API; `agent` registers agents, consents to them and calls the universal memory API as one;
//! `mcp` is an MCP client that registers itself over OAuth and calls `/mcp`.
//! Test files take every helper from here, never from each other.
#![allow(dead_code)]

pub mod agent;
pub mod app;
pub mod mcp;
pub mod outbox;
pub mod person;

// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use agent::{add_body, call, code_of, connect, exchange, query, AgentCreds, Connected, REDIRECT};
#[allow(unused_imports)]
pub use app::{
    expect_error, forget_limits, installed_tool, fresh_postgres_database, guide_body, postgres_admin_url, retry_after, row_counts, seg, server_fn_endpoint,
    sessions_for, set_cookie, spawn_app, RESERVED_TENANTS, spawn_app_with, spawn_node, table_names, value_of, Backend, Tenant, TestApp, TABLES,
};
#[allow(unused_imports)]
pub use mcp::{rpc, tokens_of, tool, tool_json, McpClient, Tokens, MCP_REDIRECT};
#[allow(unused_imports)]
pub use outbox::{code_in, decode_quoted_printable, is_code_mail, is_to, Outbox};
#[allow(unused_imports)]
pub use person::{me, request_code, Me, Person};

/// Runs each listed test against SQLite and PostgreSQL, as separate test cases. (Many servers
/// start in this one process: see `server::route_list` for why their route list is worked out
/// only once.)
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test] async fn $name() { super::$name(crate::common::spawn_app(crate::common::Backend::Sqlite).await).await } )*
        }
        mod postgres {
            $( #[tokio::test] async fn $name() {
                if crate::common::postgres_admin_url().is_some() {
                    super::$name(crate::common::spawn_app(crate::common::Backend::Postgres).await).await
                }
            } )*
        }
    };
}
