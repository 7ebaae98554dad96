//! What each SMS gateway sent per day (parts) and to whom per month, for its quotas across restarts.

use rusqlite::{Connection, params};

use super::Result;
use crate::domain::quota::Usage;

/// Adds one send (in the transaction that records it as sent).
pub fn add(conn: &Connection, u: &Usage) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO gateway_days(gateway, day, parts) VALUES (?1, ?2, ?3) \
         ON CONFLICT (gateway, day) DO UPDATE SET parts = parts + excluded.parts",
    )?
    .execute(params![u.gateway, u.day, u.parts])?;
    conn.prepare_cached("INSERT OR IGNORE INTO gateway_recipients(gateway, month, subscriber_id) VALUES (?1, ?2, ?3)")?
        .execute(params![u.gateway, u.month, u.recipient])?;
    Ok(())
}

/// The parts `gateway` sent on `day` and the subscribers it reached in `month`.
pub fn used(conn: &Connection, gateway: &str, day: i64, month: i64) -> Result<(u32, Vec<i64>)> {
    let parts: Option<u32> = conn
        .prepare_cached("SELECT parts FROM gateway_days WHERE gateway = ?1 AND day = ?2")?
        .query_row(params![gateway, day], |r| r.get(0))
        .map(Some)
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) })?;
    let recipients = conn
        .prepare_cached("SELECT subscriber_id FROM gateway_recipients WHERE gateway = ?1 AND month = ?2")?
        .query_map(params![gateway, month], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok((parts.unwrap_or(0), recipients))
}

/// Forgets days before `day` and months before `month` (housekeeping).
pub fn prune(conn: &Connection, day: i64, month: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM gateway_days WHERE day < ?1", [day])?
        + conn.execute("DELETE FROM gateway_recipients WHERE month < ?1", [month])?)
}
