-- Lanes: each delivery route (sandbox, SMS, Matrix) leases its own rows. A broadcast's rows are
-- materialised one transport after the other, so that each transport's rows are a contiguous range
-- walked with a cursor of its own (`broadcasts.cursor` walked all transports at once).
CREATE TABLE broadcast_ranges (
    broadcast_id   INTEGER NOT NULL REFERENCES broadcasts(id),
    transport      TEXT NOT NULL,
    first_delivery INTEGER NOT NULL,
    last_delivery  INTEGER NOT NULL,
    cursor         INTEGER NOT NULL,   -- the highest id of this range leased by walking it
    PRIMARY KEY (broadcast_id, transport)
) WITHOUT ROWID;

-- Broadcasts still running: their rows of each transport are interleaved, so each range spans them
-- all and its walk starts again at the beginning (it skips rows that were attempted already).
INSERT INTO broadcast_ranges (broadcast_id, transport, first_delivery, last_delivery, cursor)
SELECT d.broadcast_id, d.transport, min(d.id), max(d.id), min(d.id) - 1
FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
WHERE b.state IN ('sending', 'paused')
GROUP BY d.broadcast_id, d.transport;

-- A Matrix subscriber's DM room is part of their address: sealed with their data key like the
-- address itself, stored when they write from it (or herold opened it), and the only room herold
-- sends to them in.
ALTER TABLE addresses ADD COLUMN room_sealed BLOB;
