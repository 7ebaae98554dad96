//! The frequency promise per person, at the outbox: when a broadcast's delivery is leased, how many
//! broadcasts that person already got in the period is counted (per channel they are in, and across
//! the installation) in the same transaction; a delivery over a cap waits for the next window or is
//! skipped, as the channel decides.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::broadcasts::{bump_counters, note_waiting};
use super::outbox::Claimed;
use crate::domain::channel::OverCap;
use crate::domain::{BroadcastId, ChannelId, Frequency, FrequencyPeriod, Reason};

/// One cap a broadcast's deliveries are checked against: a channel's promise (for the people in that
/// channel), or the installation's (`channel` none).
#[derive(Debug, Clone)]
struct Cap {
    channel: Option<ChannelId>,
    frequency: Frequency,
    over: OverCap,
}

/// One channel of a broadcast as the caps see it: the broadcast's override, the channel, its promise
/// (max and period, if it has one) and what happens over it.
type ChannelCap = (bool, ChannelId, Option<u32>, Option<FrequencyPeriod>, OverCap);

/// The caps of a broadcast: none when an owner sent it over the promise (one query).
fn caps_of(tx: &Connection, broadcast: BroadcastId, installation: Option<Frequency>) -> Result<Vec<Cap>> {
    let rows: Vec<ChannelCap> = tx
        .prepare_cached(
            "SELECT b.frequency_override, c.id, c.frequency_max, c.frequency_period, c.over_cap FROM broadcasts b \
             JOIN broadcast_channels bc ON bc.broadcast_id = b.id JOIN channels c ON c.id = bc.channel_id \
             WHERE b.id = ?1",
        )?
        .query_map([broadcast], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() || rows.iter().any(|r| r.0) {
        return Ok(vec![]);
    }
    let mut caps: Vec<Cap> = rows
        .iter()
        .filter_map(|(_, id, max, period, over)| {
            Some(Cap { channel: Some(*id), frequency: Frequency { max: (*max)?, period: (*period)? }, over: *over })
        })
        .collect();
    if let Some(frequency) = installation {
        // Skipped only if every channel of the broadcast says so; otherwise it waits.
        let over = if rows.iter().all(|c| c.4 == OverCap::Skip) { OverCap::Skip } else { OverCap::Wait };
        caps.push(Cap { channel: None, frequency, over });
    }
    Ok(caps)
}

/// When each broadcast that `subscriber` got (or is being sent) in the window before `now` first
/// reached them, oldest first: of `channel`'s broadcasts, or of all. `broadcast` itself and the rows
/// in `unchecked` (leased with it, not yet checked) are not counted.
fn got_since(
    tx: &Connection,
    subscriber: i64,
    channel: Option<ChannelId>,
    broadcast: BroadcastId,
    since: i64,
    unchecked: &str,
) -> Result<Vec<i64>> {
    let mut st = tx.prepare_cached(
        "SELECT min(d.updated_at) FROM deliveries d \
         WHERE d.broadcast_id IN (SELECT b.id FROM broadcasts b WHERE b.id != ?2 \
               AND b.state IN ('sending', 'paused', 'done', 'cancelled') AND coalesce(b.finished_at, ?3 + 1) > ?3 \
               AND (?4 IS NULL OR b.id IN (SELECT broadcast_id FROM broadcast_channels WHERE channel_id = ?4))) \
         AND d.subscriber_id = ?1 AND d.state IN ('sending', 'sent', 'delivered') AND d.updated_at > ?3 \
         AND d.id NOT IN (SELECT value FROM json_each(?5)) \
         GROUP BY d.broadcast_id ORDER BY 1",
    )?;
    Ok(st
        .query_map(params![subscriber, broadcast, since, channel, unchecked], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn in_channel(tx: &Connection, subscriber: i64, channel: ChannelId) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM subscriptions WHERE subscriber_id = ?1 AND channel_id = ?2 AND state = 'active' LIMIT 1",
        )?
        .query_row(params![subscriber, channel], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Checks freshly leased rows against the caps of their broadcasts (`installation`: the cap across
/// all channels) and returns the rows that may be sent. A row over a cap is put back in the queue
/// until the window allows it (`wait`) or cancelled (`skip`), with [`Reason::CapReached`], so the
/// broadcast page counts both. Rows are checked in id order, each counting the ones let through
/// before it.
pub fn hold_over_cap(
    tx: &Connection,
    rows: Vec<Claimed>,
    installation: Option<Frequency>,
    now: i64,
) -> Result<Vec<Claimed>> {
    let mut caps: HashMap<BroadcastId, Vec<Cap>> = HashMap::new();
    for b in rows.iter().filter_map(|c| c.broadcast_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = caps.entry(b) {
            e.insert(caps_of(tx, b, installation)?);
        }
    }
    if caps.values().all(Vec::is_empty) {
        return Ok(rows);
    }
    let mut unchecked: Vec<i64> = rows.iter().filter(|c| c.broadcast_id.is_some()).map(|c| c.id).collect();
    unchecked.sort_unstable();
    let mut keep = Vec::with_capacity(rows.len());
    let mut rows = rows;
    rows.sort_by_key(|c| c.id);
    for row in rows {
        let Some(b) = row.broadcast_id else {
            keep.push(row);
            continue;
        };
        unchecked.retain(|id| *id != row.id);
        let others = serde_json::to_string(&unchecked).expect("ids serialise");
        let mut verdict: Option<(OverCap, i64)> = None;
        for cap in &caps[&b] {
            if let Some(ch) = cap.channel
                && !in_channel(tx, row.subscriber_id, ch)?
            {
                continue;
            }
            let period = cap.frequency.period.seconds();
            let got = got_since(tx, row.subscriber_id, cap.channel, b, now - period, &others)?;
            let max = cap.frequency.max as usize;
            if got.len() >= max {
                // The window opens when the oldest send that keeps the count at the cap leaves it.
                let at = got[got.len() - max] + period;
                verdict = Some(match verdict {
                    Some((over, until)) => (if over == OverCap::Wait { over } else { cap.over }, until.max(at)),
                    None => (cap.over, at),
                });
            }
        }
        match verdict {
            None => keep.push(row),
            Some((OverCap::Wait, at)) => {
                tx.prepare_cached(
                    "UPDATE deliveries SET state = 'queued', lease_until = NULL, error = ?2, next_attempt_at = ?3, \
                     attempts = max(attempts - 1, 1), updated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![row.id, Reason::CapReached, at, now])?;
                note_waiting(tx, b, at, &Reason::CapReached)?;
            }
            Some((OverCap::Skip, _)) => {
                tx.prepare_cached(
                    "UPDATE deliveries SET state = 'cancelled', lease_until = NULL, error = ?2, updated_at = ?3 \
                     WHERE id = ?1",
                )?
                .execute(params![row.id, Reason::CapReached, now])?;
                bump_counters(tx, b, 0, 0, 1, now)?;
            }
        }
    }
    Ok(keep)
}
