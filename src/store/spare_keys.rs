//! Data keys written ahead for first contacts (the keyring's `spare_keys`): written and synced in
//! batches away from the inbound path, so an opt-in's key is on disk before anything refers to it
//! without the opt-in waiting for that.

use rusqlite::Connection;

use super::Result;

/// Spares no subscriber uses (a spare used just before a crash may still be listed: its subscriber
/// exists, so it is not returned).
pub fn unused(conn: &Connection) -> Result<Vec<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare(
            "SELECT s.subscriber_id, k.wrapped FROM keyring.spare_keys s \
             JOIN keyring.data_keys k ON k.subscriber_id = s.subscriber_id \
             WHERE NOT EXISTS (SELECT 1 FROM subscribers WHERE id = s.subscriber_id)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Writes new spares (key and listing) and removes the listing of spares that subscribers now use, in
/// one transaction that touches the keyring only: it never holds up a write to the data.
pub fn add(conn: &mut Connection, new: &[(i64, Vec<u8>)], used: &[i64]) -> Result<()> {
    // Deferred: the first statement writes the keyring, so only the keyring is locked.
    let tx = conn.transaction()?;
    {
        let mut spare = tx.prepare_cached("INSERT INTO keyring.spare_keys(subscriber_id) VALUES (?1)")?;
        for (id, wrapped) in new {
            super::subscribers::insert_key(&tx, *id, wrapped)?;
            spare.execute([id])?;
        }
        let mut gone = tx.prepare_cached("DELETE FROM keyring.spare_keys WHERE subscriber_id = ?1")?;
        for id in used {
            gone.execute([id])?;
        }
    }
    tx.commit()?;
    Ok(())
}
