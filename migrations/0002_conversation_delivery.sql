-- herold schema 2: the conversation (inbox, pending opt-ins, inbound idempotency) and the durable outbox.

-- A pending double opt-in expires at this time.
ALTER TABLE subscriptions ADD COLUMN expires_at INTEGER;
CREATE INDEX subscriptions_pending ON subscriptions(expires_at) WHERE state = 'pending';

-- Inbound messages that were not commands. The text is sealed with the subscriber's key.
CREATE TABLE inbox (
    id                 INTEGER PRIMARY KEY,
    subscriber_id      INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    transport          TEXT NOT NULL,
    gateway_message_id TEXT,
    text_sealed        BLOB NOT NULL,
    received_at        INTEGER NOT NULL
);
CREATE INDEX inbox_received ON inbox(received_at);

-- Every inbound message once: a gateway's retry with the same message id is recognised.
CREATE TABLE inbound_seen (
    transport          TEXT NOT NULL,
    gateway_message_id TEXT NOT NULL,
    received_at        INTEGER NOT NULL,
    PRIMARY KEY (transport, gateway_message_id)
) WITHOUT ROWID;

-- What the sandbox phones typed (the sandbox's own screen; sealed like everything else).
CREATE TABLE sandbox_inbound (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    text_sealed   BLOB NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX sandbox_inbound_subscriber ON sandbox_inbound(subscriber_id);

CREATE TABLE broadcasts (
    id                 INTEGER PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('broadcast', 'newsletter')),
    title              TEXT NOT NULL DEFAULT '',
    body               TEXT NOT NULL,               -- as written (Markdown for newsletters)
    sms_text           TEXT NOT NULL,               -- what SMS and the sandbox get
    html               TEXT,                        -- what Matrix gets (newsletters)
    state              TEXT NOT NULL CHECK (state IN ('scheduled', 'sending', 'paused', 'cancelled', 'done')),
    pause_reason       TEXT,
    idempotency_key    TEXT NOT NULL UNIQUE,
    send_at            INTEGER NOT NULL,
    deadline           INTEGER,
    frequency_override INTEGER NOT NULL DEFAULT 0,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    -- Progress counters, kept here so that no page counts the outbox.
    total              INTEGER NOT NULL DEFAULT 0,
    sent               INTEGER NOT NULL DEFAULT 0,
    delivered          INTEGER NOT NULL DEFAULT 0,
    failed             INTEGER NOT NULL DEFAULT 0,
    cancelled          INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX broadcasts_due ON broadcasts(send_at) WHERE state = 'scheduled';

CREATE TABLE broadcast_channels (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
    channel_id   INTEGER NOT NULL REFERENCES channels(id),
    PRIMARY KEY (broadcast_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX broadcast_channels_channel ON broadcast_channels(channel_id);

-- The outbox: one row per (broadcast, subscriber, transport), or a direct reply (no broadcast, body sealed).
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    broadcast_id    INTEGER REFERENCES broadcasts(id),
    subscriber_id   INTEGER NOT NULL,
    transport       TEXT NOT NULL,
    body_sealed     BLOB,
    priority        INTEGER NOT NULL DEFAULT 1,    -- 0: replies go first
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    gateway_id      TEXT,
    error           TEXT,
    updated_at      INTEGER NOT NULL
);
-- Once per (broadcast, subscriber, transport). Materialising appends to it in order; an opt-out and the
-- sandbox screen find a subscriber's rows through it per broadcast (replies: broadcast_id IS NULL).
-- No state column in it, so that a state change does not rewrite it.
CREATE UNIQUE INDEX deliveries_once ON deliveries(broadcast_id, subscriber_id, transport);
CREATE INDEX deliveries_queue ON deliveries(priority, id) WHERE state = 'queued';
CREATE INDEX deliveries_leased ON deliveries(lease_until) WHERE state = 'sending';
CREATE INDEX deliveries_gateway ON deliveries(gateway_id) WHERE gateway_id IS NOT NULL;
