//! Webhooks to other systems: the endpoints, the queue of events per endpoint (written in the
//! transaction of the change they report), its lease and backoff, and the delivery log.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::event::{Event, EventData, EventKind};
use crate::domain::{BroadcastId, BroadcastState, Reason};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub events: Vec<EventKind>,
    pub enabled: bool,
    /// The first failed attempt since the last delivery.
    pub failing_since: Option<i64>,
    /// When a day of failures disabled it.
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    /// Events waiting for it.
    pub queued: i64,
}

const ENDPOINT: &str = "SELECT e.id, e.url, e.events, e.enabled, e.failing_since, e.disabled_at, e.created_at, \
     (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'queued') \
     FROM webhook_endpoints e";

fn endpoint(r: &rusqlite::Row<'_>) -> rusqlite::Result<Endpoint> {
    Ok(Endpoint {
        id: r.get(0)?,
        url: r.get(1)?,
        events: EventKind::in_mask(r.get(2)?),
        enabled: r.get(3)?,
        failing_since: r.get(4)?,
        disabled_at: r.get(5)?,
        created_at: r.get(6)?,
        queued: r.get(7)?,
    })
}

pub fn insert(
    conn: &Connection,
    url: &str,
    events: &[EventKind],
    secret_sealed: &[u8],
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO webhook_endpoints(url, events, secret_sealed, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![url, EventKind::mask(events), secret_sealed, by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn list(conn: &Connection) -> Result<Vec<Endpoint>> {
    let mut st = conn.prepare(&format!("{ENDPOINT} ORDER BY e.id"))?;
    Ok(st.query_map([], endpoint)?.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Endpoint> {
    conn.query_row(&format!("{ENDPOINT} WHERE e.id = ?1"), [id], endpoint).optional()?.ok_or(StoreError::NotFound)
}

/// Removes an endpoint and everything queued for it.
pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?1", [id])?;
    if conn.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Turns an endpoint on again: what waited for it is tried at once.
pub fn enable(conn: &Connection, id: i64, now: i64) -> Result<()> {
    if conn.execute(
        "UPDATE webhook_endpoints SET enabled = 1, failing_since = NULL, disabled_at = NULL WHERE id = ?1",
        [id],
    )? == 0
    {
        return Err(StoreError::NotFound);
    }
    conn.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE endpoint_id = ?1 AND state = 'queued'",
        params![id, now],
    )?;
    Ok(())
}

/// Queues `event` for every enabled endpoint that asked for its kind; call inside the transaction
/// that makes the change it reports.
pub fn enqueue(conn: &Connection, event: &Event) -> Result<()> {
    let wanted: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled = 1 AND events & ?1 != 0)")?
        .query_row([event.kind.bit()], |r| r.get(0))?;
    if wanted {
        conn.prepare_cached(
            "INSERT INTO webhook_deliveries(endpoint_id, event, payload, created_at, next_attempt_at) \
             SELECT id, ?2, ?3, ?4, ?4 FROM webhook_endpoints WHERE enabled = 1 AND events & ?1 != 0",
        )?
        .execute(params![event.kind.bit(), event.kind.as_str(), event.payload(), event.at])?;
    }
    Ok(())
}

/// Queues a broadcast's event with its counts as they are now.
pub fn enqueue_broadcast(conn: &Connection, id: BroadcastId, kind: EventKind, now: i64) -> Result<()> {
    let data = conn.query_row(
        "SELECT state, total, sent, failed, cancelled, pause_reason FROM broadcasts WHERE id = ?1",
        [id],
        |r| {
            Ok(EventData::Broadcast {
                broadcast: id,
                state: r.get::<_, BroadcastState>(0)?,
                total: r.get(1)?,
                sent: r.get(2)?,
                failed: r.get(3)?,
                cancelled: r.get(4)?,
                reason: r.get::<_, Option<Reason>>(5)?,
            })
        },
    )?;
    enqueue(conn, &Event { kind, at: now, data })
}

/// One queued event, leased for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub endpoint: i64,
    pub url: String,
    pub secret_sealed: Vec<u8>,
    pub payload: String,
    pub attempts: i64,
}

/// How long a lease holds: an answer that could not be recorded is posted again after it.
const LEASE: i64 = 60;

/// Leases up to `limit` events that are due, to endpoints that are enabled.
pub fn claim(conn: &Connection, now: i64, limit: i64) -> Result<Vec<Due>> {
    // Asked every second: when nothing is due, no write lock is taken.
    let due: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'queued' AND next_attempt_at <= ?1)",
        )?
        .query_row([now], |r| r.get(0))?;
    if !due {
        return Ok(Vec::new());
    }
    let tx = super::write_tx_main(conn)?;
    let due = {
        let mut st = tx.prepare_cached(
            "UPDATE webhook_deliveries SET leased = 1, attempts = attempts + 1, next_attempt_at = ?1 + ?3 \
             WHERE id IN ( \
               SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
               WHERE d.state = 'queued' AND d.next_attempt_at <= ?1 AND e.enabled = 1 \
               ORDER BY d.next_attempt_at, d.id LIMIT ?2) \
             RETURNING id, endpoint_id, payload, attempts",
        )?;
        let rows: Vec<(i64, i64, String, i64)> = st
            .query_map(params![now, limit, LEASE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut ep = tx.prepare_cached("SELECT url, secret_sealed FROM webhook_endpoints WHERE id = ?1")?;
        let mut due = Vec::with_capacity(rows.len());
        for (id, endpoint, payload, attempts) in rows {
            let (url, secret_sealed) = ep.query_row([endpoint], |r| Ok((r.get(0)?, r.get(1)?)))?;
            due.push(Due { id, endpoint, url, secret_sealed, payload, attempts });
        }
        due.sort_by_key(|d| d.id);
        due
    };
    tx.commit()?;
    Ok(due)
}

/// Gives back every lease (at start: what a killed process was sending is sent again now).
pub fn release_leases(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE webhook_deliveries SET leased = 0, next_attempt_at = ?1 WHERE leased = 1 AND state = 'queued'",
        [now],
    )?)
}

