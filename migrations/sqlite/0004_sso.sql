-- Single sign-on: each merchant's settings and shared secrets (sealed with a key derived from
-- SUBGATE_SECRET_KEY: they must be recovered to compute HMACs), the one-time login links
-- (stored as keyed hashes), the nonces of signed-timestamp logins, a log of recent logins, and
-- the subscribers' own portal sessions (never the merchants' sessions).
CREATE TABLE sso_settings (
    merchant_id               TEXT PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    store                     TEXT NOT NULL UNIQUE,
    enabled                   BIGINT NOT NULL,
    link_ttl_secs             BIGINT NOT NULL,
    bind_ip                   BIGINT NOT NULL,
    require_signed_timestamps BIGINT NOT NULL,
    secret_sealed             TEXT,
    secret_generation         BIGINT NOT NULL,
    secret_created_at         BIGINT,
    previous_sealed           TEXT,
    previous_generation       BIGINT,
    previous_expires_at       BIGINT,
    updated_at                BIGINT NOT NULL
);

CREATE TABLE sso_links (
    token_hash    TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    subscriber_id TEXT NOT NULL,
    bound_ip      TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);
CREATE INDEX sso_links_expires_at ON sso_links (expires_at);

CREATE TABLE sso_nonces (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    nonce       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, nonce)
);
CREATE INDEX sso_nonces_expires_at ON sso_nonces (expires_at);

CREATE TABLE sso_logins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    subscriber_id TEXT NOT NULL,
    at            BIGINT NOT NULL,
    ip            TEXT NOT NULL,
    user_agent    TEXT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX sso_logins_merchant_at ON sso_logins (merchant_id, at);

-- id_hash is SHA-256 of the portal cookie's value, as for merchant sessions.
CREATE TABLE subscriber_sessions (
    id_hash       TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    subscriber_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX subscriber_sessions_expires_at ON subscriber_sessions (expires_at);
