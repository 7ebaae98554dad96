//! Subscribers, their sealed addresses and blind indexes, their data keys (keyring), and subscriptions.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError, write_tx};
use crate::domain::Problem;
use crate::domain::{ChannelId, SubscriptionState, Transport};

/// A sealed address as stored.
#[derive(Debug, Clone)]
pub struct SealedAddress {
    pub transport: Transport,
    pub sealed: Vec<u8>,
    /// Their Matrix DM room, once known (sealed too).
    pub room: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionRow {
    pub id: i64,
    pub channel_id: ChannelId,
    pub channel_name: String,
    pub state: SubscriptionState,
    pub created_at: i64,
    pub updated_at: i64,
    pub transport: Transport,
}

/// One subscriber as listed: pseudonymous columns plus sealed addresses.
#[derive(Debug, Clone)]
pub struct SubscriberRow {
    pub id: i64,
    pub language: String,
    pub created_at: i64,
    pub addresses: Vec<SealedAddress>,
    /// A name or note from an imported list, sealed (`note`).
    pub note_sealed: Option<Vec<u8>>,
}

/// A new subscriber, ready to write: everything already sealed and indexed.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    pub id: i64,
    pub language: String,
    pub wrapped_key: Vec<u8>,
    pub blind_index: Vec<u8>,
    pub transport: Transport,
    pub sealed_address: Vec<u8>,
    /// A name or note from an imported list, sealed with the subscriber's key (`note`).
    pub note_sealed: Option<Vec<u8>>,
}

/// Writes data keys to the keyring in their own transaction. Done before the data rows, so a crash in
/// between leaves at most an unused key, never sealed data without its key.
pub fn insert_keys(conn: &mut Connection, subs: &[NewSubscriber]) -> Result<()> {
    let tx = write_tx(conn)?;
    for s in subs {
        insert_key(&tx, s.id, &s.wrapped_key)?;
    }
    tx.commit()?;
    Ok(())
}

/// Writes one data key (inside a transaction that commits before anything sealed with it).
pub fn insert_key(conn: &Connection, id: i64, wrapped: &[u8]) -> Result<()> {
    conn.prepare_cached("INSERT INTO keyring.data_keys(subscriber_id, wrapped) VALUES (?1, ?2)")?
        .execute(params![id, wrapped])?;
    Ok(())
}

/// Removes data keys that were written for subscribers whose rows were then not written.
pub fn delete_keys(conn: &Connection, ids: &[i64]) -> Result<()> {
    let mut st = conn.prepare_cached("DELETE FROM keyring.data_keys WHERE subscriber_id = ?1")?;
    for id in ids {
        st.execute([id])?;
    }
    Ok(())
}

