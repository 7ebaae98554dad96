-- Gateway quotas across restarts: the SMS parts each gateway sent per local day, and whom it reached
-- per local month (pseudonymous subscriber ids, deleted with the subscriber and after two months).
CREATE TABLE gateway_days (
    gateway TEXT NOT NULL,
    day     INTEGER NOT NULL,   -- 20261224 in the installation's zone
    parts   INTEGER NOT NULL,
    PRIMARY KEY (gateway, day)
) WITHOUT ROWID;

CREATE TABLE gateway_recipients (
    gateway       TEXT NOT NULL,
    month         INTEGER NOT NULL,   -- 202612
    subscriber_id INTEGER NOT NULL,
    PRIMARY KEY (gateway, month, subscriber_id)
) WITHOUT ROWID;
CREATE INDEX gateway_recipients_subscriber ON gateway_recipients(subscriber_id);

-- The gateway a reply goes back through (the one its recipient wrote to); NULL: any.
ALTER TABLE deliveries ADD COLUMN via TEXT;
