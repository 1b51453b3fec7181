//! Email one-time codes: the sign-in of people (Passport owners). The answer to "send a code"
//! is the same whether or not the address has a Passport; the Passport is created when the
//! first code is confirmed.
use super::limits::{self, enforce};
use crate::auth::server_key::ServerKey;
use crate::domain::email;
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::store::passports::{self, Passport};
use crate::store::rate_limit::{self, Verdict};
use crate::store::{now_ms, otp, Db};
use rand::Rng;

pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// The shortest wait between two codes for one address (shown on the page as a countdown).
pub const RESEND_COOLDOWN_MS: i64 = 30 * 1000;

/// Six digits, uniformly, from the operating system's CSPRNG.
pub fn generate_code() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32))
}

fn email_key(key: &ServerKey, email: &str) -> String {
    key.hash(&["otp-email", email])
}

/// Where the one-time-code state of `email` lives: its keyed hash, and the rate-limit
/// buckets named by it (so deleting a Passport can remove them too).
pub fn state_of(key: &ServerKey, email: &str) -> (String, Vec<String>) {
    let ekey = email_key(key, email);
    let buckets = vec![format!("otp-send:{ekey}"), format!("otp-fail:{ekey}")];
    (ekey, buckets)
}

fn code_hash(key: &ServerKey, email_key: &str, code: &str) -> String {
    key.hash(&["otp-code", email_key, code])
}

/// Only digits, spaces and dashes are accepted (people paste "123 456").
fn normalize_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Sends a code to `raw_email`. Returns the seconds until another may be sent.
pub async fn send_code(db: &Db, key: &ServerKey, mailer: &Mailer, client: &str, raw_email: &str) -> AppResult<u64> {
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
    enforce(db, &format!("otp-send:{ekey}"), limits::OTP_SENDS_PER_EMAIL).await?;
    let code = generate_code();
    otp::replace(db, &ekey, &code_hash(key, &ekey, &code), now, now + CODE_TTL_MS).await?;
    let mail = Mail {
        to: email,
        subject: format!("{code} is your Memory Passport code"),
        text: format!(
            "Your Memory Passport sign-in code is:\n\n    {code}\n\nIt works once, for the next 10 minutes.\n\
             If you did not ask for it, you can ignore this mail: nobody can sign in without the code.\n"
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
    let failures = format!("otp-fail:{ekey}");
    let wrong = || AppError::invalid("code", "That code is wrong or has expired. Check the latest mail, or send a new code.");
    // Locked out: no code is accepted, not even the right one, until the window ends.
    if let Some(retry_after_secs) = locked_for(db, &failures).await? {
        return Err(AppError::RateLimited { retry_after_secs });
    }
    let Some(code) = normalize_code(raw_code) else {
        return Err(AppError::invalid("code", "Enter the 6-digit code from the mail."));
    };
    // Without a live code there is nothing to guess, and nothing is counted: strangers cannot
    // lock an address out.
    if otp::sent_at(db, &ekey, now_ms()).await?.is_none() {
        return Err(wrong());
    }
    // Every try is counted before the code is compared, atomically, so parallel requests
    // cannot get more guesses than the limit.
    if let Verdict::Limited { retry_after_secs } = rate_limit::hit(db, &failures, limits::OTP_FAILURES_PER_EMAIL).await? {
        otp::discard(db, &ekey).await?;
        return Err(AppError::RateLimited { retry_after_secs });
    }
    if otp::take(db, &ekey, &code_hash(key, &ekey, &code), now_ms()).await? {
        rate_limit::reset(db, &failures).await?;
        return Ok(passports::find_or_create(db, &email).await?);
    }
    Err(wrong())
}

/// Seconds left in a lock-out, if `bucket` is over its limit now.
async fn locked_for(db: &Db, bucket: &str) -> AppResult<Option<u64>> {
    Ok(rate_limit::peek(db, bucket, limits::OTP_FAILURES_PER_EMAIL).await?)
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
    fn hashes_are_keyed_per_address() {
        let key = ServerKey::from_secret(&"k".repeat(32)).unwrap();
        let a = email_key(&key, "a@example.com");
        assert_ne!(a, email_key(&key, "b@example.com"));
        assert_ne!(code_hash(&key, &a, "123456"), code_hash(&key, &email_key(&key, "b@example.com"), "123456"));
        assert!(!a.contains("example"));
    }
}
