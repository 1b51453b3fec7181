-- The message a memory came from, kept only until the background replaces the memory's quick
-- (distilled-table) vector with the transformer's, which reads the memory with its message;
-- then cleared. NULL for every memory whose vector is final.
ALTER TABLE memories ADD COLUMN embedding_context TEXT;
