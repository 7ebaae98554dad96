-- herold main database, schema 1. Addresses are sealed; nothing here holds a plaintext address.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE admins (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    language            TEXT,
    created_at          INTEGER NOT NULL,
    password_changed_at INTEGER NOT NULL
);

-- Server-side sessions: only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_admin ON sessions(admin_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    created_by   INTEGER REFERENCES admins(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE channels (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    keyword          TEXT NOT NULL UNIQUE,
    description      TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL CHECK (kind IN ('broadcast', 'newsletter')),
    opt_in           TEXT NOT NULL CHECK (opt_in IN ('single', 'double')),
    texts            TEXT NOT NULL,            -- JSON: welcome/confirm per language
    transports       TEXT NOT NULL,            -- JSON list
    frequency_max    INTEGER,
    frequency_period TEXT CHECK (frequency_period IN ('day', 'week', 'month')),
    public_archive   INTEGER NOT NULL DEFAULT 0,   -- newsletters: past issues on a public page
    wording_version  INTEGER NOT NULL DEFAULT 1,
    wording_sha256   BLOB NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- Every wording a channel has shown, by version: what a subscriber agreed to. Append-only.
CREATE TABLE channel_wordings (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    version    INTEGER NOT NULL,
    sha256     BLOB NOT NULL,
    content    TEXT NOT NULL,               -- canonical JSON; sha256 is over exactly these bytes
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, version)
) WITHOUT ROWID;
CREATE TRIGGER channel_wordings_no_update BEFORE UPDATE ON channel_wordings
BEGIN SELECT RAISE(ABORT, 'wordings are append-only'); END;
CREATE TRIGGER channel_wordings_no_delete BEFORE DELETE ON channel_wordings
BEGIN SELECT RAISE(ABORT, 'wordings are append-only'); END;

-- Pseudonymous: a random id, a language, a date. The data key is in the keyring file.
CREATE TABLE subscribers (
    id         INTEGER PRIMARY KEY,
    language   TEXT NOT NULL DEFAULT 'de',
    created_at INTEGER NOT NULL
);

-- One sealed address per transport; found by its keyed blind index.
CREATE TABLE addresses (
    blind_index   BLOB PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    transport     TEXT NOT NULL CHECK (transport IN ('sandbox', 'sms', 'matrix')),
    sealed        BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX addresses_subscriber ON addresses(subscriber_id, transport);

CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    transport     TEXT NOT NULL CHECK (transport IN ('sandbox', 'sms', 'matrix')),  -- consent is per transport
    state         TEXT NOT NULL CHECK (state IN ('pending', 'active', 'unsubscribed', 'expired')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- At most one live subscription per subscriber and channel; a new opt-in after leaving is a new row.
CREATE UNIQUE INDEX subscriptions_live ON subscriptions(subscriber_id, channel_id) WHERE state IN ('pending', 'active');
CREATE INDEX subscriptions_channel_state ON subscriptions(channel_id, state, subscriber_id, transport);

-- The consent ledger: append-only and hash-chained. Each hash covers the event, the SHA-256 of its
-- wording (from channel_wordings) and the previous event's hash. The head (newest id and hash) is in meta.
CREATE TABLE consent_events (
    id                 INTEGER PRIMARY KEY,
    at                 INTEGER NOT NULL,
    subscriber_id      INTEGER NOT NULL,       -- no foreign key: events outlive an erased subscriber
    channel_id         INTEGER,
    transport          TEXT,
    kind               TEXT NOT NULL,
    gateway_message_id TEXT,
    inbound_sealed     BLOB,
    wording_version    INTEGER,
    actor              TEXT NOT NULL,
    hash               BLOB NOT NULL
);
CREATE INDEX consent_events_subscriber ON consent_events(subscriber_id);

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN SELECT RAISE(ABORT, 'the consent ledger is append-only'); END;
