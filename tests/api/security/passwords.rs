//! Tenant passwords (`docs/security-matrix.md`, row 3b): password guessing on the tenant
//! sign-in across spellings of one account's email and across many accounts. Each test runs
//! on SQLite and on PostgreSQL.
use crate::common::{retry_after, TestApp};
use crate::on_both_backends;
use memory_passport::service::limits;

on_both_backends!(
    password_guessing_across_accounts_and_spellings_is_capped,
);

/// Attack: password guessing on the tenant sign-in, varying the email's case and spaces to get
/// a fresh allowance, then spreading guesses over many accounts from one client.
/// Outcome: spellings share one account's limit (`SIGN_IN_PER_EMAIL`, 10 wrong passwords,
/// then 429 even for the right password, no cookie); from one client `SIGN_IN_PER_CLIENT`
/// (50 per 15 minutes) attempts are answered and then every attempt is 429, including the
/// right password of an untouched account.
async fn password_guessing_across_accounts_and_spellings_is_capped(app: TestApp) {
    let victim = app.tenant("pw-victim").await;
    let bystander = app.tenant("pw-bystander").await;
    let attempt = |email: String, password: String| {
        let app = &app;
        async move { app.server_fn("tenant/sign_in", None, &[("email", email.as_str()), ("password", password.as_str())]).await }
    };
    let upper = victim.email.to_uppercase();
    let spellings = [victim.email.clone(), format!(" {upper}"), format!("{} ", victim.email), upper.clone(), format!("\t{}", victim.email)];
    let per_account = limits::SIGN_IN_PER_EMAIL.max_hits as usize;
    for i in 0..per_account {
        let res = attempt(spellings[i % spellings.len()].clone(), format!("wrong password {i}")).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let res = attempt(upper.clone(), victim.password.clone()).await;
    assert_eq!(res.status(), 429, "locked, whatever the spelling");
    assert!(retry_after(&res) > 60);
    assert!(res.headers().get("set-cookie").is_none());

    let per_client = limits::SIGN_IN_PER_CLIENT.max_hits as usize;
    for i in per_account + 1..per_client {
        let res = attempt(format!("guess{i}@example.com"), "password123".into()).await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = attempt(bystander.email.clone(), bystander.password.clone()).await;
    assert_eq!(res.status(), 429, "the client is limited after {per_client} attempts");
    assert!((1..=15 * 60).contains(&retry_after(&res)));
    assert!(res.headers().get("set-cookie").is_none());
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(sessions, 0, "no session was started");
}
