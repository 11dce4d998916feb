-- Indexes for the sweep (src/db/sweep.rs): each table's expiry column, so deleting a batch of
-- expired rows reads only those rows, however large the table.
CREATE INDEX throttle_window_start ON throttle (window_start);
CREATE INDEX oauth_codes_expires_at ON oauth_codes (expires_at);
CREATE INDEX oauth_access_tokens_expires_at ON oauth_access_tokens (expires_at);
CREATE INDEX oauth_refresh_tokens_expires_at ON oauth_refresh_tokens (expires_at);
CREATE INDEX oauth_grants_created_at ON oauth_grants (created_at);
CREATE INDEX sso_logins_at ON sso_logins (at);
