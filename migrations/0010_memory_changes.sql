-- Caches that follow each change instead of reloading: every change to a person's memories
-- stamps the rows it touched with the person's new revision (`memory_rev`), and a deleted
-- row leaves its id here for a day, so a node whose cached index is at revision R reads just
-- what changed after R. A cache older than the kept removals reloads the person instead.
ALTER TABLE memories ADD COLUMN changed_rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX memories_changed ON memories (passport_id, changed_rev);

CREATE TABLE memory_removals (
    passport_id  TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    memory_id    TEXT NOT NULL,
    rev          BIGINT NOT NULL,
    removed_at   BIGINT NOT NULL
);
CREATE INDEX memory_removals_rev ON memory_removals (passport_id, rev);
CREATE INDEX memory_removals_age ON memory_removals (removed_at);
