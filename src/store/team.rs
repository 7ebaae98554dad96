//! The team room: which Matrix room the bot tells about new messages in conversations, and the
//! notices queued for it (text without any address or message text).

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;

/// Sets the team room (none: no notices from now on; the queued ones are dropped).
pub fn set_room(tx: &Connection, room: Option<&str>, now: i64) -> Result<()> {
    tx.execute("DELETE FROM team_room", [])?;
    match room {
        Some(r) => {
            tx.execute("INSERT INTO team_room(id, room, created_at) VALUES (1, ?1, ?2)", params![r, now])?;
        }
        None => {
            tx.execute("UPDATE team_notices SET state = 'failed' WHERE state IN ('queued', 'sending')", [])?;
        }
    }
    Ok(())
}

pub fn room(conn: &Connection) -> Result<Option<String>> {
    Ok(conn.prepare_cached("SELECT room FROM team_room WHERE id = 1")?.query_row([], |r| r.get(0)).optional()?)
}

/// Queues a notice for the team room (inside the transaction that stored the message).
pub fn enqueue(tx: &Connection, text: &str, now: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO team_notices(text, state, next_attempt_at, updated_at) VALUES (?1, 'queued', ?2, ?2)",
    )?
    .execute(params![text, now])?;
    Ok(())
}

/// A notice leased to the worker.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: i64,
    pub text: String,
    pub attempts: i64,
}

/// Leases the due notices (none without a team room).
pub fn claim(conn: &Connection, now: i64) -> Result<Vec<Notice>> {
    let due: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM team_notices WHERE state = 'queued' AND next_attempt_at <= ?1)")?
        .query_row([now], |r| r.get(0))?;
    if !due {
        return Ok(vec![]);
    }
    let mut st = conn.prepare_cached(
        "UPDATE team_notices SET state = 'sending', attempts = attempts + 1, updated_at = ?1 \
         WHERE state = 'queued' AND next_attempt_at <= ?1 RETURNING id, text, attempts",
    )?;
    Ok(st
        .query_map([now], |r| Ok(Notice { id: r.get(0)?, text: r.get(1)?, attempts: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?)
}

/// What became of a notice: posted, to be tried again at a time, or given up.
#[derive(Debug, Clone, Copy)]
pub enum Posted {
    Sent,
    Retry(i64),
    Failed,
}

pub fn record(conn: &Connection, id: i64, posted: Posted, now: i64) -> Result<()> {
    let (state, at) = match posted {
        Posted::Sent => ("sent", now),
        Posted::Retry(at) => ("queued", at),
        Posted::Failed => ("failed", now),
    };
    conn.prepare_cached("UPDATE team_notices SET state = ?2, next_attempt_at = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, state, at, now])?;
    Ok(())
}

/// At start: notices a stopped worker held go back to the queue (posted again with the same id).
pub fn reclaim_all(conn: &Connection) -> Result<usize> {
    Ok(conn.execute("UPDATE team_notices SET state = 'queued' WHERE state = 'sending'", [])?)
}