/// The endpoint took the event.
pub fn delivered(conn: &Connection, id: i64, status: u16, now: i64) -> Result<()> {
    let endpoint: Option<i64> = conn
        .query_row(
            "UPDATE webhook_deliveries SET state = 'delivered', leased = 0, last_attempt_at = ?2, last_status = ?3, \
             last_error = NULL, delivered_at = ?2 WHERE id = ?1 RETURNING endpoint_id",
            params![id, now, status],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(e) = endpoint {
        conn.execute("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1", [e])?;
    }
    Ok(())
}

/// The attempt failed: tried again at `retry_at`, unless the endpoint has failed since
/// `disable_before` or earlier, which disables it. Returns whether this disabled it.
pub fn failed(
    conn: &Connection,
    id: i64,
    status: Option<u16>,
    reason: &Reason,
    retry_at: i64,
    now: i64,
    disable_before: i64,
) -> Result<bool> {
    let endpoint: Option<i64> = conn
        .query_row(
            "UPDATE webhook_deliveries SET leased = 0, last_attempt_at = ?2, last_status = ?3, last_error = ?4, \
             next_attempt_at = ?5 WHERE id = ?1 RETURNING endpoint_id",
            params![id, now, status, reason, retry_at],
            |r| r.get(0),
        )
        .optional()?;
    let Some(e) = endpoint else { return Ok(false) };
    conn.execute(
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?2) WHERE id = ?1",
        params![e, now],
    )?;
    Ok(conn.execute(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?2 \
         WHERE id = ?1 AND enabled = 1 AND failing_since <= ?3",
        params![e, now, disable_before],
    )? == 1)
}

/// One line of an endpoint's delivery log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogLine {
    pub id: i64,
    pub event: EventKind,
    pub created_at: i64,
    pub delivered: bool,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<u16>,
    pub last_error: Option<Reason>,
}

/// The newest `limit` events of an endpoint.
pub fn log(conn: &Connection, endpoint: i64, limit: i64) -> Result<Vec<LogLine>> {
    let mut st = conn.prepare(
        "SELECT id, event, created_at, state = 'delivered', attempts, next_attempt_at, last_attempt_at, last_status, \
         last_error FROM webhook_deliveries WHERE endpoint_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    Ok(st
        .query_map(params![endpoint, limit], |r| {
            let delivered: bool = r.get(3)?;
            Ok(LogLine {
                id: r.get(0)?,
                event: r.get(1)?,
                created_at: r.get(2)?,
                delivered,
                attempts: r.get(4)?,
                next_attempt_at: (!delivered).then(|| r.get(5)).transpose()?,
                last_attempt_at: r.get(6)?,
                last_status: r.get(7)?,
                last_error: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Forgets delivered events older than `before` (the log keeps a week).
pub fn prune(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM webhook_deliveries WHERE state = 'delivered' AND delivered_at < ?1", [before])?)
}
