-- The app's link_token belongs to the consent link that made a code, not to the grant (a
-- later approval must not change what an earlier code returns).
ALTER TABLE exchange_codes ADD COLUMN link_token TEXT;
ALTER TABLE grants DROP COLUMN link_token;
