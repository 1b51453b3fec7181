-- Each memory's sentence embedding, computed once (by the worker, or the backfill for older and
-- corrected memories) and shared by every node: a unit vector quantised to one byte per
-- dimension with a scale, base64 in text (the same column type on SQLite and PostgreSQL), and
-- the model that made it, so vectors of different models are never compared.
ALTER TABLE memories ADD COLUMN embedding TEXT;
ALTER TABLE memories ADD COLUMN embedding_model TEXT;
CREATE INDEX memories_without_embedding ON memories (created_at) WHERE embedding IS NULL;
