-- When a gateway or the homeserver answers "too many requests", the deliveries wait as it asked; the
-- broadcast remembers until when and why, so its page can say so (without counting the outbox).
ALTER TABLE broadcasts ADD COLUMN waiting_until INTEGER;
ALTER TABLE broadcasts ADD COLUMN waiting_reason TEXT;
