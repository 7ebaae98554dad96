//! Conversations: one per subscriber and transport, open or done, maybe taken by an admin; the
//! answers herold and the team gave in them (the subscriber's messages are the inbox's).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};
use crate::domain::{ThreadId, ThreadState, Transport};

/// A conversation as the list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Thread {
    pub id: ThreadId,
    pub subscriber_id: i64,
    pub transport: Transport,
    pub state: ThreadState,
    /// The admin who took it, and their name.
    pub assigned_to: Option<(i64, String)>,
    pub updated_at: i64,
}

const COLS: &str = "t.id, t.subscriber_id, t.transport, t.state, t.assigned_to, a.username, t.updated_at";
const FROM: &str = "threads t LEFT JOIN admins a ON a.id = t.assigned_to";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Thread> {
    let assigned: Option<i64> = r.get(4)?;
    let name: Option<String> = r.get(5)?;
    Ok(Thread {
        id: r.get(0)?,
        subscriber_id: r.get(1)?,
        transport: r.get(2)?,
        state: r.get(3)?,
        assigned_to: assigned.map(|id| (id, name.unwrap_or_else(|| format!("admin:{id}")))),
        updated_at: r.get(6)?,
    })
}

/// A conversation that was quiet this long starts again with the next message (for an installation
/// whose conversations do not open for the team).
const QUIET_EXCHANGE: i64 = 86_400;

/// A message arrived in the conversation with `subscriber` on `transport`: it is created if new, and
/// opened when `open` (a message for the team). True when it starts an exchange: opened just now (new,
/// or done before), or — when it does not open — the first message after a day of quiet.
pub fn arrived(tx: &Connection, subscriber: i64, transport: Transport, open: bool, now: i64) -> Result<bool> {
    let before: Option<(ThreadState, i64)> = tx
        .query_row(
            "SELECT state, updated_at FROM threads WHERE subscriber_id = ?1 AND transport = ?2",
            params![subscriber, transport],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let state = before.map(|b| b.0);
    let to = match (state, open) {
        (_, true) => ThreadState::Open,
        (Some(s), false) => s,
        (None, false) => ThreadState::Done,
    };
    tx.execute(
        "INSERT INTO threads(subscriber_id, transport, state, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (subscriber_id, transport) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![subscriber, transport, to, now],
    )?;
    Ok(match before {
        _ if open => state != Some(ThreadState::Open),
        None => true,
        Some((_, at)) => now - at >= QUIET_EXCHANGE,
    })
}

/// Keeps an answer (sealed with the subscriber's key) in their conversation.
pub fn add_answer(
    tx: &Connection,
    subscriber: i64,
    transport: Transport,
    author: &str,
    sealed: &[u8],
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO thread_answers(subscriber_id, transport, author, text_sealed, at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![subscriber, transport, author, sealed, now])?;
    tx.execute(
        "UPDATE threads SET updated_at = ?3 WHERE subscriber_id = ?1 AND transport = ?2",
        params![subscriber, transport, now],
    )?;
    Ok(())
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Open,
    /// Open and taken by this admin.
    Mine(i64),
    Done,
}

/// A page of conversations, the most recently active first, and how many the filter has in all.
pub fn list(conn: &Connection, filter: Filter, limit: i64, offset: i64) -> Result<(Vec<Thread>, i64)> {
    // ?3: the admin for "mine" (0 otherwise, unused).
    let (cond, admin) = match filter {
        Filter::Open => ("t.state = 'open' AND ?3 = 0", 0),
        Filter::Mine(a) => ("t.state = 'open' AND t.assigned_to = ?3", a),
        Filter::Done => ("t.state = 'done' AND ?3 = 0", 0),
    };
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM {FROM} WHERE {cond} ORDER BY t.updated_at DESC, t.id DESC LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = st.query_map(params![limit, offset, admin], row)?.collect::<rusqlite::Result<_>>()?;
    let total =
        conn.query_row(&format!("SELECT count(*) FROM {FROM} WHERE {cond}"), params![0, 0, admin], |r| r.get(0))?;
    Ok((rows, total))
}

pub fn get(conn: &Connection, id: ThreadId) -> Result<Thread> {
    conn.query_row(&format!("SELECT {COLS} FROM {FROM} WHERE t.id = ?1"), [id], row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// The conversation with a subscriber on a transport, if there is one.
pub fn of(conn: &Connection, subscriber: i64, transport: Transport) -> Result<Option<ThreadId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM threads WHERE subscriber_id = ?1 AND transport = ?2",
            params![subscriber, transport],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_state(tx: &Connection, id: ThreadId, state: ThreadState, now: i64) -> Result<()> {
    let n = tx.execute("UPDATE threads SET state = ?2, updated_at = ?3 WHERE id = ?1", params![id, state, now])?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub fn assign(tx: &Connection, id: ThreadId, admin: Option<i64>) -> Result<()> {
    let n = tx.execute("UPDATE threads SET assigned_to = ?2 WHERE id = ?1", params![id, admin])?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// After STOP: the conversation with this subscriber on this transport is done.
pub fn close_for(tx: &Connection, subscriber: i64, transport: Transport, now: i64) -> Result<()> {
    tx.execute(
        "UPDATE threads SET state = 'done', updated_at = ?3 WHERE subscriber_id = ?1 AND transport = ?2 AND state = 'open'",
        params![subscriber, transport, now],
    )?;
    Ok(())
}

/// How many conversations wait for the team.
pub fn open_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM threads WHERE state = 'open'", [], |r| r.get(0))?)
}

/// One message of a conversation, still sealed: theirs (`author` none) or an answer.
#[derive(Debug, Clone)]
pub struct Sealed {
    pub at: i64,
    pub author: Option<String>,
    pub text: Vec<u8>,
}

/// The newest `limit` messages of a conversation, newest first (an answer given in the second its
/// message arrived comes after that message).
pub fn messages(conn: &Connection, subscriber: i64, transport: Transport, limit: i64) -> Result<Vec<Sealed>> {
    let mut st = conn.prepare_cached(
        "SELECT received_at, NULL, text_sealed, id, 0 FROM inbox WHERE subscriber_id = ?1 AND transport = ?2 \
         UNION ALL SELECT at, author, text_sealed, id, 1 FROM thread_answers WHERE subscriber_id = ?1 AND transport = ?2 \
         ORDER BY 1 DESC, 5 DESC, 4 DESC LIMIT ?3",
    )?;
    Ok(st
        .query_map(params![subscriber, transport, limit], |r| {
            Ok(Sealed { at: r.get(0)?, author: r.get(1)?, text: r.get(2)? })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Deletes answers older than `before` (the inbox's retention); returns how many.
pub fn delete_old_answers(conn: &Connection, before: i64, limit: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM thread_answers WHERE id IN (SELECT id FROM thread_answers WHERE at < ?1 ORDER BY at LIMIT ?2)",
        params![before, limit],
    )?)
}
