-- A verified agent edited after its review goes back to pending review; what changed since the
-- review (JSON list of {field, before, after}) is kept for the operator and cleared by their
-- next decision.
ALTER TABLE global_agents ADD COLUMN changes_since_review TEXT;

-- Scanned on every revocation and retirement, and by the sweeper.
CREATE INDEX exchange_codes_grant ON exchange_codes (grant_id);
CREATE INDEX exchange_codes_expiry ON exchange_codes (expires_at);
CREATE INDEX uui_tokens_agent ON uui_tokens (agent_id);
CREATE INDEX uui_tokens_revoked ON uui_tokens (revoked_at);
CREATE INDEX memory_jobs_finished ON memory_jobs (completed_at);
CREATE INDEX grant_events_age ON grant_events (created_at);
CREATE INDEX otp_codes_expiry ON otp_codes (expires_at);
CREATE INDEX memory_conflicts_agent ON memory_conflicts (passport_id, source_agent_id, status);

-- The one-click sign-in link sent with each code (a keyed hash, like the code), and the page
-- of this site it returns to.
ALTER TABLE otp_codes ADD COLUMN link_hash TEXT;
ALTER TABLE otp_codes ADD COLUMN return_to TEXT;
CREATE INDEX otp_codes_link ON otp_codes (link_hash);
