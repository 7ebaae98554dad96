//! The conversation's own rows: inbound idempotency, the admin inbox, and the sandbox phones' typed messages.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::Result;
use crate::domain::event::{Event, EventData, EventKind};
use crate::domain::{SubscriberId, Transport};

/// Records an inbound message id; `false` when it was seen before (a gateway retry).
pub fn first_time(conn: &Connection, transport: Transport, gateway_message_id: &str, now: i64) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO inbound_seen(transport, gateway_message_id, received_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![transport, gateway_message_id, now])?;
    Ok(n == 1)
}

pub fn insert_inbox(
    conn: &Connection,
    subscriber: i64,
    transport: Transport,
    gateway_message_id: Option<&str>,
    sealed: &[u8],
    now: i64,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO inbox(subscriber_id, transport, gateway_message_id, text_sealed, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![subscriber, transport, gateway_message_id, sealed, now])?;
    let message = conn.last_insert_rowid();
    let data = EventData::Inbox { message, subscriber: SubscriberId(subscriber), transport };
    super::event_hooks::enqueue(conn, &Event { kind: EventKind::InboxMessage, at: now, data })?;
    Ok(message)
}

#[derive(Debug, Clone, Serialize)]
pub struct InboxRow {
    pub id: i64,
    pub subscriber_id: i64,
    pub transport: Transport,
    #[serde(skip)]
    pub text_sealed: Vec<u8>,
    pub received_at: i64,
    /// `gateway:id` as the gateway gave it (which SMS gateway the message came through).
    #[serde(skip)]
    pub gateway_message_id: Option<String>,
}

const INBOX: &str = "SELECT id, subscriber_id, transport, text_sealed, received_at, gateway_message_id FROM inbox";

fn inbox_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InboxRow> {
    Ok(InboxRow {
        id: r.get(0)?,
        subscriber_id: r.get(1)?,
        transport: r.get(2)?,
        text_sealed: r.get(3)?,
        received_at: r.get(4)?,
        gateway_message_id: r.get(5)?,
    })
}

pub fn inbox(conn: &Connection, limit: i64, offset: i64) -> Result<(Vec<InboxRow>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM inbox", [], |r| r.get(0))?;
    let mut st = conn.prepare(&format!("{INBOX} ORDER BY id DESC LIMIT ?1 OFFSET ?2"))?;
    let rows = st.query_map(params![limit, offset], inbox_row)?.collect::<rusqlite::Result<_>>()?;
    Ok((rows, total))
}

pub fn inbox_message(conn: &Connection, id: i64) -> Result<Option<InboxRow>> {
    let mut st = conn.prepare_cached(&format!("{INBOX} WHERE id = ?1"))?;
    Ok(st.query_row([id], inbox_row).optional()?)
}

/// Whether the subscriber opted out at or after `since` (after that, nothing more is sent to them).
pub fn opted_out_since(conn: &Connection, subscriber: i64, since: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM consent_events WHERE subscriber_id = ?1 AND kind = 'optout' AND at >= ?2)",
        params![subscriber, since],
        |r| r.get(0),
    )?)
}

/// One subscriber's inbox messages, oldest first (for the export).
pub fn inbox_for(conn: &Connection, subscriber: i64) -> Result<Vec<InboxRow>> {
    let mut st = conn.prepare(&format!("{INBOX} WHERE subscriber_id = ?1 ORDER BY id"))?;
    Ok(st.query_map([subscriber], inbox_row)?.collect::<rusqlite::Result<_>>()?)
}

/// The newest message a subscriber wrote on a transport (what an answer in their conversation replies to).
pub fn last_inbox_id(conn: &Connection, subscriber: i64, transport: Transport) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT max(id) FROM inbox WHERE subscriber_id = ?1 AND transport = ?2",
        rusqlite::params![subscriber, transport],
        |r| r.get(0),
    )?)
}

pub fn inbox_count_for(conn: &Connection, subscriber: i64) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM inbox WHERE subscriber_id = ?1", [subscriber], |r| r.get(0))?)
}

pub fn insert_sandbox_inbound(conn: &Connection, subscriber: i64, sealed: &[u8], now: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO sandbox_inbound(subscriber_id, text_sealed, at) VALUES (?1, ?2, ?3)")?
        .execute(params![subscriber, sealed, now])?;
    Ok(())
}

/// One line on a sandbox phone's screen: typed by the phone (`inbound`) or sent by herold.
#[derive(Debug, Clone)]
pub struct ScreenLine {
    pub at: i64,
    pub inbound: bool,
    /// Sealed with the subscriber's key (typed text, replies) or plain broadcast text.
    pub sealed: Option<Vec<u8>>,
    pub plain: Option<String>,
    pub state: String,
}

/// The conversation of one sandbox phone, oldest first (the last `limit` lines).
pub fn sandbox_screen(conn: &Connection, subscriber: i64, limit: i64) -> Result<Vec<ScreenLine>> {
    let mut st = conn.prepare(&format!(
        "SELECT at, inbound, sealed, plain, state FROM ( \
           SELECT at, 1 AS inbound, text_sealed AS sealed, NULL AS plain, 'received' AS state, id AS k FROM sandbox_inbound WHERE subscriber_id = ?1 \
           UNION ALL \
           SELECT d.updated_at, 0, d.body_sealed, NULL, d.state, d.id FROM deliveries d \
           WHERE d.broadcast_id IS NULL AND d.subscriber_id = ?1 AND d.transport = 'sandbox' AND d.state IN ('sent', 'delivered') \
           UNION ALL \
           SELECT d.updated_at, 0, NULL, {}, d.state, d.id FROM broadcasts b JOIN deliveries d ON d.broadcast_id = b.id \
           AND d.subscriber_id = ?1 AND d.transport = 'sandbox' WHERE b.id IN (SELECT id FROM broadcasts ORDER BY id DESC LIMIT 50) \
           AND d.state IN ('sent', 'delivered') \
         ) ORDER BY at DESC, inbound ASC, k DESC LIMIT ?2",
        super::broadcasts::SENT_TEXT
    ))?;
    let mut lines: Vec<ScreenLine> = st
        .query_map(params![subscriber, limit], |r| {
            Ok(ScreenLine { at: r.get(0)?, inbound: r.get(1)?, sealed: r.get(2)?, plain: r.get(3)?, state: r.get(4)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    lines.reverse();
    Ok(lines)
}

/// Subscribers that have a sandbox address (the test phones), newest first.
pub fn sandbox_phones(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut st = conn.prepare(
        "SELECT a.subscriber_id, a.sealed FROM addresses a JOIN subscribers s ON s.id = a.subscriber_id \
         WHERE a.transport = 'sandbox' ORDER BY s.created_at DESC LIMIT 50",
    )?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}
