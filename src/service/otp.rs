//! Email one-time codes: the sign-in of people (Passport owners). The answer to "send a code"
//! is the same whether or not the address has a Passport; the Passport is created when the
//! first code (or the one-click link of the same mail) is used.
//!
//! No stranger can lock a person out. Wrong codes are counted per address *and client*: a
//! stranger's guesses end that stranger's tries, not the person's on their own device. All
//! clients together get `OTP_FAILURES_PER_EMAIL_PER_DAY` wrong codes a day, which keeps a
//! six-digit code safe; past that, or whenever codes are refused, the mail's one-click link
//! (256 random bits, single use, no guess limit needed) still signs the mailbox's owner in.
use super::limits::{self, enforce};
use crate::auth::secrets;
use crate::auth::server_key::ServerKey;
use crate::domain::email;
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::store::passports::{self, Passport};
use crate::store::rate_limit::{self, Verdict};
use crate::store::{now_ms, otp, Db};
use rand::Rng;

/// A code (and its link) lives as long as the per-mailbox send window, so that the newest mail
/// always holds a live one while sends are refused.
pub const CODE_TTL_MS: i64 = 15 * 60 * 1000;
/// The shortest wait between two codes for one address (shown on the page as a countdown).
pub const RESEND_COOLDOWN_MS: i64 = 30 * 1000;
/// Where a one-click link goes after signing in, when the page that asked is not known.
pub const DEFAULT_RETURN: &str = "/manage";
/// The longest page path a sign-in link returns to (a consent link with its parameters).
pub const MAX_RETURN_CHARS: usize = 4096;

/// Six digits, uniformly, from the operating system's CSPRNG.
pub fn generate_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

fn email_key(key: &ServerKey, email: &str) -> String {
    key.hash(&["otp-email", email])
}

/// The limits of one mailbox: its plus-address and case variants share them.
fn mailbox_key(key: &ServerKey, email: &str) -> String {
    key.hash(&["otp-mailbox", &email::mailbox(email)])
}

/// Where the one-time-code state of `email` lives: its keyed hash, and the rate-limit
/// buckets named by it (so deleting a Passport can remove them too; the per-client counters
/// name no address and end within a day).
pub fn state_of(key: &ServerKey, email: &str) -> (String, Vec<String>) {
    let ekey = email_key(key, email);
    let buckets = vec![format!("otp-send:{}", mailbox_key(key, email)), format!("otp-fail-day:{ekey}")];
    (ekey, buckets)
}

fn code_hash(key: &ServerKey, email_key: &str, code: &str) -> String {
    key.hash(&["otp-code", email_key, code])
}

fn link_hash(key: &ServerKey, email_key: &str, token: &str) -> String {
    key.hash(&["otp-link", email_key, token])
}

/// Only digits, spaces and dashes are accepted (people paste "123 456").
fn normalize_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The page a sign-in link may return to: this site's consent page (with its link) or the
/// manage page, as a path; anything else is the manage page.
pub fn return_path(raw: &str) -> String {
    let ok = raw.len() <= MAX_RETURN_CHARS
        && !raw.chars().any(|c| c.is_control() || c == '\\' || c.is_whitespace())
        && (raw == "/manage" || raw.starts_with("/manage?") || raw.starts_with("/consent?"));
    if ok { raw.to_string() } else { DEFAULT_RETURN.to_string() }
}

/// The one-click sign-in address in a mail.
pub fn link_url(public_url: &str, email: &str, token: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("email", email).append_pair("token", token).finish();
    format!("{public_url}/passport/link?{query}")
}

/// Sends a code and a one-click link to `raw_email`; the link returns to `return_to` (see
/// [`return_path`]). Returns the seconds until another may be sent.
pub async fn send_code(
    db: &Db,
    key: &ServerKey,
    mailer: &Mailer,
    public_url: &str,
    client: &str,
    raw_email: &str,
    return_to: &str,
) -> AppResult<u64> {
    let email = email::normalize(raw_email).map_err(|m| AppError::invalid("email", m))?;
    let ekey = email_key(key, &email);
    let now = now_ms();
    if let Some(sent) = otp::sent_at(db, &ekey, now).await? {
        let wait = sent + RESEND_COOLDOWN_MS - now;
        if wait > 0 {
            return Err(AppError::RateLimited { retry_after_secs: (wait as u64).div_ceil(1000) });
        }
    }
    enforce(db, &format!("otp-send-client:{client}"), limits::OTP_SENDS_PER_CLIENT).await?;
    enforce(db, &format!("otp-send:{}", mailbox_key(key, &email)), limits::OTP_SENDS_PER_EMAIL).await?;
    let code = generate_code();
    let token = secrets::generate("").raw;
    let fresh = otp::NewCode {
        email_key: &ekey,
        code_hash: &code_hash(key, &ekey, &code),
        link_hash: &link_hash(key, &ekey, &token),
        return_to: &return_path(return_to),
    };
    otp::replace(db, &fresh, now, now + CODE_TTL_MS).await?;
    let minutes = CODE_TTL_MS / 60_000;
    let mail = Mail {
        to: email.clone(),
        subject: format!("{code} is your Memory Passport code"),
        text: format!(
            "Your Memory Passport sign-in code is:\n\n    {}\n\nOr sign in with one click:\n{}\n\n\
             Both work once, for the next {minutes} minutes, and only the newest mail's.\n\
             If you did not ask for it, you can ignore this mail: nobody can sign in without it.\n",
            code,
            link_url(public_url, &email, &token),
        ),
    };
    // Delivered in the background: the answer must not take longer for some addresses.
    let mailer = mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(error = %e, "could not deliver a sign-in code");
        }
    });
    Ok((RESEND_COOLDOWN_MS / 1000) as u64)
}

