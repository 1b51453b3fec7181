-- The person's own words a memory was made from (shown to them, exported, deleted with the
-- Passport, and read by ranking), and when what it tells happened, as ISO calendar days
-- (both ends included; one day when they are equal), resolved from "yesterday", "in 2019".
ALTER TABLE memories ADD COLUMN source_text TEXT;
ALTER TABLE memories ADD COLUMN happened_from TEXT;
ALTER TABLE memories ADD COLUMN happened_to TEXT;
