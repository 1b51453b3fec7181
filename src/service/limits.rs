//! Every rate limit in one table, so they are explicit and easy to review. Counters live in
//! the database (see `store::rate_limit`), shared by all server processes.
use crate::error::{AppError, AppResult};
use crate::store::rate_limit::{self, Limit, Verdict};
use crate::store::Db;

const MINUTE: i64 = 60 * 1000;

/// Wrong passwords per account from one client before that client is refused for the account
/// for the rest of the window (the owner on another machine is not).
pub const SIGN_IN_PER_EMAIL: Limit = Limit { max_hits: 10, window_ms: 15 * MINUTE };
/// Sign-in attempts allowed per client address (many accounts, one attacker).
pub const SIGN_IN_PER_CLIENT: Limit = Limit { max_hits: 50, window_ms: 15 * MINUTE };
/// New accounts per client address.
pub const SIGN_UPS_PER_CLIENT: Limit = Limit { max_hits: 10, window_ms: 60 * MINUTE };
/// Tenant management API calls per tenant.
pub const TENANT_API_PER_TENANT: Limit = Limit { max_hits: 300, window_ms: MINUTE };
/// Public agent profile reads per client address.
pub const PUBLIC_PROFILE_PER_CLIENT: Limit = Limit { max_hits: 300, window_ms: MINUTE };

/// Sign-in codes sent to one mailbox (its case and plus-address variants together), besides
/// the 30-second wait between two. A code lives as long as this window, so while a stranger
/// keeps the window full the newest mail in the mailbox always holds a live code and link.
pub const OTP_SENDS_PER_EMAIL: Limit = Limit { max_hits: 5, window_ms: 15 * MINUTE };
/// Sign-in codes sent per client, to any addresses.
pub const OTP_SENDS_PER_CLIENT: Limit = Limit { max_hits: 20, window_ms: 15 * MINUTE };
/// Wrong codes for one address from one client before that client may try no more codes for
/// it until the window ends. Other clients (the person on their own device) are unaffected.
pub const OTP_FAILURES_PER_EMAIL: Limit = Limit { max_hits: 5, window_ms: 15 * MINUTE };
/// Wrong codes for one address from all clients together in a day; past it no code is taken
/// for that address until the day ends (the one-click link in the mail still signs in).
/// 20 guesses a day at a 6-digit code: 1 in 50,000 a day.
pub const OTP_FAILURES_PER_EMAIL_PER_DAY: Limit = Limit { max_hits: 20, window_ms: 24 * 60 * MINUTE };
/// Code checks per client address.
pub const OTP_VERIFY_PER_CLIENT: Limit = Limit { max_hits: 30, window_ms: 15 * MINUTE };

/// Consent answers (approve or deny) per person: each approval writes a grant event, a token
/// or code and sends a mail.
pub const CONSENT_ANSWERS_PER_PERSON: Limit = Limit { max_hits: 30, window_ms: 60 * MINUTE };

/// Failed agent authentications (bad key or token) per client address.
pub const AGENT_AUTH_FAILURES_PER_CLIENT: Limit = Limit { max_hits: 60, window_ms: MINUTE };
/// OAuth self-registrations (RFC 7591) from one client address.
pub const OAUTH_REGISTRATIONS_PER_CLIENT: Limit = Limit { max_hits: 10, window_ms: 60 * MINUTE };
/// OAuth self-registrations from everywhere: bounds how fast the table of self-registered
/// apps can grow (those nobody uses are swept after a week).
pub const OAUTH_REGISTRATIONS_OVERALL: Limit = Limit { max_hits: 1_000, window_ms: 60 * MINUTE };
/// Client metadata documents read on behalf of one client address (each is then cached).
pub const OAUTH_METADATA_READS_PER_CLIENT: Limit = Limit { max_hits: 30, window_ms: MINUTE };
/// Refused OAuth token requests (bad codes, verifiers, refresh tokens) from one client address.
pub const OAUTH_TOKEN_FAILURES_PER_CLIENT: Limit = Limit { max_hits: 60, window_ms: MINUTE };

/// Counts one hit on `bucket`; `RateLimited` (with the wait) when over `limit`.
pub async fn enforce(db: &Db, bucket: &str, limit: Limit) -> AppResult<()> {
    match rate_limit::hit(db, bucket, limit).await? {
        Verdict::Allowed => Ok(()),
        Verdict::Limited { retry_after_secs } => Err(AppError::RateLimited { retry_after_secs }),
    }
}
