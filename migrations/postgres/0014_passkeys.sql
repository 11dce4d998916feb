-- Issue 19, passkeys: each is an account's WebAuthn credential. `passkey` is what webauthn-rs
-- keeps of it (the public key and the signature counter, as JSON: nothing secret); the browser
-- names it at login by `credential_id` (base64url). `user_handle` is the account's WebAuthn user
-- id, a random UUID stored on the device instead of anything that names the account. At most ten
-- per account (checked when one is added); they go with the account.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    user_handle   TEXT NOT NULL,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_merchant ON passkeys (merchant_id);
