//! The official MCP Python SDK (`mcp` on PyPI) as a real client of `/mcp`, with its own OAuth
//! client: tests/mcp/check_mcp_sdk.py discovers, registers, authorizes, calls the tools, steps
//! up, refreshes, and is cut off by a revocation. This test is the person: each time the SDK
//! opens the authorization URL, it follows it to our consent page and answers it through the
//! page's own server function (two categories read-only, then write for the step-up, then
//! again after the SDK's tokens were revoked), and revokes the app on `/manage` when asked.
//! The test command makes the venv (tests/mcp/.venv) and sets MP_MCP_PYTHON; without it the
//! test says so and passes only when MP_REQUIRE_MCP is unset.
use crate::common::{connect, spawn_app, AgentCreds, Backend, McpClient, Person, TestApp, REDIRECT};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn mcp_python() -> Option<String> {
    crate::common::installed_tool("MP_MCP_PYTHON", "MP_REQUIRE_MCP", "MCP SDK")
}

/// What the person chooses at each authorization, in order (`None`: the step-up, whose link
/// must offer what the app held plus fact).
const CHOICES: [(Option<&[&str]>, &str); 3] = [(Some(&["preference", "goal"]), "read_only"), (None, "read_write"), (Some(&["goal"]), "read_only")];

#[tokio::test]
async fn the_official_python_sdk_connects_with_oauth() {
    let Some(python) = mcp_python() else { return };
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let person = Person::sign_in(&app, "python-sdk@example.com").await;
    let writer = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let c = connect(&app, &person.cookie, &writer, &["preference", "fact", "goal"], "read_write").await;
    for said in ["I prefer green tea in the morning.", "I work as a nurse in Leeds."] {
        let job = c.add(&app, said).await;
        c.finished(&app, &job).await;
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/check_mcp_sdk.py");
    let mut child = tokio::process::Command::new(&python)
        .arg(script)
        .env("MP_BASE_URL", &app.base)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut rounds, mut said) = (0, Vec::new());
    while let Some(line) = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line()).await.expect("the SDK answers").unwrap() {
        said.push(line.clone());
        let reply = if let Some(url) = line.strip_prefix("AUTHORIZE ") {
            let (categories, access) = CHOICES[rounds.min(CHOICES.len() - 1)];
            rounds += 1;
            let res = app.client.get(url).send().await.unwrap();
            assert_eq!(res.status(), 303, "authorize hands over to the consent page");
            let link = res.headers()["location"].to_str().unwrap().to_string();
            let offered = crate::common::query(&link, "categories").unwrap_or_default();
            let offered: Vec<&str> = offered.split(',').collect();
            // The step-up's link offers what the app held (and the SDK's first request, all
            // six) plus fact; the person keeps their two and adds fact.
            let categories = categories.unwrap_or_else(|| {
                let wanted: &[&str] = &["preference", "goal", "fact"];
                assert!(wanted.iter().all(|c| offered.contains(c)), "the step-up keeps what the app held: {link}");
                wanted
            });
            let client = McpClient { client_id: String::new(), verifier: String::new() };
            format!("CALLBACK {}\n", client.consent(&app, &person.cookie, &link, categories, access).await)
        } else if line == "REVOKE" {
            let me = person.me(&app);
            let grants: Value = me.call(reqwest::Method::GET, "/v1/uui/me/grants", None).await.json().await.unwrap();
            let grant = grants["data"].as_array().unwrap().iter().find(|g| g["agent"]["name"] == "MCP SDK check").expect("on /manage").clone();
            let res = me.call(reqwest::Method::DELETE, &format!("/v1/uui/me/grants/{}", grant["id"].as_str().unwrap()), None).await;
            assert!(res.status().is_success());
            "REVOKED\n".to_string()
        } else {
            continue;
        };
        stdin.write_all(reply.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.last().map(String::as_str) == Some("OK"), "the SDK check failed:\n{}\n{stderr}", said.join("\n"));
    assert_eq!(rounds, 3, "three authorizations: first, step-up, after the family was revoked");
}
