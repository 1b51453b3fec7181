-- Portable across SQLite and PostgreSQL (through sqlx's Any driver): TEXT ids (UUIDs),
-- BIGINT timestamps in Unix milliseconds, integers instead of booleans, JSON kept as TEXT.
-- Every secret column holds a hash, never the secret.

CREATE TABLE tenants (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE operators (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Browser sessions for every kind of account; `kind` says which table `subject_id` points at.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    -- The first characters of the key, to tell keys apart in a list; too short to guess from.
    key_prefix   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE global_agents (
    id                 TEXT PRIMARY KEY,
    tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL,
    website_url        TEXT NOT NULL,
    logo_url           TEXT NOT NULL,
    default_categories TEXT NOT NULL,  -- JSON array of category names
    redirect_uris      TEXT NOT NULL,  -- JSON array of exact URIs
    access_type        TEXT NOT NULL,  -- read_only | read_write
    status             TEXT NOT NULL,  -- pending | verified | rejected | suspended
    secret_hash        TEXT NOT NULL UNIQUE,
    secret_rotated_at  BIGINT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    retired_at         BIGINT
);
CREATE INDEX global_agents_tenant ON global_agents (tenant_id);
CREATE INDEX global_agents_status ON global_agents (status);

-- Who changed an agent's review status, and when; shown to operators.
CREATE TABLE agent_status_events (
    id          TEXT PRIMARY KEY,
    agent_id    TEXT NOT NULL REFERENCES global_agents (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX agent_status_events_agent ON agent_status_events (agent_id);

-- Fixed-window counters for limits that guard security (sign-in attempts, sign-ups, sends).
-- Kept in the database so several server processes share them.
CREATE TABLE rate_limits (
    bucket       TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
