//! Wire compatibility with the published Python client `memoryo-sdk`: a token from a real
//! consent (redirect, code, PKCE exchange), then tests/sdk/check_memoryo_sdk.py drives this
//! server with `UniversalMemory`. The test command makes the venv (tests/sdk/.venv) and sets
//! MP_SDK_PYTHON; without it this test says so and passes only when MP_REQUIRE_SDK is unset.
use crate::common::{call, connect, exchange, query, spawn_app, AgentCreds, Backend, Person, TestApp, REDIRECT};
use memory_passport::auth::pkce;
use memory_passport::store::grants;
use serde_json::{json, Value};

fn sdk_python() -> Option<String> {
    crate::common::installed_tool("MP_SDK_PYTHON", "MP_REQUIRE_SDK", "memoryo-sdk")
}

fn run(python: &str, phase: &str, env: &[(&str, &str)]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_memoryo_sdk.py");
    let out = std::process::Command::new(python).arg(script).arg(phase).envs(env.iter().copied()).output().expect("python runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "memoryo-sdk check '{phase}' failed:\n{stdout}\n{stderr}");
    println!("{stdout}");
}

#[tokio::test]
async fn memoryo_sdk_drives_the_real_server() {
    let Some(python) = sdk_python() else { return };
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let cookie = Person::sign_in(&app, "sdk@example.com").await.cookie;

    // Read-write: the app's own redirect, a code, and the PKCE exchange on its backend.
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let verifier = "sdk-verifier-".repeat(4);
    let answer = json!({
        "agent_id": agent_id, "state": "st", "redirect_uri": REDIRECT, "categories": ["preference", "fact"],
        "duration": "30_days", "access": "read_write",
        "code_challenge": pkce::challenge_of(&verifier), "code_challenge_method": "S256",
    });
    let approved: Value = call(&app, "consent/approve", Some(&cookie), &answer).await.json().await.unwrap();
    let code = query(approved["location"].as_str().unwrap(), "code").unwrap();
    let res = exchange(&app, &secret, &code, REDIRECT, Some(&verifier)).await;
    assert_eq!(res.status(), 200);
    let token = res.json::<Value>().await.unwrap()["data"]["uui_token"].as_str().unwrap().to_string();
    let grant_id = approved["grant_id"].as_str().unwrap().to_string();

    // Read-only: another app, the hosted completion flow.
    let ro_agent = AgentCreds::create(&app, &[], "read_only").await;
    let ro = connect(&app, &cookie, &ro_agent, &["preference"], "read_only").await;

    let env = [
        ("MP_BASE_URL", app.base.as_str()),
        ("MP_AGENT_KEY", secret.as_str()),
        ("MP_TOKEN", token.as_str()),
        ("MP_RO_AGENT_KEY", ro.secret.as_str()),
        ("MP_RO_TOKEN", ro.token.as_str()),
    ];
    let python2 = python.clone();
    let env_owned: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let run_phase = move |phase: &'static str| {
        let (python, env) = (python2.clone(), env_owned.clone());
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            run(&python, phase, &env)
        })
    };
    run_phase("live").await.unwrap();

    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = 'sdk@example.com'").fetch_one(&app.db.pool).await.unwrap();
    assert!(grants::revoke(&app.db, &passport_id, &grant_id).await.unwrap());
    run_phase("revoked").await.unwrap();
}
