-- Broadcasts being written, waiting for an owner's approval, or sent back with a comment. The content
-- is the compose form as JSON (kind, title, body, channels, send_at, deadline, translation); a draft
-- is removed when it becomes a broadcast (the audit log keeps the steps). AUTOINCREMENT: a draft's id
-- is its broadcast's idempotency key, so an id is never handed out twice.
CREATE TABLE drafts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    state      TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'returned')),
    content    TEXT NOT NULL,
    author     TEXT NOT NULL,            -- admin:<id>, as audit entries name actors
    comment    TEXT NOT NULL DEFAULT '', -- an owner's comment when sending it back
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- An admin's own time zone (IANA name); none: the installation's.
ALTER TABLE admins ADD COLUMN time_zone TEXT;
