-- When a gateway or the homeserver answers "too many requests", the deliveries wait as it asked; the
-- broadcast remembers until when and why, so its page can say so (without counting the outbox).
ALTER TABLE broadcasts ADD COLUMN waiting_until INTEGER;
ALTER TABLE broadcasts ADD COLUMN waiting_reason TEXT;

-- Announcement-room mode: a channel may reach Matrix through one room the bot owns, where only the bot
-- posts (its members can see each other). The room's id; no member of it is stored.
ALTER TABLE channels ADD COLUMN matrix_room TEXT;

-- One post per (broadcast, announcement room). Few rows, so no queue index: the worker scans them.
CREATE TABLE room_posts (
    id              INTEGER PRIMARY KEY,
    broadcast_id    INTEGER NOT NULL REFERENCES broadcasts(id),
    channel_id      INTEGER NOT NULL REFERENCES channels(id),
    room            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    event_id        TEXT,
    error           TEXT,
    updated_at      INTEGER NOT NULL,
    UNIQUE (broadcast_id, channel_id)
);
CREATE INDEX room_posts_open ON room_posts(state) WHERE state IN ('queued', 'sending');
