-- The MCP connector's OAuth 2.1: apps that registered themselves, codes bound to a resource and
-- scopes, and access and refresh tokens. Every token column holds a hash.

-- Apps that registered themselves (RFC 7591, or a client metadata document) belong to no tenant.
-- They are filed under this one reserved row, which can never sign in: its password hash is not
-- a hash any password produces, and `.invalid` addresses receive no mail.
INSERT INTO tenants (id, email, password_hash, created_at)
VALUES ('self-registered', 'self-registered@invalid', '!', 0);

-- How a self-registered agent is known to OAuth: `client_id` is the agent's id (registration)
-- or the https URL of its metadata document.
CREATE TABLE oauth_clients (
    agent_id     TEXT PRIMARY KEY REFERENCES global_agents (id) ON DELETE CASCADE,
    client_id    TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,  -- registered | metadata_document
    fetched_at   BIGINT,         -- metadata documents: when the document was last read
    created_at   BIGINT NOT NULL
);

-- An OAuth code names the resource (the MCP endpoint) and the scopes it was approved for; codes
-- without a resource belong to the REST hand-off, and neither endpoint redeems the other's.
ALTER TABLE exchange_codes ADD COLUMN resource TEXT;
ALTER TABLE exchange_codes ADD COLUMN scope TEXT;

-- Access tokens (short-lived) and refresh tokens (rotated on every use). `family_id` ties every
-- token one authorization led to, so a refresh token used twice ends them all.
CREATE TABLE oauth_tokens (
    token_hash   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,  -- access | refresh
    family_id    TEXT NOT NULL,
    grant_id     TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    passport_id  TEXT NOT NULL,
    agent_id     TEXT NOT NULL,
    resource     TEXT NOT NULL,
    scope        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_agent ON oauth_tokens (agent_id);
