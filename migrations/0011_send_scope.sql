-- API tokens gain the `send` scope (read, and create/pause/resume/cancel broadcasts). SQLite cannot
-- change a CHECK in place, so the table is rebuilt with its rows and ids.
CREATE TABLE api_tokens_new (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'send', 'write')),
    created_by   INTEGER REFERENCES admins(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
INSERT INTO api_tokens_new (id, name, token_hash, scope, created_by, created_at, last_used_at)
SELECT id, name, token_hash, scope, created_by, created_at, last_used_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
