//! The durable outbox: materialising a broadcast with one `INSERT … SELECT`, leasing rows to workers,
//! recording results and keeping each broadcast's counters.
//!
//! A broadcast's rows get contiguous ids. Fresh rows are leased by walking that range with a cursor
//! kept on the broadcast, so materialising writes no queue index; the queue index holds only replies
//! and rows that come back (retries, expired leases), and those go first.

use crate::domain::Reason;
use crate::domain::event::EventKind;
use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{Connection, params};

use super::broadcasts::{bump_counters, note_waiting};
pub use super::outcome::Outcome;
use super::{Result, in_write_tx, write_tx};
use crate::domain::{BroadcastId, BroadcastState, ChannelId, DeliveryState, Frequency, Transport};

/// Writes one delivery row per (subscriber, transport) for every active subscription in the broadcast's
/// channels on the channel's transports; a subscriber in several channels gets it once. The rows of
/// each transport are written together, so that each is a contiguous range its lane walks. Returns
/// the count.
pub fn materialise(conn: &Connection, broadcast: BroadcastId, now: i64) -> Result<i64> {
    let tx = write_tx(conn)?;
    let state: BroadcastState =
        tx.query_row("SELECT state FROM broadcasts WHERE id = ?1", [broadcast], |r| r.get(0))?;
    if state != BroadcastState::Scheduled {
        return Ok(0); // already materialised
    }
    let channels: i64 =
        tx.query_row("SELECT count(*) FROM broadcast_channels WHERE broadcast_id = ?1", [broadcast], |r| r.get(0))?;
    let transports: Vec<Transport> = tx
        .prepare(
            "SELECT DISTINCT j.value FROM broadcast_channels bc JOIN channels c ON c.id = bc.channel_id, \
             json_each(c.transports) j WHERE bc.broadcast_id = ?1 ORDER BY 1",
        )?
        .query_map([broadcast], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    // One channel cannot list a subscriber twice: DISTINCT (a sort over every row) only for several.
    let distinct = if channels > 1 { "DISTINCT" } else { "" };
    // A larger page cache for these statements keeps the index appends in memory.
    tx.pragma_update(None, "cache_size", -65_536)?;
    let before: i64 = tx.query_row("SELECT coalesce(max(id), 0) FROM deliveries", [], |r| r.get(0))?;
    let mut n = 0;
    for transport in &transports {
        // The write lock is ours since BEGIN IMMEDIATE: the rows so far took the ids up to `start`.
        let start = before + n;
        let rows = tx.execute(
            &format!(
                "INSERT INTO deliveries(broadcast_id, subscriber_id, transport, state, next_attempt_at, updated_at) \
                 SELECT {distinct} ?1, s.subscriber_id, s.transport, 'queued', ?2, ?2 \
                 FROM subscriptions s \
                 WHERE s.channel_id IN (SELECT bc.channel_id FROM broadcast_channels bc \
                       JOIN channels c ON c.id = bc.channel_id, json_each(c.transports) j \
                       WHERE bc.broadcast_id = ?1 AND j.value = ?3) \
                   AND s.state = 'active' AND s.transport = ?3"
            ),
            params![broadcast, now, transport],
        )? as i64;
        if rows == 0 {
            continue;
        }
        let last = tx.last_insert_rowid();
        if last - start != rows {
            return Err(super::StoreError::Corrupt("delivery ids are not contiguous".into()));
        }
        tx.prepare_cached(
            "INSERT INTO broadcast_ranges (broadcast_id, transport, first_delivery, last_delivery, cursor) \
             VALUES (?1, ?2, ?3, ?4, ?3 - 1)",
        )?
        .execute(params![broadcast, transport, start + 1, last])?;
        n += rows;
    }
    tx.pragma_update(None, "cache_size", -16_000)?;
    let rooms = super::rooms::materialise(&tx, broadcast, now)?;
    let last = before + n;
    tx.execute(
        "UPDATE broadcasts SET total = total + ?2, state = 'sending', started_at = ?3, \
         first_delivery = ?4, last_delivery = ?5, cursor = ?5 WHERE id = ?1",
        params![broadcast, n + rooms, now, before + 1, last],
    )?;
    if tx.execute(
        "UPDATE broadcasts SET state = 'done', finished_at = ?2 WHERE id = ?1 AND total = 0",
        params![broadcast, now],
    )? == 1
    {
        super::event_hooks::enqueue_broadcast(&tx, broadcast, EventKind::BroadcastFinished, now)?;
    }
    tx.commit()?;
    Ok(n + rooms)
}

/// Queues a direct message (a reply), sealed with the subscriber's key, ahead of broadcasts.
/// `via`: the SMS gateway it should go back through (the one the recipient wrote to).
pub fn enqueue_reply(
    conn: &Connection,
    subscriber: i64,
    transport: Transport,
    via: Option<&str>,
    sealed: &[u8],
    now: i64,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO deliveries(subscriber_id, transport, body_sealed, priority, state, next_attempt_at, updated_at, via) \
         VALUES (?1, ?2, ?3, 0, 'queued', ?4, ?4, ?5)",
    )?
    .execute(params![subscriber, transport, sealed, now, via])?;
    Ok(conn.last_insert_rowid())
}

