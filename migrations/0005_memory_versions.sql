-- Earlier wordings of a memory, kept when the person corrects it (or a conflict answer
-- replaces it), for the version history on the manage page.
CREATE TABLE memory_versions (
    id           TEXT PRIMARY KEY,
    memory_id    TEXT NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    passport_id  TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    content      TEXT NOT NULL,
    category     TEXT NOT NULL,
    replaced_at  BIGINT NOT NULL
);
CREATE INDEX memory_versions_memory ON memory_versions (memory_id, replaced_at);
