-- A broadcast's rows are materialised with contiguous ids, so fresh rows are leased by walking that
-- range with a cursor kept on the broadcast; the queue index then holds only replies and rows that
-- come back (retries, expired leases), and materialising does not write it at all.
ALTER TABLE broadcasts ADD COLUMN first_delivery INTEGER;
ALTER TABLE broadcasts ADD COLUMN last_delivery INTEGER;
ALTER TABLE broadcasts ADD COLUMN cursor INTEGER;   -- the highest id leased by walking the range

UPDATE broadcasts SET
    first_delivery = (SELECT min(id) FROM deliveries WHERE broadcast_id = broadcasts.id),
    last_delivery = (SELECT max(id) FROM deliveries WHERE broadcast_id = broadcasts.id)
WHERE state IN ('sending', 'paused');
UPDATE broadcasts SET cursor = first_delivery - 1 WHERE first_delivery IS NOT NULL;

DROP INDEX deliveries_queue;
CREATE INDEX deliveries_queue ON deliveries(priority, id) WHERE state = 'queued' AND (priority = 0 OR attempts > 0);