/// Inserts the subscriber and address rows (call inside a transaction).
pub fn insert(conn: &Connection, s: &NewSubscriber, now: i64) -> Result<()> {
    conn.prepare_cached("INSERT INTO subscribers(id, language, created_at, note_sealed) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![s.id, s.language, now, s.note_sealed])?;
    let res = conn
        .prepare_cached("INSERT INTO addresses(blind_index, subscriber_id, transport, sealed) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![s.blind_index, s.id, s.transport, s.sealed_address]);
    match res {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict(Problem::new("address-registered")))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn find_by_index(conn: &Connection, blind_index: &[u8]) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT subscriber_id FROM addresses WHERE blind_index = ?1")?
        .query_row([blind_index], |r| r.get(0))
        .optional()?)
}

pub fn wrapped_key(conn: &Connection, id: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT wrapped FROM keyring.data_keys WHERE subscriber_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<SubscriberRow> {
    let (language, created_at, note_sealed) =
        conn.query_row("SELECT language, created_at, note_sealed FROM subscribers WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(SubscriberRow { id, language, created_at, addresses: addresses(conn, id)?, note_sealed })
}

pub fn addresses(conn: &Connection, id: i64) -> Result<Vec<SealedAddress>> {
    let mut st = conn.prepare_cached(
        "SELECT transport, sealed, room_sealed FROM addresses WHERE subscriber_id = ?1 ORDER BY transport",
    )?;
    Ok(st
        .query_map([id], |r| Ok(SealedAddress { transport: r.get(0)?, sealed: r.get(1)?, room: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Filters for the subscriber list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub channel: Option<ChannelId>,
    pub state: Option<SubscriptionState>,
    pub transport: Option<Transport>,
}

/// A page of subscribers, newest first, and the total matching the filter.
pub fn list(conn: &Connection, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<SubscriberRow>, i64)> {
    let where_sql = "WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = s.id \
                       AND x.channel_id = ?1 AND (?2 IS NULL OR x.state = ?2))) \
                     AND (?2 IS NULL OR ?1 IS NOT NULL OR EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = s.id AND x.state = ?2)) \
                     AND (?3 IS NULL OR EXISTS (SELECT 1 FROM addresses a WHERE a.subscriber_id = s.id AND a.transport = ?3))";
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM subscribers s {where_sql}"),
        params![f.channel, f.state, f.transport],
        |r| r.get(0),
    )?;
    let mut st = conn.prepare(&format!(
        "SELECT s.id, s.language, s.created_at FROM subscribers s {where_sql} ORDER BY s.created_at DESC, s.id LIMIT ?4 OFFSET ?5"
    ))?;
    let heads: Vec<(i64, String, i64)> = st
        .query_map(params![f.channel, f.state, f.transport, limit, offset], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(heads.len());
    for (id, language, created_at) in heads {
        out.push(SubscriberRow { id, language, created_at, addresses: addresses(conn, id)?, note_sealed: None });
    }
    Ok((out, total))
}

pub fn subscriptions(conn: &Connection, id: i64) -> Result<Vec<SubscriptionRow>> {
    let mut st = conn.prepare(
        "SELECT s.id, s.channel_id, c.name, s.state, s.created_at, s.updated_at, s.transport FROM subscriptions s \
         JOIN channels c ON c.id = s.channel_id WHERE s.subscriber_id = ?1 ORDER BY s.id",
    )?;
    Ok(st
        .query_map([id], |r| {
            Ok(SubscriptionRow {
                id: r.get(0)?,
                channel_id: r.get(1)?,
                channel_name: r.get(2)?,
                state: r.get(3)?,
                created_at: r.get(4)?,
                updated_at: r.get(5)?,
                transport: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// Adds a subscription in `state`; a live one for the same channel is a conflict.
pub fn insert_subscription(
    conn: &Connection,
    subscriber: i64,
    channel: ChannelId,
    transport: Transport,
    state: SubscriptionState,
    now: i64,
) -> Result<i64> {
    insert_subscription_until(conn, subscriber, channel, transport, state, now, None)
}

/// Adds a subscription that expires at `expires_at` unless confirmed (double opt-in).
pub fn insert_subscription_until(
    conn: &Connection,
    subscriber: i64,
    channel: ChannelId,
    transport: Transport,
    state: SubscriptionState,
    now: i64,
    expires_at: Option<i64>,
) -> Result<i64> {
    let res = conn
        .prepare_cached(
            "INSERT INTO subscriptions(subscriber_id, channel_id, transport, state, created_at, updated_at, expires_at) \
             VALUES (?1, ?2, ?6, ?3, ?4, ?4, ?5)",
        )?
        .execute(params![subscriber, channel, state, now, expires_at, transport]);
    match res {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(StoreError::Conflict(Problem::new("already-subscribed")))
        }
        Err(e) => Err(e.into()),
    }
}

/// All (subscriber id, wrapped key) pairs in the keyring, for key rotation.
pub fn all_wrapped_keys(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>> {
    let mut st = conn.prepare("SELECT subscriber_id, wrapped FROM keyring.data_keys")?;
    Ok(st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?)
}

/// A pending or active subscription.
#[derive(Debug, Clone)]
pub struct LiveSubscription {
    pub id: i64,
    pub channel_id: ChannelId,
    pub transport: Transport,
    pub state: SubscriptionState,
    pub expires_at: Option<i64>,
}

pub fn live(conn: &Connection, subscriber: i64) -> Result<Vec<LiveSubscription>> {
    let mut st = conn.prepare_cached(
        "SELECT id, channel_id, state, expires_at, transport FROM subscriptions \
         WHERE subscriber_id = ?1 AND state IN ('pending', 'active') ORDER BY id",
    )?;
    Ok(st
        .query_map([subscriber], |r| {
            Ok(LiveSubscription {
                id: r.get(0)?,
                channel_id: r.get(1)?,
                state: r.get(2)?,
                expires_at: r.get(3)?,
                transport: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn set_state(conn: &Connection, id: i64, state: SubscriptionState, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE subscriptions SET state = ?2, updated_at = ?3, expires_at = NULL WHERE id = ?1")?
        .execute(params![id, state, now])?;
    Ok(())
}

/// Pending opt-ins past their time: (subscription, subscriber, channel).
pub fn due_expiries(conn: &Connection, now: i64, limit: i64) -> Result<Vec<(i64, i64, ChannelId)>> {
    let mut st = conn.prepare_cached(
        "SELECT id, subscriber_id, channel_id FROM subscriptions WHERE state = 'pending' AND expires_at <= ?1 LIMIT ?2",
    )?;
    Ok(st
        .query_map(params![now, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

pub fn set_language(conn: &Connection, subscriber: i64, language: &str) -> Result<()> {
    conn.prepare_cached("UPDATE subscribers SET language = ?2 WHERE id = ?1")?
        .execute(params![subscriber, language])?;
    Ok(())
}

/// A subscriber's language and the time they were first stored.
pub fn language_and_since(conn: &Connection, subscriber: i64) -> Result<(String, i64)> {
    Ok(conn
        .prepare_cached("SELECT language, created_at FROM subscribers WHERE id = ?1")?
        .query_row([subscriber], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// The wrapped data key and the sealed address on one transport, in one lookup (the delivery path).
pub fn key_and_address(conn: &Connection, subscriber: i64, transport: Transport) -> Result<Option<StoredAddress>> {
    Ok(conn
        .prepare_cached(
            "SELECT k.wrapped, a.sealed, a.room_sealed FROM addresses a \
             JOIN keyring.data_keys k ON k.subscriber_id = a.subscriber_id \
             WHERE a.subscriber_id = ?1 AND a.transport = ?2",
        )?
        .query_row(params![subscriber, transport], |r| {
            Ok(StoredAddress { wrapped_key: r.get(0)?, address: r.get(1)?, room: r.get(2)? })
        })
        .optional()?)
}

/// A subscriber's address on one transport as stored: everything sealed with their data key.
#[derive(Debug, Clone)]
pub struct StoredAddress {
    pub wrapped_key: Vec<u8>,
    pub address: Vec<u8>,
    /// Their Matrix DM room, once known.
    pub room: Option<Vec<u8>>,
}

/// Stores the room a subscriber is reached in on `transport` (sealed with their key).
pub fn set_room(conn: &Connection, subscriber: i64, transport: Transport, room_sealed: &[u8]) -> Result<()> {
    conn.prepare_cached("UPDATE addresses SET room_sealed = ?3 WHERE subscriber_id = ?1 AND transport = ?2")?
        .execute(params![subscriber, transport, room_sealed])?;
    Ok(())
}
