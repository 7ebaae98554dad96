-- Reasons (why a delivery failed or waits, why a broadcast paused) are stored as a code with its
-- arguments (JSON, see src/domain/reason.rs) and worded when shown, in the reader's language. Earlier
-- versions stored English sentences; their wording is not kept: they read "recorded by an earlier
-- version of herold" (delivery reports still waiting for their send included).
UPDATE deliveries SET error = '{"code":"earlier"}' WHERE error IS NOT NULL;
UPDATE room_posts SET error = '{"code":"earlier"}' WHERE error IS NOT NULL;
UPDATE broadcasts SET pause_reason = '{"code":"earlier"}' WHERE pause_reason IS NOT NULL;
UPDATE broadcasts SET waiting_reason = '{"code":"earlier"}' WHERE waiting_reason IS NOT NULL;
UPDATE early_reports SET error = '{"code":"earlier"}' WHERE error IS NOT NULL;
