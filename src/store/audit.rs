//! The audit log: appending hash-chained entries, reading them page by page, checking the chain.

use rusqlite::{Connection, params};

use super::{Result, StoreError, meta_get, meta_set};
use crate::domain::audit::AuditEvent;
use crate::domain::ledger::{ChainError, GENESIS, verify_chain};

/// An entry before it has an id and hash.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub at: i64,
    pub actor: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    match meta_get(conn, "main", "audit_head")? {
        None => Ok(None),
        Some(v) if v.len() == 40 => {
            Ok(Some((i64::from_be_bytes(v[..8].try_into().expect("8 bytes")), v[8..].to_vec())))
        }
        Some(_) => Err(StoreError::Corrupt("the audit head is malformed".into())),
    }
}

/// Appends one entry; call inside the transaction that makes the change it records, if there is one.
pub fn append(conn: &Connection, e: NewAudit) -> Result<i64> {
    let (prev_id, prev_hash) = head(conn)?.unwrap_or((0, GENESIS.to_vec()));
    let mut ev = AuditEvent {
        id: prev_id + 1,
        at: e.at,
        actor: e.actor,
        actor_name: e.actor_name,
        action: e.action,
        target: e.target,
        detail: e.detail,
        prev_hash,
        hash: vec![],
    };
    ev.hash = ev.compute_hash().to_vec();
    conn.prepare_cached(
        "INSERT INTO audit_events(id, at, actor, actor_name, action, target, detail, hash) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
    )?
    .execute(params![ev.id, ev.at, ev.actor, ev.actor_name, ev.action, ev.target, ev.detail, ev.hash])?;
    let mut head = ev.id.to_be_bytes().to_vec();
    head.extend_from_slice(&ev.hash);
    meta_set(conn, "main", "audit_head", &head)?;
    Ok(ev.id)
}

const SELECT: &str = "SELECT id, at, actor, actor_name, action, target, detail, hash FROM audit_events";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        actor_name: r.get(3)?,
        action: r.get(4)?,
        target: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: vec![],
        hash: r.get(7)?,
    })
}

/// Newest first, with the total.
pub fn page(conn: &Connection, limit: i64, offset: i64) -> Result<(Vec<AuditEvent>, i64)> {
    let mut st = conn.prepare_cached(&format!("{SELECT} ORDER BY id DESC LIMIT ?1 OFFSET ?2"))?;
    let rows = st.query_map([limit, offset], row)?.collect::<rusqlite::Result<_>>()?;
    let total = conn.query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))?;
    Ok((rows, total))
}

/// Walks the whole log in id order; the number of entries or where it breaks.
pub fn verify(conn: &Connection) -> Result<Result<u64, ChainError>> {
    let head = head(conn)?;
    let mut st = conn.prepare(&format!("{SELECT} ORDER BY id"))?;
    let events = st.query_map([], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(verify_chain(events, head))
}
