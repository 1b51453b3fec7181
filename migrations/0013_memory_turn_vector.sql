-- A memory's second vector: the turn it came from read after the other side's turn before it
-- (same model as `embedding`). An answer that leans on a question ("el frijol. named after the
-- cat" after "what are you calling the truck?") is found through the question's words;
-- retrieval takes the better of the two vectors. NULL when the memory had no turn before it.
ALTER TABLE memories ADD COLUMN turn_embedding TEXT;
-- What came before the turn, kept only until the background has made the transformer's
-- vectors (like `embedding_context`); then cleared: the memories this app made of the
-- person's previous message in the same conversation, and the other side's turn before.
ALTER TABLE memories ADD COLUMN turn_before TEXT;
-- What a person told one app last, in time order (read for each new turn's second vector).
CREATE INDEX memories_agent_said ON memories (passport_id, source_agent_id, said_at);
