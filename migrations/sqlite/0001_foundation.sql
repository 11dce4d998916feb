-- Merchants, their browser sessions, and login throttling.
-- Timestamps are unix seconds (BIGINT) so the same SQL runs on SQLite and PostgreSQL.
CREATE TABLE merchants (
    id               TEXT PRIMARY KEY,
    business_name    TEXT NOT NULL,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

-- id_hash is SHA-256 of the session cookie value: a leaked table holds no usable session ids.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Fixed-window counters of failed attempts, keyed by "login:ip:…" or "login:account:…".
CREATE TABLE throttle (
    bucket       TEXT PRIMARY KEY,
    hits         BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
