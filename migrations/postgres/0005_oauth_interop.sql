-- Interoperability with clients as published: each client's access-token lifetime (Riverty's
-- tokens live a day) and the exact browser origins allowed to call the token endpoint and the
-- API with CORS (as django-oauth-toolkit's `allowed_origins`). The origins are also kept one per
-- row, so a CORS preflight (which names no client) can be answered by one indexed look-up.
ALTER TABLE oauth_clients ADD COLUMN access_token_ttl BIGINT NOT NULL DEFAULT 3600;
ALTER TABLE oauth_clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';

CREATE TABLE oauth_client_origins (
    origin    TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    PRIMARY KEY (origin, client_id)
);
CREATE INDEX oauth_client_origins_client ON oauth_client_origins (client_id);
