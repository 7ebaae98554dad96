//! The consent ledger: appending hash-chained events, reading them back, and the recorded head.

use rusqlite::{Connection, params};

use super::{Result, StoreError, meta_get, meta_set};
use crate::domain::ledger::{ChainError, GENESIS, verify_chain};
use crate::domain::{ConsentEvent, ConsentKind};

/// An event before it has an id and hash.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub at: i64,
    pub subscriber: i64,
    pub channel: Option<i64>,
    pub transport: Option<String>,
    pub kind: ConsentKind,
    pub gateway_message_id: Option<String>,
    pub inbound_sealed: Option<Vec<u8>>,
    pub wording_version: Option<i64>,
    pub wording_sha256: Option<Vec<u8>>,
    pub actor: String,
}

fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    match meta_get(conn, "main", "ledger_head")? {
        None => Ok(None),
        Some(v) if v.len() == 40 => {
            let id = i64::from_be_bytes(v[..8].try_into().expect("8 bytes"));
            Ok(Some((id, v[8..].to_vec())))
        }
        Some(_) => Err(StoreError::Corrupt("the ledger head is malformed".into())),
    }
}

/// Appends one event; call inside the transaction that makes the change it records.
pub fn append(conn: &Connection, e: NewEvent) -> Result<ConsentEvent> {
    let (prev_id, prev_hash) = head(conn)?.unwrap_or((0, GENESIS.to_vec()));
    let mut ev = ConsentEvent {
        id: prev_id + 1,
        at: e.at,
        subscriber: e.subscriber,
        channel: e.channel,
        transport: e.transport,
        kind: e.kind,
        gateway_message_id: e.gateway_message_id,
        inbound_sealed: e.inbound_sealed,
        wording_version: e.wording_version,
        wording_sha256: e.wording_sha256,
        actor: e.actor,
        prev_hash,
        hash: vec![],
    };
    ev.hash = ev.compute_hash().to_vec();
    conn.execute(
        "INSERT INTO consent_events(id, at, subscriber_id, channel_id, transport, kind, gateway_message_id, \
         inbound_sealed, wording_version, wording_sha256, actor, prev_hash, hash) \
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
        params![
            ev.id,
            ev.at,
            ev.subscriber,
            ev.channel,
            ev.transport,
            ev.kind.as_str(),
            ev.gateway_message_id,
            ev.inbound_sealed,
            ev.wording_version,
            ev.wording_sha256,
            ev.actor,
            ev.prev_hash,
            ev.hash
        ],
    )?;
    let mut head = ev.id.to_be_bytes().to_vec();
    head.extend_from_slice(&ev.hash);
    meta_set(conn, "main", "ledger_head", &head)?;
    Ok(ev)
}

const COLS: &str = "id, at, subscriber_id, channel_id, transport, kind, gateway_message_id, inbound_sealed, \
                    wording_version, wording_sha256, actor, prev_hash, hash";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentEvent> {
    let kind: String = r.get(5)?;
    Ok(ConsentEvent {
        id: r.get(0)?,
        at: r.get(1)?,
        subscriber: r.get(2)?,
        channel: r.get(3)?,
        transport: r.get(4)?,
        kind: ConsentKind::parse(&kind)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, e.0.into()))?,
        gateway_message_id: r.get(6)?,
        inbound_sealed: r.get(7)?,
        wording_version: r.get(8)?,
        wording_sha256: r.get(9)?,
        actor: r.get(10)?,
        prev_hash: r.get(11)?,
        hash: r.get(12)?,
    })
}

pub fn for_subscriber(conn: &Connection, subscriber: i64) -> Result<Vec<ConsentEvent>> {
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM consent_events WHERE subscriber_id = ?1 ORDER BY id"))?;
    Ok(st.query_map([subscriber], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Walks the whole chain in id order; returns the number of events or where it breaks.
pub fn verify(conn: &Connection) -> Result<Result<u64, ChainError>> {
    let head = head(conn)?;
    let mut st = conn.prepare(&format!("SELECT {COLS} FROM consent_events ORDER BY id"))?;
    let mut rows = st.query([])?;
    let mut events = Vec::new();
    let mut parse_error = None;
    while let Some(r) = rows.next()? {
        match row(r) {
            Ok(e) => events.push(e),
            Err(_) => {
                parse_error = Some(r.get::<_, i64>(0)?);
                break;
            }
        }
    }
    if let Some(id) = parse_error {
        return Ok(Err(ChainError::Edited { id }));
    }
    Ok(verify_chain(events, head))
}
