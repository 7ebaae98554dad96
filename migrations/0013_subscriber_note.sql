-- A name or note per subscriber (from an imported member list), sealed with the subscriber's own
-- data key like their addresses: erasure makes it unreadable with everything else.
ALTER TABLE subscribers ADD COLUMN note_sealed BLOB;
