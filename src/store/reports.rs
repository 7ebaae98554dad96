//! Delivery reports from gateways: a sent delivery becomes delivered or failed (its broadcast's counts
//! follow), and a report that arrives before its send is recorded is kept until it is.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, in_write_tx};
use crate::domain::Reason;
use crate::domain::{DeliveryState, Transport};

/// A delivery report from a gateway: `sent` becomes `delivered`, or `failed` (moving the count from
/// sent to failed). Returns `false` when no sent delivery has that gateway id (yet): the report is then
/// kept for when its send is recorded.
pub fn report(
    conn: &Connection,
    transport: Transport,
    gateway_id: &str,
    delivered: bool,
    error: Option<&Reason>,
    now: i64,
) -> Result<bool> {
    in_write_tx(conn, |tx| {
        let applied = apply(tx, transport, gateway_id, delivered, error, now)?;
        if !applied {
            // Perhaps its send is not recorded yet: kept, and applied when it is (see `apply_early`).
            tx.prepare_cached(
                "INSERT INTO early_reports(transport, gateway_id, delivered, error, at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (transport, gateway_id) DO UPDATE \
                 SET delivered = excluded.delivered, error = excluded.error, at = excluded.at",
            )?
            .execute(params![transport, gateway_id, delivered, error, now])?;
        }
        Ok(applied)
    })
}

/// Puts a sent delivery the gateway could not send after all (a phone's sending limit) back in the
/// queue until `at`: no longer counted as sent, its broadcast running again if it had finished.
pub fn requeue(
    conn: &Connection,
    transport: Transport,
    gateway_id: &str,
    reason: &Reason,
    now: i64,
    at: i64,
) -> Result<bool> {
    in_write_tx(conn, |tx| {
        let hit: Option<Option<i64>> = tx
            .prepare_cached(
                "UPDATE deliveries SET state = 'queued', gateway_id = NULL, error = ?3, next_attempt_at = ?4, updated_at = ?5 \
                 WHERE gateway_id = ?2 AND transport = ?1 AND state = 'sent' RETURNING broadcast_id",
            )?
            .query_row(params![transport, gateway_id, reason, at, now], |r| r.get(0))
            .optional()?;
        let Some(broadcast) = hit else { return Ok(false) };
        if let Some(b) = broadcast {
            tx.prepare_cached(
                "UPDATE broadcasts SET sent = sent - 1, \
                 state = CASE state WHEN 'done' THEN 'sending' ELSE state END, \
                 finished_at = CASE state WHEN 'done' THEN NULL ELSE finished_at END WHERE id = ?1",
            )?
            .execute([b])?;
            super::broadcasts::note_waiting(tx, crate::domain::BroadcastId(b), at, reason)?;
        }
        Ok(true)
    })
}

/// Applies one report to the sent delivery with that gateway id; `false` when there is none.
fn apply(
    conn: &Connection,
    transport: Transport,
    gateway_id: &str,
    delivered: bool,
    error: Option<&Reason>,
    now: i64,
) -> Result<bool> {
    let to = if delivered { DeliveryState::Delivered } else { DeliveryState::Failed };
    let hit: Option<Option<i64>> = conn
        .prepare_cached(
            "UPDATE deliveries SET state = ?3, error = ?4, updated_at = ?5 \
             WHERE gateway_id = ?2 AND transport = ?1 AND state = 'sent' RETURNING broadcast_id",
        )?
        .query_row(params![transport, gateway_id, to, error, now], |r| r.get(0))
        .optional()?;
    let Some(broadcast) = hit else { return Ok(false) };
    if let Some(b) = broadcast {
        let sql = if delivered {
            "UPDATE broadcasts SET delivered = delivered + 1 WHERE id = ?1"
        } else {
            "UPDATE broadcasts SET sent = sent - 1, failed = failed + 1 WHERE id = ?1"
        };
        conn.prepare_cached(sql)?.execute([b])?;
    }
    Ok(true)
}

/// Applies the reports that arrived before their sends were recorded, once those are (called after
/// recording sends; the table is empty nearly always, so this is one lookup). Reports older than ten
/// minutes are not tried again: a send is recorded within a round.
pub(super) fn apply_early(conn: &Connection, now: i64) -> Result<()> {
    let early: Vec<(Transport, String, bool, Option<Reason>)> = conn
        .prepare_cached("SELECT transport, gateway_id, delivered, error FROM early_reports WHERE at >= ?1 LIMIT 1000")?
        .query_map([now - 600], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (transport, gateway_id, delivered, error) in early {
        if apply(conn, transport, &gateway_id, delivered, error.as_ref(), now)? {
            conn.prepare_cached("DELETE FROM early_reports WHERE transport = ?1 AND gateway_id = ?2")?
                .execute(params![transport, gateway_id])?;
        }
    }
    Ok(())
}

/// Drops reports that matched no send within a day (unknown ids, repeats); returns how many.
pub fn expire_early(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.prepare_cached("DELETE FROM early_reports WHERE at < ?1")?.execute([now - 86_400])?)
}
