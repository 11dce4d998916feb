-- Catching up with the payment gateway after missed webhook deliveries, per connected account:
-- the newest event applied (from a webhook or a catch-up), the last reconciliation and the
-- drift it found and repaired, and a lease so that one instance at a time reconciles an
-- account (any instance may take it once it has expired).
CREATE TABLE gateway_sync (
    gateway        TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    last_event_at  BIGINT,
    last_event_id  TEXT,
    reconciled_at  BIGINT,
    drift_found    BIGINT NOT NULL,
    drift_repaired BIGINT NOT NULL,
    lease_until    BIGINT,
    PRIMARY KEY (gateway, account_id)
);
