//! The consent ledger: appending hash-chained events, reading them back, and the recorded head.

use rusqlite::{Connection, params};

use super::{Result, StoreError, meta_get, meta_set};
use crate::domain::event::{Event, EventData, EventKind};
use crate::domain::ledger::{ChainError, GENESIS, verify_chain};
use crate::domain::{ConsentEvent, ConsentKind, SubscriberId};

/// An event before it has an id and hash.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub at: i64,
    pub subscriber: i64,
    pub channel: Option<crate::domain::ChannelId>,
    pub transport: Option<crate::domain::Transport>,
    pub kind: ConsentKind,
    pub gateway_message_id: Option<String>,
    pub inbound_sealed: Option<Vec<u8>>,
    pub wording_version: Option<i64>,
    /// The SHA-256 stored with that wording version; hashed, not stored in the event row.
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
    conn.prepare_cached(
        "INSERT INTO consent_events(id, at, subscriber_id, channel_id, transport, kind, gateway_message_id, \
         inbound_sealed, wording_version, actor, hash) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    )?
    .execute(params![
        ev.id,
        ev.at,
        ev.subscriber,
        ev.channel,
        ev.transport,
        ev.kind,
        ev.gateway_message_id,
        ev.inbound_sealed,
        ev.wording_version,
        ev.actor,
        ev.hash
    ])?;
    let mut head = ev.id.to_be_bytes().to_vec();
    head.extend_from_slice(&ev.hash);
    meta_set(conn, "main", "ledger_head", &head)?;
    if let Some(kind) = EventKind::of_consent(ev.kind) {
        let data = EventData::Subscriber {
            subscriber: SubscriberId(ev.subscriber),
            channel: ev.channel,
            transport: ev.transport,
            cause: ev.kind,
        };
        super::event_hooks::enqueue(conn, &Event { kind, at: ev.at, data })?;
    }
    Ok(ev)
}

/// Events joined with the SHA-256 of their wording.
const SELECT: &str = "SELECT e.id, e.at, e.subscriber_id, e.channel_id, e.transport, e.kind, e.gateway_message_id, \
     e.inbound_sealed, e.wording_version, w.sha256, e.actor, e.hash FROM consent_events e \
     LEFT JOIN channel_wordings w ON w.channel_id = e.channel_id AND w.version = e.wording_version";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsentEvent> {
    Ok(ConsentEvent {
        id: r.get(0)?,
        at: r.get(1)?,
        subscriber: r.get(2)?,
        channel: r.get(3)?,
        transport: r.get(4)?,
        kind: r.get(5)?,
        gateway_message_id: r.get(6)?,
        inbound_sealed: r.get(7)?,
        wording_version: r.get(8)?,
        wording_sha256: r.get(9)?,
        actor: r.get(10)?,
        prev_hash: vec![],
        hash: r.get(11)?,
    })
}

pub fn for_subscriber(conn: &Connection, subscriber: i64) -> Result<Vec<ConsentEvent>> {
    let mut st = conn.prepare(&format!("{SELECT} WHERE e.subscriber_id = ?1 ORDER BY e.id"))?;
    Ok(st.query_map([subscriber], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Checks every stored wording against its SHA-256, then walks the whole chain in id order; returns
/// the number of events or where it breaks.
pub fn verify(conn: &Connection) -> Result<Result<u64, ChainError>> {
    let mut st = conn.prepare("SELECT channel_id, version, sha256, content FROM channel_wordings")?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (channel, version, sha, content): (crate::domain::ChannelId, i64, Vec<u8>, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        if crate::domain::channel::wording_sha256(&content).as_slice() != sha.as_slice() {
            return Ok(Err(ChainError::Wording { channel, version }));
        }
    }
    let head = head(conn)?;
    let mut st = conn.prepare(&format!("{SELECT} ORDER BY e.id"))?;
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
        return Ok(Err(ChainError::Mismatch { id }));
    }
    Ok(verify_chain(events, head))
}
