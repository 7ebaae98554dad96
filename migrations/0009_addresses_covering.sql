-- herold schema 9: the worker looks up each delivery's sealed address by subscriber. Addresses are
-- stored in blind-index order (random), so that lookup touched a random page per delivery; with the
-- sealed value in the index by subscriber, a broadcast (materialised in subscriber order) reads the
-- index in order instead. Costs the sealed value twice on disk (about 60 bytes per address).
DROP INDEX addresses_subscriber;
CREATE INDEX addresses_subscriber ON addresses(subscriber_id, transport, sealed);