/// A delivery leased to a worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub broadcast_id: Option<BroadcastId>,
    pub subscriber_id: i64,
    pub transport: Transport,
    pub body_sealed: Option<Vec<u8>>,
    pub attempts: i64,
    /// The SMS gateway a reply should go back through.
    pub via: Option<String>,
}

/// Leases up to `limit` due rows of one transport (one lane) until `now + lease`: first replies and
/// rows that came back (from the queue index), then fresh rows of running broadcasts, oldest
/// broadcast first, by walking their ranges.
/// Rows over a person's cap (`cap`: the installation's, beside each channel's promise) are held back
/// in the same transaction (see [`super::caps`]).
pub fn claim(
    conn: &Connection,
    transport: Transport,
    now: i64,
    lease: Duration,
    limit: usize,
    cap: Option<Frequency>,
) -> Result<Vec<Claimed>> {
    in_write_tx(conn, |tx| claim_in(tx, transport, now, lease, limit, cap))
}

/// Records outcomes, renews the leases of rows a lane still holds (id, attempts) and leases the
/// next rows of one transport, inside a transaction the caller holds (the group writer's).
pub fn record_and_claim(
    tx: &Connection,
    results: &[(Claimed, Outcome)],
    held: &[(i64, i64)],
    claim: Option<(Transport, usize)>,
    now: i64,
    lease: Duration,
    cap: Option<Frequency>,
) -> Result<Vec<Claimed>> {
    if !results.is_empty() {
        record_in(tx, results, now)?;
    }
    if !held.is_empty() {
        renew_in(tx, held, until(now, lease))?;
    }
    match claim {
        Some((transport, limit)) if limit > 0 => claim_in(tx, transport, now, lease, limit, cap),
        _ => Ok(vec![]),
    }
}

