-- herold keyring, schema 2: data keys written ahead for first contacts, so that an opt-in does not wait
-- for the keyring's fsync. A spare is a data key no subscriber uses yet; once one does, its row here
-- is removed with the next batch of spares (a spare whose subscriber exists is used, whatever is listed).
CREATE TABLE spare_keys (
    subscriber_id INTEGER PRIMARY KEY
);
