-- Per channel: whether its broadcasts wait out the night (JSON: {"mode":"installation"|"urgent"} or
-- {"mode":"own","from":"21:00","until":"08:00","sundays":false}), and what a delivery over a
-- person's cap does: wait for the next window or skip that person.
ALTER TABLE channels ADD COLUMN quiet TEXT NOT NULL DEFAULT '{"mode":"installation"}';
ALTER TABLE channels ADD COLUMN over_cap TEXT NOT NULL DEFAULT 'wait' CHECK (over_cap IN ('wait', 'skip'));