fn claim_in(
    tx: &Connection,
    transport: Transport,
    now: i64,
    lease: Duration,
    limit: usize,
    cap: Option<Frequency>,
) -> Result<Vec<Claimed>> {
    let (until, limit) = (until(now, lease), i64::try_from(limit).unwrap_or(i64::MAX));
    let mut rows = lease_rows(
        tx,
        "SELECT d.id FROM deliveries d INDEXED BY deliveries_queue \
         WHERE d.state = 'queued' AND (d.priority = 0 OR d.attempts > 0) AND d.next_attempt_at <= ?1 \
         AND d.transport = ?4 \
         AND (d.broadcast_id IS NULL OR d.broadcast_id IN (SELECT id FROM broadcasts WHERE state = 'sending')) \
         ORDER BY d.priority, d.id LIMIT ?3",
        params![now, until, limit, transport],
    )?;
    if (rows.len() as i64) < limit {
        let running: Vec<(BroadcastId, i64, i64)> = tx
            .prepare_cached(
                "SELECT r.broadcast_id, r.cursor, r.last_delivery FROM broadcast_ranges r \
                 JOIN broadcasts b ON b.id = r.broadcast_id \
                 WHERE r.transport = ?1 AND b.state = 'sending' AND r.cursor < r.last_delivery ORDER BY 1",
            )?
            .query_map([transport], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (broadcast, cursor, last) in running {
            let want = limit - rows.len() as i64;
            if want <= 0 {
                break;
            }
            let fresh = lease_rows(
                tx,
                "SELECT id FROM deliveries WHERE id > ?4 AND id <= ?5 AND state = 'queued' AND attempts = 0 \
                 AND transport = ?6 ORDER BY id LIMIT ?3",
                params![now, until, want, cursor, last, transport],
            )?;
            // Fewer than asked: nothing fresh is left in the range.
            let reached =
                if (fresh.len() as i64) < want { last } else { fresh.iter().map(|c| c.id).max().unwrap_or(cursor) };
            tx.prepare_cached("UPDATE broadcast_ranges SET cursor = ?3 WHERE broadcast_id = ?1 AND transport = ?2")?
                .execute(params![broadcast, transport, reached])?;
            rows.extend(fresh);
        }
    }
    let mut rows = super::caps::hold_over_cap(tx, rows, cap, now)?;
    // Replies first, then by id (the order a lane sends in).
    rows.sort_by_key(|c| (c.broadcast_id.is_some(), c.id));
    Ok(rows)
}

/// The end of a lease that starts at `now` (Unix seconds).
fn until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_secs()).unwrap_or(i64::MAX))
}