/// Checks a code; the Passport of the address (created on first use) when it is right.
pub async fn verify_code(db: &Db, key: &ServerKey, client: &str, raw_email: &str, raw_code: &str) -> AppResult<Passport> {
    let email = email::normalize(raw_email).map_err(|m| AppError::invalid("email", m))?;
    enforce(db, &format!("otp-verify-client:{client}"), limits::OTP_VERIFY_PER_CLIENT).await?;
    let ekey = email_key(key, &email);
    let mine = format!("otp-fail:{ekey}:{client}");
    let everyone = format!("otp-fail-day:{ekey}");
    let wrong = || AppError::invalid("code", "That code is wrong or has expired. Check the latest mail, or send a new code.");
    // This client is out of tries for this address, or all clients are for today: no code is
    // taken, not even the right one (the mail's link still is).
    if let Some(retry_after_secs) = rate_limit::peek(db, &mine, limits::OTP_FAILURES_PER_EMAIL).await? {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    if let Some(retry_after_secs) = rate_limit::peek(db, &everyone, limits::OTP_FAILURES_PER_EMAIL_PER_DAY).await? {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    let Some(code) = normalize_code(raw_code) else {
        return Err(AppError::invalid("code", "Enter the 6-digit code from the mail."));
    };
    // Without a live code there is nothing to guess, and nothing is counted.
    if otp::sent_at(db, &ekey, now_ms()).await?.is_none() {
        return Err(wrong());
    }
    // Every try is counted before the code is compared, atomically, so parallel requests
    // cannot get more guesses than the limits.
    if let Verdict::Limited { retry_after_secs } = rate_limit::hit(db, &mine, limits::OTP_FAILURES_PER_EMAIL).await? {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    if let Verdict::Limited { retry_after_secs } = rate_limit::hit(db, &everyone, limits::OTP_FAILURES_PER_EMAIL_PER_DAY).await? {
        // The day's guesses are spent: no code is compared again today (the check above),
        // while the link of the same mail still works for the mailbox's owner.
        return Err(AppError::RateLimited { retry_after_secs });
    }
    if otp::take_code(db, &ekey, &code_hash(key, &ekey, &code), now_ms()).await? {
        // A right code is not a guess: neither counter keeps it.
        rate_limit::reset(db, &mine).await?;
        rate_limit::undo_hit(db, &everyone).await?;
        return Ok(passports::find_or_create(db, &email).await?);
    }
    Err(wrong())
}

/// Uses a one-click link: the Passport (created on first use) and the page to return to.
/// The token has 256 bits, so it needs no guess limit of its own; the per-client check limit
/// bounds the work a client can cause.
pub async fn verify_link(db: &Db, key: &ServerKey, client: &str, raw_email: &str, token: &str) -> AppResult<(Passport, String)> {
    let unusable = || AppError::invalid("token", "This sign-in link has been used or has expired. Send a new code to get a new one.");
    let email = email::normalize(raw_email).map_err(|_| unusable())?;
    enforce(db, &format!("otp-verify-client:{client}"), limits::OTP_VERIFY_PER_CLIENT).await?;
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(unusable());
    }
    let ekey = email_key(key, &email);
    match otp::take_link(db, &ekey, &link_hash(key, &ekey, token), now_ms()).await? {
        Some(return_to) => Ok((passports::find_or_create(db, &email).await?, return_path(&return_to))),
        None => Err(unusable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> = (0..200).map(|_| generate_code()).collect();
        assert!(codes.iter().all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
        assert!(codes.len() > 190, "200 draws from a million collide rarely");
    }

    #[test]
    fn code_input_is_forgiving_but_strict_about_digits() {
        assert_eq!(normalize_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_code("123-456").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
        assert_eq!(normalize_code("1234567"), None);
    }

    #[test]
    fn links_return_only_to_our_consent_and_manage_pages() {
        assert_eq!(return_path("/consent?agent_id=a&state=s"), "/consent?agent_id=a&state=s");
        assert_eq!(return_path("/manage"), "/manage");
        assert_eq!(return_path("/manage?revoke=x"), "/manage?revoke=x");
        for bad in ["https://evil.example/", "//evil.example/consent?x", "/consentx", "/dashboard", "", "/consent?a=\\b",
            "/consent?a\r\nb", "javascript:alert(1)", "/manage/../dashboard", "/consent? x"] {
            assert_eq!(return_path(bad), DEFAULT_RETURN, "{bad:?}");
        }
        assert_eq!(return_path(&format!("/consent?{}", "a".repeat(MAX_RETURN_CHARS))), DEFAULT_RETURN);
    }

    #[test]
    fn hashes_are_keyed_per_address() {
        let key = ServerKey::from_secret(&"k".repeat(32)).unwrap();
        let a = email_key(&key, "a@example.com");
        assert_ne!(a, email_key(&key, "b@example.com"));
        assert_ne!(code_hash(&key, &a, "123456"), code_hash(&key, &email_key(&key, "b@example.com"), "123456"));
        assert!(!a.contains("example"));
    }
}
