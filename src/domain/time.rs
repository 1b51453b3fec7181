//! Timestamps are integer milliseconds since the Unix epoch everywhere (portable across SQLite
//! and PostgreSQL); these helpers render them.
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

fn to_datetime(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 in UTC with millisecond precision, as the API puts it on the wire.
pub fn rfc3339(ms: i64) -> String {
    let dt = to_datetime(ms.div_euclid(1000) * 1000 + ms.rem_euclid(1000));
    dt.format(&Rfc3339).unwrap_or_default()
}

/// Milliseconds since the epoch of an RFC 3339 time ("2023-05-08T13:56:00Z", any offset).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A short human date for pages, e.g. "25 Nov 2026, 14:06 UTC".
pub fn human(ms: i64) -> String {
    let dt = to_datetime(ms);
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        dt.day(),
        MONTHS[dt.month() as usize - 1],
        dt.year(),
        dt.hour(),
        dt.minute()
    )
}

/// A day for pages, e.g. "2 Mar 2027" (UTC).
pub fn day(ms: i64) -> String {
    let dt = to_datetime(ms);
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {} {}", dt.day(), MONTHS[dt.month() as usize - 1], dt.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_a_known_instant() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        // 2026-11-25T14:06:48.123Z
        assert_eq!(rfc3339(1_795_615_608_123), "2026-11-25T14:06:48.123Z");
        assert_eq!(human(1_795_615_608_123), "25 Nov 2026, 14:06 UTC");
        assert_eq!(day(1_795_615_608_123), "25 Nov 2026");
    }
}
