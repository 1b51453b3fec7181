-- What agents write and read: a person's memories, the durable queue of add jobs that
-- produce them, and questions for the person when a new statement contradicts an old one.

-- Bumped in the same transaction as any change to a person's memories, so every node can
-- tell with one indexed read whether its cached copy is still current.
ALTER TABLE passports ADD COLUMN memory_rev BIGINT NOT NULL DEFAULT 0;
-- Kept with every insert and delete, so the per-person cap costs no count of rows.
ALTER TABLE passports ADD COLUMN memory_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE memories (
    id               TEXT PRIMARY KEY,
    passport_id      TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    category         TEXT NOT NULL,
    content          TEXT NOT NULL,
    -- Lower-cased words only: two memories with the same key say the same thing.
    content_key      TEXT NOT NULL,
    -- Single-valued statements ("my name is …") share a slot; a new value is a conflict.
    slot_key         TEXT,
    slot_value       TEXT,
    importance       BIGINT NOT NULL,
    -- Provenance for the person; never shown to an agent.
    source_agent_id  TEXT REFERENCES global_agents (id) ON DELETE SET NULL,
    source_job_id    TEXT,
    -- NULL, or why the person flagged it: incorrect | outdated | never_said. Flagged
    -- memories are not served to agents.
    flag             TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_accessed    BIGINT,
    access_count     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX memories_passport ON memories (passport_id, created_at);
CREATE INDEX memories_content_key ON memories (passport_id, content_key);
CREATE INDEX memories_slot ON memories (passport_id, slot_key);

-- How often each grant (one agent for one person) has used each memory. Agents are shown
-- only their own use, never how often other apps read the same memory.
CREATE TABLE memory_uses (
    memory_id  TEXT NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    grant_id   TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    uses       BIGINT NOT NULL,
    last_used  BIGINT NOT NULL,
    PRIMARY KEY (memory_id, grant_id)
);

-- One row per accepted add. The payload (the conversation) is cleared once processed.
CREATE TABLE memory_jobs (
    id               TEXT PRIMARY KEY,
    agent_id         TEXT NOT NULL REFERENCES global_agents (id) ON DELETE CASCADE,
    passport_id      TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    idempotency_key  TEXT,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,  -- queued | processing | completed | failed
    attempts         BIGINT NOT NULL DEFAULT 0,
    -- Who holds the job while processing, and until when; an expired claim is taken over.
    claimed_by       TEXT,
    claimed_until    BIGINT,
    result           TEXT,           -- JSON summary once completed
    error            TEXT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    completed_at     BIGINT,
    UNIQUE (agent_id, passport_id, idempotency_key)
);
CREATE INDEX memory_jobs_queue ON memory_jobs (status, created_at);
CREATE INDEX memory_jobs_passport ON memory_jobs (passport_id);

-- A statement that contradicts a memory the person already has: asked, not applied.
CREATE TABLE memory_conflicts (
    id                  TEXT PRIMARY KEY,
    passport_id         TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    memory_id           TEXT NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    candidate_content   TEXT NOT NULL,
    candidate_key       TEXT NOT NULL,
    category            TEXT NOT NULL,
    importance          BIGINT NOT NULL,
    slot_key            TEXT,
    slot_value          TEXT,
    source_agent_id     TEXT REFERENCES global_agents (id) ON DELETE SET NULL,
    status              TEXT NOT NULL,  -- open | resolved
    answer              TEXT,           -- A | B | both | neither
    created_at          BIGINT NOT NULL,
    resolved_at         BIGINT,
    UNIQUE (memory_id, candidate_key)
);
CREATE INDEX memory_conflicts_passport ON memory_conflicts (passport_id, status);
