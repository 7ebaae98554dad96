-- Subscriber totals per channel and transport, kept by triggers in the same transaction as every
-- change to a subscription, so that no page counts the subscriptions table (the dashboard and the
-- API read these rows). channel_days keeps each channel's active total at the end of each day
-- (UTC) for the growth chart, from the day this migration ran. broadcast_minutes (below) feeds the
-- broadcast page's chart.
CREATE TABLE channel_totals (
    channel_id INTEGER NOT NULL,
    transport  TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0,
    pending    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, transport)
) WITHOUT ROWID;

CREATE TABLE channel_days (
    channel_id INTEGER NOT NULL,
    day        INTEGER NOT NULL,   -- days since 1970-01-01 (UTC)
    active     INTEGER NOT NULL,
    PRIMARY KEY (channel_id, day)
) WITHOUT ROWID;

INSERT INTO channel_totals (channel_id, transport, active, pending)
SELECT channel_id, transport, sum(state = 'active'), sum(state = 'pending')
FROM subscriptions WHERE state IN ('active', 'pending') GROUP BY channel_id, transport;

INSERT INTO channel_days (channel_id, day, active)
SELECT channel_id, unixepoch() / 86400, sum(active) FROM channel_totals GROUP BY channel_id;

CREATE TRIGGER subscriptions_total_insert AFTER INSERT ON subscriptions
WHEN NEW.state IN ('active', 'pending') BEGIN
    INSERT INTO channel_totals (channel_id, transport, active, pending)
    VALUES (NEW.channel_id, NEW.transport, NEW.state = 'active', NEW.state = 'pending')
    ON CONFLICT (channel_id, transport) DO UPDATE
        SET active = active + excluded.active, pending = pending + excluded.pending;
END;

CREATE TRIGGER subscriptions_total_delete AFTER DELETE ON subscriptions
WHEN OLD.state IN ('active', 'pending') BEGIN
    UPDATE channel_totals
    SET active = active - (OLD.state = 'active'), pending = pending - (OLD.state = 'pending')
    WHERE channel_id = OLD.channel_id AND transport = OLD.transport;
END;

CREATE TRIGGER subscriptions_total_update AFTER UPDATE OF state, channel_id, transport ON subscriptions
WHEN OLD.state IS NOT NEW.state OR OLD.channel_id IS NOT NEW.channel_id OR OLD.transport IS NOT NEW.transport
BEGIN
    UPDATE channel_totals
    SET active = active - (OLD.state = 'active'), pending = pending - (OLD.state = 'pending')
    WHERE channel_id = OLD.channel_id AND transport = OLD.transport;
    INSERT INTO channel_totals (channel_id, transport, active, pending)
    VALUES (NEW.channel_id, NEW.transport, NEW.state = 'active', NEW.state = 'pending')
    ON CONFLICT (channel_id, transport) DO UPDATE
        SET active = active + excluded.active, pending = pending + excluded.pending;
END;

CREATE TRIGGER channel_totals_day_insert AFTER INSERT ON channel_totals BEGIN
    INSERT INTO channel_days (channel_id, day, active)
    VALUES (NEW.channel_id, unixepoch() / 86400,
            (SELECT sum(active) FROM channel_totals WHERE channel_id = NEW.channel_id))
    ON CONFLICT (channel_id, day) DO UPDATE SET active = excluded.active;
END;

CREATE TRIGGER channel_totals_day_update AFTER UPDATE OF active ON channel_totals
WHEN OLD.active IS NOT NEW.active BEGIN
    INSERT INTO channel_days (channel_id, day, active)
    VALUES (NEW.channel_id, unixepoch() / 86400,
            (SELECT sum(active) FROM channel_totals WHERE channel_id = NEW.channel_id))
    ON CONFLICT (channel_id, day) DO UPDATE SET active = excluded.active;
END;

-- Deliveries recorded per broadcast and minute (aggregate counts only), for the broadcast page's chart.
CREATE TABLE broadcast_minutes (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
    minute       INTEGER NOT NULL,   -- minutes since 1970 (UTC)
    sent         INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, minute)
) WITHOUT ROWID;
