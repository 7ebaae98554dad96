-- Webhooks to other systems: endpoints an owner registers, and one queued row per event and
-- endpoint, written in the transaction that makes the change (nothing lost on a crash).
CREATE TABLE webhook_endpoints (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    -- the event kinds it gets, one bit each (domain::event::EventKind::bit)
    events        INTEGER NOT NULL,
    -- the signing secret, sealed with a key derived from the keyring's secret
    secret_sealed BLOB NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1,
    -- the first failed attempt since the last delivery; a day of failures disables the endpoint
    failing_since INTEGER,
    disabled_at   INTEGER,
    created_by    INTEGER REFERENCES admins(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL
);

-- AUTOINCREMENT: an id is the message's `webhook-id`, which receivers use to drop repeats, so it is
-- never handed out twice, not even after the log was pruned.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'delivered')),
    -- being sent by this process; a start gives back what a killed process held
    leased          INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    -- the endpoint's HTTP status of the last attempt, or none when it could not be reached
    last_status     INTEGER,
    -- why the last attempt failed (a reason code as JSON)
    last_error      TEXT,
    delivered_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'queued';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries(endpoint_id, id);
