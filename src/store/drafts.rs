//! Drafts: broadcasts being written, waiting for an owner's approval, or sent back with a comment.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, StoreError};
use crate::domain::draft::{Draft, Written};
use crate::domain::{DraftId, DraftState};

const COLS: &str = "id, state, content, author, comment, created_at, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Draft> {
    let content: String = r.get(2)?;
    Ok(Draft {
        id: r.get(0)?,
        state: r.get(1)?,
        written: serde_json::from_str(&content)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into()))?,
        author: r.get(3)?,
        comment: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn json(w: &Written) -> String {
    serde_json::to_string(w).expect("a draft serialises")
}

pub fn insert(tx: &Connection, w: &Written, author: &str, now: i64) -> Result<DraftId> {
    tx.execute(
        "INSERT INTO drafts(state, content, author, created_at, updated_at) VALUES ('draft', ?1, ?2, ?3, ?3)",
        params![json(w), author, now],
    )?;
    Ok(DraftId(tx.last_insert_rowid()))
}

/// Replaces a draft's content and sets its state.
pub fn update(tx: &Connection, id: DraftId, w: &Written, state: DraftState, now: i64) -> Result<()> {
    let n = tx.execute(
        "UPDATE drafts SET content = ?2, state = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, json(w), state, now],
    )?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Moves a draft from one of `from` to `to` (with an owner's comment when sending it back).
/// `Conflict(draft-state)` when it is in none of `from` (someone else acted first).
pub fn transition(
    tx: &Connection,
    id: DraftId,
    from: &[DraftState],
    to: DraftState,
    comment: Option<&str>,
    now: i64,
) -> Result<Draft> {
    let d = get(tx, id)?;
    if !from.contains(&d.state) {
        return Err(StoreError::Conflict(crate::domain::Problem::new("draft-state").word("state", d.state.as_str())));
    }
    tx.execute(
        "UPDATE drafts SET state = ?2, comment = coalesce(?3, comment), updated_at = ?4 WHERE id = ?1",
        params![id, to, comment, now],
    )?;
    get(tx, id)
}

pub fn get(conn: &Connection, id: DraftId) -> Result<Draft> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM drafts WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// Every draft, those waiting for approval first, then the newest.
pub fn list(conn: &Connection) -> Result<Vec<Draft>> {
    let mut st =
        conn.prepare_cached(&format!("SELECT {COLS} FROM drafts ORDER BY state != 'submitted', updated_at DESC"))?;
    Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// How many drafts wait for an owner's approval.
pub fn waiting(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM drafts WHERE state = 'submitted'", [], |r| r.get(0))?)
}

pub fn delete(tx: &Connection, id: DraftId) -> Result<()> {
    if tx.execute("DELETE FROM drafts WHERE id = ?1", [id])? == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
