-- OAuth 2.0 authorization server: clients, grants (one per authorization, the family every
-- token issued from it belongs to), one-time codes, refresh and access tokens, consents, and
-- the JWT signing keys. Secrets and tokens are stored only as keyed hashes.
CREATE TABLE oauth_clients (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    client_type   TEXT NOT NULL,
    secret_hash   TEXT,
    redirect_uris TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    audiences     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX oauth_clients_merchant ON oauth_clients (merchant_id);

CREATE TABLE oauth_grants (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    grant_type  TEXT NOT NULL,
    scope       TEXT NOT NULL,
    audience    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE oauth_codes (
    code_hash      TEXT PRIMARY KEY,
    grant_id       TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);

CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

CREATE TABLE oauth_access_tokens (
    jti        TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX oauth_access_tokens_grant ON oauth_access_tokens (grant_id);

CREATE TABLE oauth_consents (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, client_id)
);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    algorithm          TEXT NOT NULL,
    private_key_sealed TEXT NOT NULL,
    public_key         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    retired_at         BIGINT
);
