-- Issue 19, merchant accounts: email verification, one-time account tokens (verification, password
-- reset, email change), the sessions' owner and device (listed and ended per account), and the
-- audit log of security-relevant actions.

-- When the address was proven by a link sent to it; NULL until then. Accounts from before this
-- migration were used as they were: they count as verified.
ALTER TABLE merchants ADD COLUMN email_verified_at BIGINT;
UPDATE merchants SET email_verified_at = created_at;

-- One-time tokens sent by mail. Only the SHA-256 of the token is stored; `used_at` makes each
-- single-use (a conditional UPDATE), `email` is the new address of an email change.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    email       TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX account_tokens_merchant ON account_tokens (merchant_id, purpose);
CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at);

-- Whose session this is and from where, so the account can list its sessions and end them
-- (every one of them on a password reset). `handle` names a session without its secret id.
ALTER TABLE sessions ADD COLUMN merchant_id TEXT;
ALTER TABLE sessions ADD COLUMN handle TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN created_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen BIGINT;
CREATE INDEX sessions_merchant ON sessions (merchant_id);

-- Who did what to the account, written in the same transaction as the action. Kept a year.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT,
    target      TEXT,
    ip          TEXT,
    user_agent  TEXT
);
CREATE INDEX audit_log_merchant_at ON audit_log (merchant_id, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- Two-factor authentication: the TOTP secret, sealed (AEAD under a key derived from
-- SUBGATE_SECRET_KEY, bound to the merchant), and the last time step used, so no code works twice.
ALTER TABLE merchants ADD COLUMN totp_secret TEXT;
ALTER TABLE merchants ADD COLUMN totp_last_step BIGINT;

-- Ten single-use recovery codes per account, shown once; only their keyed hash is stored.
CREATE TABLE recovery_codes (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (merchant_id, code_hash)
);
