//! Announcement rooms: which channel posts to which Matrix room, and one post per (broadcast, room),
//! queued, leased and recorded like a delivery but without a subscriber (nobody in the room is stored).

use rusqlite::{Connection, params};

use super::Result;
use super::broadcasts::{bump_counters, note_waiting};
use super::outcome::Outcome;
use crate::domain::{BroadcastId, ChannelId};

/// Sets or clears a channel's announcement room.
pub fn set_room(conn: &Connection, channel: ChannelId, room: Option<&str>, now: i64) -> Result<()> {
    let n = conn
        .execute("UPDATE channels SET matrix_room = ?2, updated_at = ?3 WHERE id = ?1", params![channel, room, now])?;
    if n == 0 {
        return Err(super::StoreError::NotFound);
    }
    Ok(())
}

/// Queues one post for each announcement room among the broadcast's channels (inside the
/// materialising transaction). Returns how many.
pub fn materialise(conn: &Connection, broadcast: BroadcastId, now: i64) -> Result<i64> {
    Ok(conn.execute(
        "INSERT INTO room_posts(broadcast_id, channel_id, room, state, next_attempt_at, updated_at) \
         SELECT ?1, c.id, c.matrix_room, 'queued', ?2, ?2 FROM broadcast_channels bc \
         JOIN channels c ON c.id = bc.channel_id WHERE bc.broadcast_id = ?1 AND c.matrix_room IS NOT NULL",
        params![broadcast, now],
    )? as i64)
}

/// A post leased to the worker.
#[derive(Debug, Clone)]
pub struct RoomPost {
    pub id: i64,
    pub broadcast_id: BroadcastId,
    pub room: String,
    pub attempts: i64,
}

/// Leases every due post of a running broadcast (a worker holds them until it records them; at start,
/// [`reclaim_all`] puts back what a dead worker held).
pub fn claim(conn: &Connection, now: i64) -> Result<Vec<RoomPost>> {
    // Every worker round asks: a read through the partial index, so that no round pays a write.
    let due: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM room_posts WHERE state = 'queued' AND next_attempt_at <= ?1)")?
        .query_row([now], |r| r.get(0))?;
    if !due {
        return Ok(vec![]);
    }
    let tx = super::write_tx(conn)?;
    let posts = tx
        .prepare_cached(
            "UPDATE room_posts SET state = 'sending', attempts = attempts + 1, updated_at = ?1 \
             WHERE state = 'queued' AND next_attempt_at <= ?1 \
             AND broadcast_id IN (SELECT id FROM broadcasts WHERE state = 'sending') \
             RETURNING id, broadcast_id, room, attempts",
        )?
        .query_map([now], |r| {
            Ok(RoomPost { id: r.get(0)?, broadcast_id: r.get(1)?, room: r.get(2)?, attempts: r.get(3)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(posts)
}

/// Records what became of leased posts and updates their broadcasts' counters.
pub fn record(conn: &Connection, results: &[(RoomPost, Outcome)], now: i64) -> Result<()> {
    let tx = super::write_tx(conn)?;
    for (p, outcome) in results {
        let (set, extra, counts): (&str, Vec<&dyn rusqlite::ToSql>, (i64, i64, i64)) = match outcome {
            Outcome::Sent { gateway_id, .. } => {
                ("state = 'sent', event_id = ?3, error = NULL", vec![gateway_id], (1, 0, 0))
            }
            Outcome::Retry { at, error } => {
                ("state = 'queued', error = ?3, next_attempt_at = ?4", vec![error, at], (0, 0, 0))
            }
            Outcome::Deferred { at, error } => (
                "state = 'queued', error = ?3, next_attempt_at = ?4, attempts = max(attempts - 1, 1)",
                vec![error, at],
                (0, 0, 0),
            ),
            Outcome::Failed { error } => ("state = 'failed', error = ?3", vec![error], (0, 1, 0)),
            Outcome::Cancel { reason } => ("state = 'cancelled', error = ?3", vec![reason], (0, 0, 1)),
            Outcome::Release => ("state = 'queued', attempts = attempts - 1", vec![], (0, 0, 0)),
        };
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&p.id, &now];
        values.extend(extra);
        let changed = tx
            .prepare_cached(&format!(
                "UPDATE room_posts SET {set}, updated_at = ?2 WHERE id = ?1 AND state = 'sending'"
            ))?
            .execute(values.as_slice())?;
        if changed == 1 && counts != (0, 0, 0) {
            bump_counters(&tx, p.broadcast_id, counts.0, counts.1, counts.2, now)?;
        }
        if let (1, Outcome::Deferred { at, error }) = (changed, outcome) {
            note_waiting(&tx, p.broadcast_id, *at, error)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Puts back every leased post (at start: no worker of this installation holds one).
pub fn reclaim_all(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.execute("UPDATE room_posts SET state = 'queued', updated_at = ?1 WHERE state = 'sending'", [now])?)
}

/// Cancels the queued posts of a cancelled broadcast; returns how many (the caller counts them).
pub fn cancel_broadcast(
    conn: &Connection,
    broadcast: BroadcastId,
    reason: &crate::domain::Reason,
    now: i64,
) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE room_posts SET state = 'cancelled', error = ?2, updated_at = ?3 WHERE broadcast_id = ?1 AND state = 'queued'",
        params![broadcast, reason, now],
    )?)
}

/// Posts queued or leased (for the idle check).
pub fn pending(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM room_posts WHERE state IN ('queued', 'sending')", [], |r| r.get(0))?)
}
