//! Admin sessions, stored as SHA-256 hashes of the cookie value.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::admins::Admin;

pub fn insert(conn: &Connection, token_hash: &[u8], admin_id: i64, csrf: &str, now: i64, expires: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO sessions(token_hash, admin_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, admin_id, csrf, now, expires],
    )?;
    Ok(())
}

/// The admin and CSRF token of a live session.
pub fn lookup(conn: &Connection, token_hash: &[u8], now: i64) -> Result<Option<(Admin, String)>> {
    let found: Option<(i64, String)> = conn
        .query_row(
            "SELECT admin_id, csrf_token FROM sessions WHERE token_hash = ?1 AND expires_at > ?2",
            params![token_hash, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        Some((id, csrf)) => Ok(Some((super::admins::by_id(conn, id)?, csrf))),
        None => Ok(None),
    }
}

pub fn delete(conn: &Connection, token_hash: &[u8]) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

pub fn delete_expired(conn: &Connection, now: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?)
}
