//! Fixed-window counters in the database, shared by every server process.
use super::{now_ms, Db, StoreResult};

/// Stale windows older than this are swept.
pub const LONGEST_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max_hits: i64,
    pub window_ms: i64,
}

/// Outcome of counting one hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit; try again after this many seconds.
    Limited { retry_after_secs: u64 },
}

/// Counts one hit against `bucket` and says whether it is within `limit`.
pub async fn hit(db: &Db, bucket: &str, limit: Limit) -> StoreResult<Verdict> {
    let now = now_ms();
    let (hits, window_start): (i64, i64) = sqlx::query_as(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (bucket) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $3 THEN $2 ELSE rate_limits.window_start END \
         RETURNING hits, window_start",
    )
    .bind(bucket)
    .bind(now)
    .bind(now - limit.window_ms)
    .fetch_one(&db.pool)
    .await?;
    Ok(verdict(hits, window_start, now, limit))
}

/// Whether `bucket` is over `limit` right now, without counting a hit: the seconds left.
pub async fn peek(db: &Db, bucket: &str, limit: Limit) -> StoreResult<Option<u64>> {
    let now = now_ms();
    let row: Option<(i64, i64)> = sqlx::query_as("SELECT hits, window_start FROM rate_limits WHERE bucket = $1 AND window_start > $2")
        .bind(bucket)
        .bind(now - limit.window_ms)
        .fetch_optional(&db.pool)
        .await?;
    Ok(match row.map(|(hits, start)| verdict(hits, start, now, limit)) {
        Some(Verdict::Limited { retry_after_secs }) => Some(retry_after_secs),
        _ => None,
    })
}

/// Takes back one hit (a counted attempt that turned out not to be a failure).
pub async fn undo_hit(db: &Db, bucket: &str) -> StoreResult<()> {
    sqlx::query("UPDATE rate_limits SET hits = hits - 1 WHERE bucket = $1 AND hits > 0").bind(bucket).execute(&db.pool).await?;
    Ok(())
}

/// Forgets a bucket, e.g. the failed-attempt counter after a successful sign-in.
pub async fn reset(db: &Db, bucket: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM rate_limits WHERE bucket = $1").bind(bucket).execute(&db.pool).await?;
    Ok(())
}

fn verdict(hits: i64, window_start: i64, now: i64, limit: Limit) -> Verdict {
    if hits <= limit.max_hits {
        Verdict::Allowed
    } else {
        let remaining_ms = (window_start + limit.window_ms - now).max(1000);
        Verdict::Limited { retry_after_secs: (remaining_ms as u64).div_ceil(1000) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_counts_and_rounds_retry_up() {
        let limit = Limit { max_hits: 3, window_ms: 60_000 };
        assert_eq!(verdict(3, 0, 10_000, limit), Verdict::Allowed);
        assert_eq!(verdict(4, 0, 10_000, limit), Verdict::Limited { retry_after_secs: 50 });
        assert_eq!(verdict(4, 0, 59_999, limit), Verdict::Limited { retry_after_secs: 1 });
        assert_eq!(verdict(4, 0, 10_500, limit), Verdict::Limited { retry_after_secs: 50 });
    }
}
