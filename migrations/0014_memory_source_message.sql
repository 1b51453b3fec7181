-- Which message of its add a memory came from (0 for the first): the memories of one message
-- share its words in their vectors, and retrieval lets one message fill one place of the top,
-- not several. NULL for memories made before this column, or not from a message.
ALTER TABLE memories ADD COLUMN source_message BIGINT;
