-- A memory's second vector: the turn it came from read after the other side's turn before it
-- (same model as `embedding`). An answer that leans on a question ("el frijol. named after the
-- cat" after "what are you calling the truck?") is found through the question's words;
-- retrieval takes the better of the two vectors. NULL when the memory had no turn before it.
ALTER TABLE memories ADD COLUMN turn_embedding TEXT;
-- The other side's turn before, kept only until the background has made the transformer's
-- vectors (like `embedding_context`); then cleared.
ALTER TABLE memories ADD COLUMN turn_before TEXT;
