-- The outbox's state check written as a chain of comparisons instead of `state IN (…)`: SQLite
-- evaluated the IN list for every inserted row at a cost of about 4 µs, which was most of the time it
-- took to materialise a broadcast (1,000,000 rows: about 4 s of 4.3 s). SQLite cannot change a CHECK
-- in place, so the table is rebuilt (its rows and ids kept) with the same indexes.
CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    broadcast_id    INTEGER REFERENCES broadcasts(id),
    subscriber_id   INTEGER NOT NULL,
    transport       TEXT NOT NULL,
    body_sealed     BLOB,
    priority        INTEGER NOT NULL DEFAULT 1,    -- 0: replies go first
    state           TEXT NOT NULL CHECK (state = 'queued' OR state = 'sending' OR state = 'sent'
                                         OR state = 'delivered' OR state = 'failed' OR state = 'cancelled'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    gateway_id      TEXT,
    error           TEXT,
    updated_at      INTEGER NOT NULL
);
INSERT INTO deliveries_new (id, broadcast_id, subscriber_id, transport, body_sealed, priority, state, attempts,
                            next_attempt_at, lease_until, gateway_id, error, updated_at)
SELECT id, broadcast_id, subscriber_id, transport, body_sealed, priority, state, attempts,
       next_attempt_at, lease_until, gateway_id, error, updated_at
FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE UNIQUE INDEX deliveries_once ON deliveries(broadcast_id, subscriber_id, transport);
CREATE INDEX deliveries_queue ON deliveries(priority, id) WHERE state = 'queued' AND (priority = 0 OR attempts > 0);
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_gateway ON deliveries(gateway_id) WHERE gateway_id IS NOT NULL;
CREATE INDEX deliveries_replies ON deliveries(updated_at) WHERE broadcast_id IS NULL;
