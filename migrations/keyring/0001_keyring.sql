-- herold keyring, schema 1: wrapped data keys, kept apart from the data so backups of each can have their own lifetime.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE data_keys (
    subscriber_id INTEGER PRIMARY KEY,
    wrapped       BLOB NOT NULL
);
