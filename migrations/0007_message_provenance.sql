-- What an app said about the turn a memory came from: its own turn id (external_turn_id) and
-- when the person said it (occurred_at), kept for the person and for dating what was said.
ALTER TABLE memories ADD COLUMN source_turn_id TEXT;
ALTER TABLE memories ADD COLUMN said_at BIGINT;
