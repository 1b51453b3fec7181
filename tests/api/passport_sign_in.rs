//! People's email sign-in (one-time codes), over HTTP on both databases.
use crate::common::{code_in, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_code_signs_in_once_and_creates_the_passport,
    answers_do_not_reveal_whether_a_passport_exists,
    wrong_expired_and_malformed_codes_are_refused,
    repeated_wrong_codes_lock_the_address,
    resending_waits_and_replaces_the_code,
);

fn session_cookie(res: &reqwest::Response) -> String {
    let set = res.headers()["set-cookie"].to_str().unwrap();
    assert!(set.starts_with("mp_passport=") && set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn a_code_signs_in_once_and_creates_the_passport(app: TestApp) {
    let email = "ada@example.com";
    let sent = app.server_fn("passport/send_code", None, &[("email", "  Ada@Example.com ")]).await;
    assert_eq!(sent.status(), 200);
    assert_eq!(sent.text().await.unwrap(), "30", "seconds until a new code may be sent");
    let mail = &app.outbox().wait_for(1).await[0];
    assert!(mail.contains("To: ada@example.com"));
    let code = code_in(mail);
    assert!(memory_passport::store::passports::find_by_email(&app.db, email).await.unwrap().is_none(), "no Passport before the code is confirmed");

    let ok = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
    assert_eq!(ok.status(), 200);
    let cookie = session_cookie(&ok);
    let who = app.server_fn("passport/session", Some(&cookie), &[]).await;
    assert_eq!(who.text().await.unwrap(), "\"ada@example.com\"");
    assert!(memory_passport::store::passports::find_by_email(&app.db, email).await.unwrap().is_some());

    // Single use.
    let again = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
    assert_eq!(again.status(), 422);

    // Signing out ends the session on the server too.
    assert_eq!(app.server_fn("passport/sign_out", Some(&cookie), &[]).await.status(), 200);
    let who = app.server_fn("passport/session", Some(&cookie), &[]).await;
    assert_eq!(who.text().await.unwrap(), "null");
}

async fn answers_do_not_reveal_whether_a_passport_exists(app: TestApp) {
    memory_passport::store::passports::find_or_create(&app.db, "known@example.com").await.unwrap();
    let known = app.server_fn("passport/send_code", None, &[("email", "known@example.com")]).await;
    let unknown = app.server_fn("passport/send_code", None, &[("email", "unknown@example.com")]).await;
    assert_eq!(known.status(), unknown.status());
    let mut kh: Vec<String> = known.headers().keys().map(|k| k.to_string()).collect();
    let mut uh: Vec<String> = unknown.headers().keys().map(|k| k.to_string()).collect();
    kh.sort();
    uh.sort();
    assert_eq!(kh, uh);
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(app.outbox().wait_for(2).await.len(), 2, "both addresses get a code");
}

async fn wrong_expired_and_malformed_codes_are_refused(app: TestApp) {
    let email = "grace@example.com";
    app.server_fn("passport/send_code", None, &[("email", email)]).await;
    let code = code_in(&app.outbox().wait_for(1).await[0]);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for bad in [wrong, "12345", "abcdef", ""] {
        let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", bad)]).await;
        assert_eq!(res.status(), 422, "{bad:?}");
        assert!(res.headers().get("set-cookie").is_none());
    }
    // The right code for another address does not work here.
    let res = app.server_fn("passport/verify_code", None, &[("email", "other@example.com"), ("code", &code)]).await;
    assert_eq!(res.status(), 422);
    // Expired.
    sqlx::query("UPDATE otp_codes SET expires_at = 0").execute(&app.db.pool).await.unwrap();
    let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 422);
    // Not an address.
    let res = app.server_fn("passport/send_code", None, &[("email", "not an address")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("name@example.com"));
}

async fn repeated_wrong_codes_lock_the_address(app: TestApp) {
    let email = "mallory-target@example.com";
    app.server_fn("passport/send_code", None, &[("email", email)]).await;
    let code = code_in(&app.outbox().wait_for(1).await[0]);
    let wrong = if code == "999999" { "999998" } else { "999999" };
    let limit = memory_passport::service::limits::OTP_FAILURES_PER_EMAIL.max_hits;
    for _ in 0..limit {
        let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", wrong)]).await;
        assert_eq!(res.status(), 422);
    }
    let locked = app.server_fn("passport/verify_code", None, &[("email", email), ("code", wrong)]).await;
    assert_eq!(locked.status(), 429);
    assert!(locked.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 60);
    let right = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
    assert_eq!(right.status(), 429, "even the right code waits out the lock-out");
}

async fn resending_waits_and_replaces_the_code(app: TestApp) {
    let email = "linus@example.com";
    app.server_fn("passport/send_code", None, &[("email", email)]).await;
    let first = code_in(&app.outbox().wait_for(1).await[0]);
    let soon = app.server_fn("passport/send_code", None, &[("email", email)]).await;
    assert_eq!(soon.status(), 429);
    let wait: u64 = soon.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait));
    assert!(soon.text().await.unwrap().contains("Try again"));
    // After the cooldown (moved back in time here), a new code replaces the first.
    sqlx::query("UPDATE otp_codes SET created_at = created_at - 31000").execute(&app.db.pool).await.unwrap();
    assert_eq!(app.server_fn("passport/send_code", None, &[("email", email)]).await.status(), 200);
    let mails = app.outbox().wait_for(2).await;
    let second = code_in(&mails[1]);
    if first != second {
        let old = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &first)]).await;
        assert_eq!(old.status(), 422, "the earlier code no longer works");
    }
    let ok = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &second)]).await;
    assert_eq!(ok.status(), 200);
}

/// A minimal SMTP sink (RFC 5321's happy path) that hands each message's data to the test.
async fn smtp_sink() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("smtp://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            tx.send(std::mem::take(body)).unwrap();
                            data = None;
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (url, rx)
}

/// With SMTP_URL set, codes go over SMTP (here to a local sink) instead of to the outbox.
#[tokio::test]
async fn codes_are_delivered_over_smtp_when_configured() {
    let (url, mut inbox) = smtp_sink().await;
    let app = crate::common::spawn_app_with(crate::common::Backend::Sqlite, |c| c.smtp_url = Some(url)).await;
    assert_eq!(app.server_fn("passport/send_code", None, &[("email", "smtp@example.com")]).await.status(), 200);
    let message = tokio::time::timeout(std::time::Duration::from_secs(5), inbox.recv()).await.expect("mail arrives").unwrap();
    assert!(message.contains("To: smtp@example.com"));
    let code = code_in(&message.replace('\n', "\r\n"));
    let ok = app.server_fn("passport/verify_code", None, &[("email", "smtp@example.com"), ("code", &code)]).await;
    assert_eq!(ok.status(), 200);
    assert!(!app.dir.path().join("outbox").exists(), "nothing went to the outbox");
}
