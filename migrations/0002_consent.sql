-- The person's side: Passports, one-time sign-in codes, grants and their history, the
-- short-lived codes that hand a grant to an agent's backend, and pairwise agent tokens.
-- Every secret column holds a hash (OTP codes: a keyed hash, since six digits are few).

CREATE TABLE passports (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

-- One live code per email: sending again replaces it. `email_key` is a keyed hash of the
-- address, so this table names nobody.
CREATE TABLE otp_codes (
    email_key   TEXT PRIMARY KEY,
    code_hash   TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- One grant per person and agent; re-consent updates it.
CREATE TABLE grants (
    id            TEXT PRIMARY KEY,
    passport_id   TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES global_agents (id) ON DELETE CASCADE,
    categories    TEXT NOT NULL,  -- JSON array of category names
    access_type   TEXT NOT NULL,  -- read_only | read_write
    duration      TEXT NOT NULL,  -- 30_days | 90_days | 1_year | until_revoked
    expires_at    BIGINT,         -- NULL: until revoked
    revoked_at    BIGINT,
    link_token    TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    UNIQUE (passport_id, agent_id)
);
CREATE INDEX grants_agent ON grants (agent_id);

-- What happened, for the person's history: granted, updated, denied, revoked.
CREATE TABLE grant_events (
    id           TEXT PRIMARY KEY,
    passport_id  TEXT NOT NULL REFERENCES passports (id) ON DELETE CASCADE,
    agent_id     TEXT NOT NULL REFERENCES global_agents (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    categories   TEXT NOT NULL,
    access_type  TEXT NOT NULL,
    expires_at   BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX grant_events_passport ON grant_events (passport_id, created_at);

-- Single-use codes for POST /v1/universal/token, bound to agent, redirect URI and PKCE.
CREATE TABLE exchange_codes (
    code_hash       TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

-- Pairwise tokens: one (person, agent) pair each, dying with the grant.
CREATE TABLE uui_tokens (
    token_hash   TEXT PRIMARY KEY,
    grant_id     TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    passport_id  TEXT NOT NULL,
    agent_id     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX uui_tokens_grant ON uui_tokens (grant_id);
