//! Sign-in codes, flooding and guessing (`docs/security-matrix.md`, rows 1* and 2*): mail floods
//! from one client and to one address whatever its spelling, and code guessing across
//! spellings of one address and across many addresses. Each test runs on SQLite and on
//! PostgreSQL.
use crate::common::{is_to, request_code, retry_after, set_cookie, TestApp};
use crate::on_both_backends;
use memory_passport::service::limits;

on_both_backends!(
    code_sends_from_one_client_are_capped,
    code_sends_to_one_address_are_capped_whatever_its_spelling,
    code_lock_out_holds_across_spellings_and_ends_the_code,
    code_guessing_across_addresses_is_capped_per_client,
);

/// Attack: mail flood from one client: "send code" to many different addresses.
/// Outcome: the first `OTP_SENDS_PER_CLIENT` (20 per 15 minutes) are sent; every further
/// request is 429 with Retry-After (at most the window) and sends no mail and stores no code.
async fn code_sends_from_one_client_are_capped(app: TestApp) {
    let limit = limits::OTP_SENDS_PER_CLIENT.max_hits as usize;
    for i in 0..limit {
        let res = app.server_fn("passport/send_code", None, &[("email", &format!("flood{i}@example.com"))]).await;
        assert_eq!(res.status(), 200, "send {i}");
    }
    assert_eq!(app.outbox().settled_count(limit).await, limit);
    for i in 0..5 {
        let res = app.server_fn("passport/send_code", None, &[("email", &format!("more{i}@example.com"))]).await;
        assert_eq!(res.status(), 429, "over the per-client limit");
        let wait = retry_after(&res);
        assert!((1..=15 * 60).contains(&wait), "{wait}");
        assert!(res.text().await.unwrap().contains("Try again"));
    }
    assert_eq!(app.outbox().settled_count(limit).await, limit, "no mail beyond the limit");
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM otp_codes").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(codes, limit as i64, "no code was stored for refused requests");
}

/// Attack: mail flood to one address (mail-bombing a victim), varying the address's case and
/// surrounding spaces to dodge the limit.
/// Outcome: all spellings are one address. Within 30 s a second send is 429 (cooldown); past
/// the cooldown, `OTP_SENDS_PER_EMAIL` (5 per 15 minutes) codes are sent and the next is 429
/// with a Retry-After longer than the cooldown; the outbox holds exactly 5 mails.
async fn code_sends_to_one_address_are_capped_whatever_its_spelling(app: TestApp) {
    let spellings = ["bombed@example.com", "BOMBED@example.com", " Bombed@Example.COM ", "bombed@EXAMPLE.com", "bOmBeD@example.com\t", "BOMBED@EXAMPLE.COM"];
    let limit = limits::OTP_SENDS_PER_EMAIL.max_hits as usize;
    let age_codes = || sqlx::query("UPDATE otp_codes SET created_at = created_at - 31000").execute(&app.db.pool);
    for (i, spelling) in spellings.iter().enumerate().take(limit) {
        assert_eq!(app.server_fn("passport/send_code", None, &[("email", *spelling)]).await.status(), 200, "send {i}");
        let soon = app.server_fn("passport/send_code", None, &[("email", spellings[(i + 1) % spellings.len()])]).await;
        assert_eq!(soon.status(), 429, "cooldown holds across spellings");
        assert!(retry_after(&soon) <= 30);
        age_codes().await.unwrap();
    }
    let res = app.server_fn("passport/send_code", None, &[("email", spellings[limit])]).await;
    assert_eq!(res.status(), 429, "over the per-address limit");
    assert!(retry_after(&res) > 30, "the window, not the cooldown: {}", retry_after(&res));
    assert_eq!(app.outbox().settled_count(limit).await, limit, "no mail beyond the limit");
    assert!(app.outbox().all().iter().all(|m| is_to(m, "bombed@example.com")), "one normalised address");
}

/// Attack: guessing a victim's sign-in code while varying the address's spelling
/// ("A@Example.com " vs "a@example.com") to get more guesses.
/// Outcome: every spelling counts against one address: after `OTP_FAILURES_PER_EMAIL` (5)
/// wrong codes from this client every spelling is 429 (Retry-After over a minute), even with
/// the right code; once the window ends the right code works.
async fn code_lock_out_holds_across_spellings_and_ends_the_code(app: TestApp) {
    let email = "victim-code@example.com";
    let spellings = ["Victim-Code@Example.com ", " victim-code@example.com", "VICTIM-CODE@EXAMPLE.COM", "victim-code@Example.Com", "\tvIcTiM-cOdE@example.com"];
    let code = request_code(&app, email, None).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let limit = limits::OTP_FAILURES_PER_EMAIL.max_hits as usize;
    for spelling in spellings.iter().take(limit) {
        let res = app.server_fn("passport/verify_code", None, &[("email", *spelling), ("code", wrong)]).await;
        assert_eq!(res.status(), 422, "{spelling:?}");
    }
    let locked = app.server_fn("passport/verify_code", None, &[("email", spellings[0]), ("code", wrong)]).await;
    assert_eq!(locked.status(), 429);
    assert!(retry_after(&locked) > 60);
    for spelling in spellings.iter().chain([&email]) {
        let res = app.server_fn("passport/verify_code", None, &[("email", *spelling), ("code", &code)]).await;
        assert_eq!(res.status(), 429, "the right code waits too, spelled {spelling:?}");
        assert!(res.headers().get("set-cookie").is_none());
    }
    // The lock is this client's (round 2: a stranger's guesses must not lock the person out);
    // the code itself is discarded only when the address's guesses for the day are spent
    // (`api/hardening.rs::lock_out::day_ceiling_*`). After the window, this client may try
    // again, and the code in the mail still works.
    sqlx::query("UPDATE rate_limits SET window_start = window_start - 16 * 60 * 1000 WHERE bucket LIKE 'otp-fail:%'").execute(&app.db.pool).await.unwrap();
    let res = app.server_fn("passport/verify_code", None, &[("email", spellings[2]), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "the right code works once the client's window ends");
    assert_eq!(app.server_fn("passport/session", Some(&set_cookie(&res, "mp_passport").unwrap()), &[]).await.text().await.unwrap(), format!("\"{email}\""));
}

/// Attack: guessing codes across many addresses from one client (one guess each, staying
/// under every per-address limit).
/// Outcome: `OTP_VERIFY_PER_CLIENT` (30 per 15 minutes) checks are answered; the next is 429
/// with Retry-After, even for an address whose right code is sent from that client.
async fn code_guessing_across_addresses_is_capped_per_client(app: TestApp) {
    let real = "real-person@example.com";
    let code = request_code(&app, real, None).await;
    let limit = limits::OTP_VERIFY_PER_CLIENT.max_hits as usize;
    for i in 0..limit {
        let res = app.server_fn("passport/verify_code", None, &[("email", &format!("target{i}@example.com")), ("code", "123456")]).await;
        assert_eq!(res.status(), 422, "guess {i}");
    }
    let res = app.server_fn("passport/verify_code", None, &[("email", "target-last@example.com"), ("code", "123456")]).await;
    assert_eq!(res.status(), 429);
    assert!((1..=15 * 60).contains(&retry_after(&res)));
    let res = app.server_fn("passport/verify_code", None, &[("email", real), ("code", &code)]).await;
    assert_eq!(res.status(), 429, "the client is limited, whatever it sends");
    let passports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passports").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(passports, 0, "no Passport was created by guessing");
}
