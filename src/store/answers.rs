//! Keyword answers and their counts.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError};
use crate::domain::Problem;
use crate::domain::answer::{Answer, NewAnswer};

const COLS: &str = "id, channel_id, keyword, answer_de, answer_en, hits";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Answer> {
    Ok(Answer {
        id: r.get(0)?,
        answer: NewAnswer { channel: r.get(1)?, keyword: r.get(2)?, answer_de: r.get(3)?, answer_en: r.get(4)? },
        hits: r.get(5)?,
    })
}

pub fn insert(tx: &Connection, a: &NewAnswer, now: i64) -> Result<i64> {
    tx.execute(
        "INSERT INTO keyword_answers(channel_id, keyword, answer_de, answer_en, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![a.channel, a.keyword, a.answer_de, a.answer_en, now],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict(Problem::new("answer-keyword-taken").with("keyword", &a.keyword))
        }
        e => e.into(),
    })?;
    Ok(tx.last_insert_rowid())
}

pub fn delete(tx: &Connection, id: i64) -> Result<Answer> {
    let a = tx
        .query_row(&format!("SELECT {COLS} FROM keyword_answers WHERE id = ?1"), [id], row)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    tx.execute("DELETE FROM keyword_answers WHERE id = ?1", [id])?;
    Ok(a)
}

/// Every keyword answer: the installation's first, then by channel and keyword.
pub fn list(conn: &Connection) -> Result<Vec<Answer>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM keyword_answers ORDER BY channel_id IS NOT NULL, channel_id, keyword"
    ))?;
    Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// The answers a subscriber can ask for: the installation's and those of channels they are in.
pub fn for_subscriber(conn: &Connection, subscriber: i64) -> Result<Vec<Answer>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM keyword_answers WHERE channel_id IS NULL OR channel_id IN \
         (SELECT channel_id FROM subscriptions WHERE subscriber_id = ?1 AND state = 'active') \
         ORDER BY keyword, channel_id IS NULL"
    ))?;
    Ok(st.query_map([subscriber], row)?.collect::<rusqlite::Result<_>>()?)
}

/// The answer to `keyword` (normalised) for this subscriber — a channel's before the installation's —
/// counted as asked for.
pub fn ask(conn: &Connection, keyword: &str, subscriber: i64) -> Result<Option<Answer>> {
    let Some(a) = for_subscriber(conn, subscriber)?.into_iter().find(|a| a.answer.keyword == keyword) else {
        return Ok(None);
    };
    conn.execute("UPDATE keyword_answers SET hits = hits + 1 WHERE id = ?1", [a.id])?;
    Ok(Some(a))
}