/// Leases the rows that `select` (parameters: ?1 now, ?2 lease end, ?3 limit, then its own) picks.
fn lease_rows(conn: &Connection, select: &str, params: &[&dyn rusqlite::ToSql]) -> Result<Vec<Claimed>> {
    let mut st = conn.prepare_cached(&format!(
        "UPDATE deliveries SET state = 'sending', lease_until = ?2, attempts = attempts + 1, updated_at = ?1 \
         WHERE id IN ({select}) \
         RETURNING id, broadcast_id, subscriber_id, transport, body_sealed, attempts, via"
    ))?;
    Ok(st
        .query_map(params, |r| {
            Ok(Claimed {
                id: r.get(0)?,
                broadcast_id: r.get(1)?,
                subscriber_id: r.get(2)?,
                transport: r.get(3)?,
                body_sealed: r.get(4)?,
                attempts: r.get(5)?,
                via: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Rows per transport waiting in the queue, and leased by a lane now (for `/metrics`).
#[allow(clippy::type_complexity)]
pub fn queue_sizes(conn: &Connection) -> Result<(Vec<(Transport, i64)>, Vec<(Transport, i64)>)> {
    let count = |state: &str| -> Result<Vec<(Transport, i64)>> {
        let mut st = conn.prepare_cached(
            "SELECT transport, count(*) FROM deliveries WHERE state = ?1 GROUP BY transport ORDER BY transport",
        )?;
        Ok(st.query_map([state], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
    };
    Ok((count("queued")?, count("sending")?))
}

/// Returns rows whose lease ran out (a worker died) to the queue.
pub fn reclaim_expired(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE deliveries SET state = 'queued', lease_until = NULL, updated_at = ?1 \
             WHERE state = 'sending' AND lease_until < ?1",
        )?
        .execute([now])?)
}

/// Returns every leased row to the queue: at start, when no worker of this installation can hold a lease.
pub fn reclaim_all(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE deliveries SET state = 'queued', lease_until = NULL, updated_at = ?1 WHERE state = 'sending'",
        [now],
    )? + super::rooms::reclaim_all(conn, now)?
        + super::team::reclaim_all(conn)?)
}

/// Rows a worker still holds: the one it leased, not leased again by anyone since (it may have been
/// put back in the queue when its lease ran out). Every recorded outcome is fenced by it.
const HELD: &str = "id = ?1 AND attempts = ?2 AND state IN ('sending', 'queued')";

/// Records a batch of outcomes in one transaction and updates the broadcasts' counters. An outcome for
/// a row that was leased again meanwhile (its lease ran out) is dropped: the newer lease records
/// that row, so it is counted once however often it was sent.
pub fn record(conn: &Connection, results: &[(Claimed, Outcome)], now: i64) -> Result<()> {
    in_write_tx(conn, |tx| record_in(tx, results, now))
}

fn record_in(tx: &Connection, results: &[(Claimed, Outcome)], now: i64) -> Result<()> {
    let mut counts: HashMap<BroadcastId, (i64, i64, i64)> = HashMap::new();
    for (c, outcome) in results {
        let (set, extra, counter): (&str, Vec<&dyn rusqlite::ToSql>, Option<usize>) = match outcome {
            Outcome::Sent { gateway_id, .. } => {
                ("state = 'sent', gateway_id = ?4, error = NULL", vec![gateway_id], Some(0))
            }
            Outcome::Retry { at, error } => {
                ("state = 'queued', error = ?4, next_attempt_at = ?5", vec![error, at], None)
            }
            Outcome::Failed { error } => ("state = 'failed', error = ?4", vec![error], Some(1)),
            Outcome::Deferred { at, error } => (
                "state = 'queued', error = ?4, next_attempt_at = ?5, attempts = max(attempts - 1, 1)",
                vec![error, at],
                None,
            ),
            Outcome::Release => ("state = 'queued', attempts = attempts - 1", vec![], None),
            Outcome::Cancel { reason } => ("state = 'cancelled', error = ?4", vec![reason], Some(2)),
        };
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&c.id, &c.attempts, &now];
        values.extend(extra);
        let changed = tx
            .prepare_cached(&format!("UPDATE deliveries SET {set}, lease_until = NULL, updated_at = ?3 WHERE {HELD}"))?
            .execute(values.as_slice())?;
        if changed == 0 {
            tracing::debug!(delivery = c.id, "outcome dropped: the row was leased again after its lease ran out");
            continue;
        }
        if let (Some(i), Some(b)) = (counter, c.broadcast_id) {
            let e = counts.entry(b).or_default();
            *[&mut e.0, &mut e.1, &mut e.2][i] += 1;
        }
        if let (Outcome::Deferred { at, error }, Some(b)) = (outcome, c.broadcast_id) {
            note_waiting(tx, b, *at, error)?;
        }
        if let Outcome::Sent { usage: Some(u), .. } = outcome {
            super::quotas::add(tx, u)?;
        }
        // A fresh row again (no attempt counted): the walk over its broadcast's range must see it.
        if let (Outcome::Release, Some(b), 1) = (outcome, c.broadcast_id, c.attempts) {
            tx.prepare_cached(
                "UPDATE broadcast_ranges SET cursor = min(cursor, ?2 - 1) WHERE broadcast_id = ?1 AND transport = ?3",
            )?
            .execute(params![b, c.id, c.transport])?;
        }
    }
    for (b, (sent, failed, cancelled)) in counts {
        bump_counters(tx, b, sent, failed, cancelled, now)?;
    }
    if results.iter().any(|(_, o)| matches!(o, Outcome::Sent { .. })) {
        super::reports::apply_early(tx, now)?;
    }
    Ok(())
}

/// Extends the leases of rows a lane still holds, up to `until`: rows waiting for their turn, or
/// kept long by a slow gateway, are not put back in the queue while they are being sent.
fn renew_in(tx: &Connection, held: &[(i64, i64)], until: i64) -> Result<()> {
    let mut st =
        tx.prepare_cached(&format!("UPDATE deliveries SET lease_until = ?3 WHERE {HELD} AND state = 'sending'"))?;
    for (id, attempts) in held {
        st.execute(params![id, attempts, until])?;
    }
    Ok(())
}

/// After an opt-out: cancels every queued broadcast delivery to this subscriber for which none of the
/// broadcast's channels still has them as an active subscriber.
pub fn cancel_for_subscriber(conn: &Connection, subscriber: i64, now: i64) -> Result<usize> {
    let mut st = conn.prepare_cached(
        "UPDATE deliveries SET state = 'cancelled', error = ?3, updated_at = ?2 \
         WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE state IN ('scheduled', 'sending', 'paused')) \
         AND subscriber_id = ?1 AND state = 'queued' \
         AND NOT EXISTS (SELECT 1 FROM broadcast_channels bc JOIN subscriptions s ON s.channel_id = bc.channel_id \
             WHERE bc.broadcast_id = deliveries.broadcast_id AND s.subscriber_id = ?1 AND s.state = 'active') \
         RETURNING broadcast_id",
    )?;
    let ids: Vec<BroadcastId> =
        st.query_map(params![subscriber, now, Reason::OptedOut], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut per: HashMap<BroadcastId, i64> = HashMap::new();
    for b in &ids {
        *per.entry(*b).or_default() += 1;
    }
    for (b, n) in per {
        bump_counters(conn, b, 0, 0, n, now)?;
    }
    Ok(ids.len())
}

/// Cancels every queued delivery of a broadcast (the broadcast was cancelled or its deadline passed).
pub fn cancel_broadcast(conn: &Connection, broadcast: BroadcastId, reason: &Reason, now: i64) -> Result<usize> {
    let n = conn.execute(
        "UPDATE deliveries SET state = 'cancelled', error = ?2, updated_at = ?3 WHERE broadcast_id = ?1 AND state = 'queued'",
        params![broadcast, reason, now],
    )? + super::rooms::cancel_broadcast(conn, broadcast, reason, now)?;
    conn.execute("UPDATE broadcasts SET cancelled = cancelled + ?2 WHERE id = ?1", params![broadcast, n as i64])?;
    Ok(n)
}

/// Queued or leased rows left (for the worker's idle check and tests).
pub fn pending(conn: &Connection) -> Result<i64> {
    let deliveries: i64 =
        conn.query_row("SELECT count(*) FROM deliveries WHERE state IN ('queued', 'sending')", [], |r| r.get(0))?;
    Ok(deliveries + super::rooms::pending(conn)?)
}

/// Distinct active subscribers per transport that a broadcast to `channels` would reach.
pub fn audience(conn: &Connection, channels: &[ChannelId]) -> Result<Vec<(Transport, i64)>> {
    let list = serde_json::to_string(channels).expect("ids serialise");
    let mut st = conn.prepare(
        "SELECT s.transport, count(DISTINCT s.subscriber_id) FROM subscriptions s \
         JOIN channels c ON c.id = s.channel_id \
         WHERE s.state = 'active' AND s.channel_id IN (SELECT value FROM json_each(?1)) \
           AND EXISTS (SELECT 1 FROM json_each(c.transports) j WHERE j.value = s.transport) \
         GROUP BY s.transport ORDER BY s.transport",
    )?;
    Ok(st.query_map([list], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// Why a broadcast's deliveries failed, were cancelled or wait: (state, reason, count), most first.
/// Read only when the broadcast has any (it reads the broadcast's rows).
pub fn reasons(conn: &Connection, broadcast: BroadcastId, limit: i64) -> Result<Vec<(DeliveryState, Reason, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT state, error, count(*) FROM deliveries WHERE broadcast_id = ?1 AND error IS NOT NULL \
         AND state IN ('failed', 'cancelled', 'queued') GROUP BY state, error ORDER BY 3 DESC, 1, 2 LIMIT ?2",
    )?;
    Ok(st
        .query_map(params![broadcast, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// A broadcast's deliveries per transport and state (for the API; it reads the broadcast's rows).
pub fn per_transport(conn: &Connection, broadcast: BroadcastId) -> Result<Vec<(Transport, DeliveryState, i64)>> {
    let mut st = conn.prepare_cached(
        "SELECT transport, state, count(*) FROM deliveries WHERE broadcast_id = ?1 GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    Ok(st.query_map([broadcast], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// Deliveries per minute of a broadcast over its last `minutes` minutes (for the rate and ETA).
pub fn recent_rate(conn: &Connection, broadcast: BroadcastId, now: i64, window: i64) -> Result<i64> {
    // From the per-minute counts (a few rows), not the deliveries: the last `window` seconds, taking
    // the minute they start in at its share. The current second counts as begun: sends at the first
    // second of a minute are in the rate at once (they used to read as none).
    let end = now + 1;
    let from = end - window;
    let mut st = conn.prepare_cached(
        "SELECT minute, sent + failed FROM broadcast_minutes WHERE broadcast_id = ?1 AND minute >= ?2 / 60",
    )?;
    let rows = st.query_map(params![broadcast, from], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    let mut total = 0.0;
    for row in rows {
        let (minute, n) = row?;
        let start = minute * 60;
        let covered = ((start + 60).min(end) - start.max(from)).clamp(0, 60) as f64;
        let span = ((start + 60).min(end) - start).clamp(1, 60) as f64;
        total += n as f64 * covered / span;
    }
    Ok(total.round() as i64)
}

/// A delivery to one subscriber, with its broadcast's title and text (for the export).
#[derive(Debug, Clone)]
pub struct SubscriberDelivery {
    pub broadcast_id: Option<BroadcastId>,
    pub title: Option<String>,
    pub broadcast_text: Option<String>,
    /// A reply's text, sealed with the subscriber's key.
    pub body_sealed: Option<Vec<u8>>,
    pub transport: Transport,
    pub state: DeliveryState,
    pub attempts: i64,
    pub updated_at: i64,
}

/// Every delivery row of one subscriber: broadcasts (through the once-per-recipient index) and replies.
pub fn for_subscriber(conn: &Connection, subscriber: i64) -> Result<Vec<SubscriberDelivery>> {
    let mut st = conn.prepare(&format!(
        "SELECT d.broadcast_id, b.title, {}, d.body_sealed, d.transport, d.state, d.attempts, d.updated_at \
         FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id \
         WHERE d.broadcast_id IN (SELECT id FROM broadcasts) AND d.subscriber_id = ?1 \
         UNION ALL \
         SELECT NULL, NULL, NULL, d.body_sealed, d.transport, d.state, d.attempts, d.updated_at FROM deliveries d \
         WHERE d.broadcast_id IS NULL AND d.subscriber_id = ?1 ORDER BY 8",
        super::broadcasts::SENT_TEXT
    ))?;
    Ok(st
        .query_map([subscriber], |r| {
            Ok(SubscriberDelivery {
                broadcast_id: r.get(0)?,
                title: r.get(1)?,
                broadcast_text: r.get(2)?,
                body_sealed: r.get(3)?,
                transport: r.get(4)?,
                state: r.get(5)?,
                attempts: r.get(6)?,
                updated_at: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_the_minute_just_begun_and_shares_the_one_before() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE broadcast_minutes (broadcast_id, minute, sent, failed);
             INSERT INTO broadcast_minutes VALUES (1, 1000, 30, 0), (1, 999, 60, 0);",
        )
        .unwrap();
        // At the minute's first second its 30 sends count in full (they once read as none), and the
        // minute before adds the 59 seconds still in the window: 59 of its 60.
        assert_eq!(recent_rate(&c, BroadcastId(1), 60_000, 60).unwrap(), 30 + 59);
        // Half a minute on: this minute's sends in full, the minute before at 29 of its 60 seconds.
        assert_eq!(recent_rate(&c, BroadcastId(1), 60_030, 60).unwrap(), 30 + 29);
        assert_eq!(recent_rate(&c, BroadcastId(2), 60_030, 60).unwrap(), 0);
    }
}
