-- A client secret rotated with an overlap: the replaced secret's hash keeps working until
-- previous_secret_expires_at (the sweep clears it after), so servers can be moved to the new
-- secret one at a time.
ALTER TABLE oauth_clients ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE oauth_clients ADD COLUMN previous_secret_expires_at BIGINT;
CREATE INDEX oauth_clients_previous_secret_expires_at ON oauth_clients (previous_secret_expires_at);
