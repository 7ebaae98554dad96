//! API tokens, stored as SHA-256 hashes with a scope: read, send (read and broadcasts) or write (all).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};

/// What a token may do; each scope may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read channels, subscribers (masked) and broadcasts.
    Read,
    /// Also create, pause, resume and cancel broadcasts (a feed of status news), nothing else.
    Send,
    /// Also change channels and subscribers, export and erase them.
    Write,
}

impl Scope {
    pub const ALL: &'static [Scope] = &[Scope::Read, Scope::Send, Scope::Write];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Send => "send",
            Scope::Write => "write",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiToken> {
    let scope: String = r.get(2)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        scope: Scope::parse(&scope).unwrap_or(Scope::Read),
        created_at: r.get(3)?,
        last_used_at: r.get(4)?,
    })
}

pub fn insert(conn: &Connection, name: &str, hash: &[u8], scope: Scope, by: i64, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO api_tokens(name, token_hash, scope, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, hash, scope.as_str(), by, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn list(conn: &Connection) -> Result<Vec<ApiToken>> {
    let mut st = conn.prepare("SELECT id, name, scope, created_at, last_used_at FROM api_tokens ORDER BY id")?;
    Ok(st.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Finds a token by hash and records its use.
pub fn authenticate(conn: &Connection, hash: &[u8], now: i64) -> Result<Option<ApiToken>> {
    let tok = conn
        .query_row(
            "SELECT id, name, scope, created_at, last_used_at FROM api_tokens WHERE token_hash = ?1",
            [hash],
            row,
        )
        .optional()?;
    if let Some(t) = &tok {
        conn.execute("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1", params![t.id, now])?;
    }
    Ok(tok)
}

pub fn remove(conn: &Connection, id: i64) -> Result<()> {
    if conn.execute("DELETE FROM api_tokens WHERE id = ?1", [id])? == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
