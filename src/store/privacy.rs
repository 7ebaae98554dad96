//! Erasure (crypto-shredding) and retention: the SQL that destroys a subscriber's key and rows, erasure
//! requested by message, and the rows the daily sweep removes.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, outbox};

/// Destroys a subscriber: ends their subscriptions and cancels what is queued for them, deletes their
/// replies, clears the gateway ids and errors of their broadcast deliveries (the rows stay, for the
/// counts), deletes the subscriber (addresses, subscriptions, inbox and sandbox texts go with it) and
/// destroys the data key in the keyring. Call inside a write transaction; `false` if there was nothing.
pub fn erase(tx: &Connection, subscriber: i64, now: i64) -> Result<bool> {
    tx.execute(
        "UPDATE subscriptions SET state = 'unsubscribed', updated_at = ?2 \
         WHERE subscriber_id = ?1 AND state IN ('pending', 'active')",
        params![subscriber, now],
    )?;
    outbox::cancel_for_subscriber(tx, subscriber, now)?;
    tx.execute("DELETE FROM deliveries WHERE broadcast_id IS NULL AND subscriber_id = ?1", [subscriber])?;
    tx.execute(
        "UPDATE deliveries SET gateway_id = NULL, error = NULL, body_sealed = NULL \
         WHERE broadcast_id IN (SELECT id FROM broadcasts) AND subscriber_id = ?1 \
         AND (gateway_id IS NOT NULL OR error IS NOT NULL OR body_sealed IS NOT NULL)",
        [subscriber],
    )?;
    tx.execute("DELETE FROM gateway_recipients WHERE subscriber_id = ?1", [subscriber])?;
    let rows = tx.execute("DELETE FROM subscribers WHERE id = ?1", [subscriber])?;
    let keys = tx.execute("DELETE FROM keyring.data_keys WHERE subscriber_id = ?1", [subscriber])?;
    Ok(rows + keys > 0)
}

/// Whether anything of this subscriber is left: its row or its data key.
pub fn present(conn: &Connection, subscriber: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM subscribers WHERE id = ?1) \
         OR EXISTS (SELECT 1 FROM keyring.data_keys WHERE subscriber_id = ?1)",
        [subscriber],
        |r| r.get(0),
    )?)
}

/// Writes the keyring's WAL into its file and empties it, so that a destroyed key (zeroed by
/// `secure_delete`) is gone from both files. `false` if readers kept part of the WAL alive.
pub fn flush_keyring(conn: &Connection) -> Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA keyring.wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

/// DELETE / LÖSCHEN arrived: remember it until YES / JA (or another message).
pub fn request_erasure(conn: &Connection, subscriber: i64, at: Option<i64>) -> Result<()> {
    conn.execute("UPDATE subscribers SET erase_requested_at = ?2 WHERE id = ?1", params![subscriber, at])?;
    Ok(())
}

/// When this subscriber asked to be erased (and has not said anything else since).
pub fn erasure_requested(conn: &Connection, subscriber: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT erase_requested_at FROM subscribers WHERE id = ?1")?
        .query_row([subscriber], |r| r.get(0))
        .optional()?
        .flatten())
}

/// YES / JA to an erasure request: the subscriber is erased once the last reply has left.
pub fn confirm_erasure(conn: &Connection, subscriber: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE subscribers SET erase_requested_at = NULL, erase_confirmed_at = ?2 WHERE id = ?1",
        params![subscriber, now],
    )?;
    Ok(())
}

/// Confirmed erasures that can run now: no reply to them is queued or in flight any more, or the
/// confirmation is older than `give_up_before` (a reply that cannot leave does not keep the data).
pub fn confirmed_erasures(conn: &Connection, give_up_before: i64, limit: i64) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT s.id FROM subscribers s WHERE s.erase_confirmed_at IS NOT NULL AND (s.erase_confirmed_at < ?1 \
         OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.broadcast_id IS NULL AND d.subscriber_id = s.id \
             AND d.state IN ('queued', 'sending'))) LIMIT ?2",
    )?;
    Ok(st.query_map(params![give_up_before, limit], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Subscribers with nothing live (no pending or active subscription), no inbox message left, and no
/// activity since the cutoff that applies to them: `left_before` for those who were subscribed and
/// left, `unconfirmed_before` for those who never were (expired opt-ins, only ever wrote a message).
pub fn inactive_subscribers(
    conn: &Connection,
    unconfirmed_before: i64,
    left_before: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT s.id FROM subscribers s \
         WHERE NOT EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = s.id AND x.state IN ('pending', 'active')) \
         AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.subscriber_id = s.id) \
         AND max(s.created_at, coalesce((SELECT max(x.updated_at) FROM subscriptions x WHERE x.subscriber_id = s.id), 0)) \
             < CASE WHEN EXISTS (SELECT 1 FROM subscriptions x WHERE x.subscriber_id = s.id AND x.state = 'unsubscribed') \
                    THEN ?2 ELSE ?1 END \
         LIMIT ?3",
    )?;
    Ok(st.query_map(params![unconfirmed_before, left_before, limit], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
}

/// Deletes up to `limit` inbox messages received before `before`, and as many of the texts the sandbox
/// phones typed; returns how many inbox messages.
pub fn delete_old_inbox(conn: &Connection, before: i64, limit: i64) -> Result<usize> {
    let n = conn.execute(
        "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)",
        params![before, limit],
    )?;
    conn.execute(
        "DELETE FROM sandbox_inbound WHERE id IN (SELECT id FROM sandbox_inbound WHERE at < ?1 LIMIT ?2)",
        params![before, limit],
    )?;
    Ok(n)
}

/// Deletes up to `limit` delivery rows of broadcasts that finished before `before`, and replies last
/// changed before it that are no longer on their way; returns how many. The broadcasts keep their counts.
pub fn delete_old_deliveries(conn: &Connection, before: i64, limit: i64) -> Result<usize> {
    let replies = conn.execute(
        "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE broadcast_id IS NULL AND updated_at < ?1 \
         AND state NOT IN ('queued', 'sending') LIMIT ?2)",
        params![before, limit],
    )?;
    let mut st = conn.prepare_cached(
        "SELECT id FROM broadcasts WHERE state IN ('done', 'cancelled') AND finished_at < ?1 AND first_delivery IS NOT NULL",
    )?;
    let finished: Vec<i64> = st.query_map([before], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut n = replies;
    for b in finished {
        if n as i64 >= limit {
            break;
        }
        n += conn.execute(
            "DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE broadcast_id = ?1 LIMIT ?2)",
            params![b, limit - n as i64],
        )?;
    }
    Ok(n)
}
