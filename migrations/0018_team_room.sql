-- The team's own Matrix room (end-to-end encrypted, by invitation) where the bot says that a
-- conversation has a new message: its number and channels, never its text or who wrote it.
CREATE TABLE team_room (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    room       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Notices waiting for the team room, each posted once (its id is the Matrix transaction id).
CREATE TABLE team_notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    text            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX team_notices_due ON team_notices(next_attempt_at) WHERE state = 'queued';
