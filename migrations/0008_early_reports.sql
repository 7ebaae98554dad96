-- herold schema 8: delivery reports that arrive before their send is recorded. A fast SMSC reports
-- within milliseconds, while the worker records a round's outcomes during the next round; such a
-- report waits here and is applied when the send is recorded (or dropped after a day).
CREATE TABLE early_reports (
    transport  TEXT NOT NULL,
    gateway_id TEXT NOT NULL,
    delivered  INTEGER NOT NULL,
    error      TEXT,
    at         INTEGER NOT NULL,
    PRIMARY KEY (transport, gateway_id)
) WITHOUT ROWID;
