-- herold schema 4: the audit log, erasure by message, and what the retention sweep needs.

-- Every admin action, append-only and hash-chained like the consent ledger; the head is in meta.
CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    hash       BLOB NOT NULL
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- DELETE / LÖSCHEN by message: asked (waiting for YES / JA), then confirmed (erased once the last
-- reply to that address has left).
ALTER TABLE subscribers ADD COLUMN erase_requested_at INTEGER;
ALTER TABLE subscribers ADD COLUMN erase_confirmed_at INTEGER;
CREATE INDEX subscribers_erase ON subscribers(erase_confirmed_at) WHERE erase_confirmed_at IS NOT NULL;

-- Erasure and retention find a subscriber's rows without scanning the table.
CREATE INDEX subscriptions_subscriber ON subscriptions(subscriber_id, updated_at);
CREATE INDEX inbox_subscriber ON inbox(subscriber_id);
CREATE INDEX deliveries_replies ON deliveries(updated_at) WHERE broadcast_id IS NULL;
