-- Payments: each merchant's connection to their payment gateway, the customers their backend
-- pushed (keyed by the merchant's own subscriber id), a mirror of those customers'
-- subscriptions kept fresh by webhooks, the webhook events received (for de-duplication), and
-- the responses of idempotent API requests. Booleans are BIGINT 0/1 on both dialects.
CREATE TABLE gateway_connections (
    merchant_id     TEXT PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    gateway         TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    livemode        BIGINT NOT NULL,
    scope           TEXT NOT NULL,
    business_name   TEXT,
    connected_at    BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_by      TEXT,
    last_webhook_at BIGINT
);
CREATE INDEX gateway_connections_account ON gateway_connections (gateway, account_id);

CREATE TABLE customers (
    merchant_id   TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    subscriber_id TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    email         TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    synced_at     BIGINT,
    PRIMARY KEY (merchant_id, subscriber_id)
);
CREATE UNIQUE INDEX customers_customer ON customers (merchant_id, customer_id);
CREATE INDEX customers_account_customer ON customers (account_id, customer_id);

-- source_time is when the gateway produced this state (the event's `created`, or the fetch
-- time): an older webhook arriving late never overwrites a newer state.
CREATE TABLE subscriptions (
    merchant_id          TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    id                   TEXT NOT NULL,
    customer_id          TEXT NOT NULL,
    status               TEXT NOT NULL,
    cancel_at_period_end BIGINT NOT NULL,
    cancel_at            BIGINT,
    canceled_at          BIGINT,
    current_period_end   BIGINT,
    trial_end            BIGINT,
    created              BIGINT NOT NULL,
    items                TEXT NOT NULL,
    source_time          BIGINT NOT NULL,
    synced_at            BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX subscriptions_customer ON subscriptions (merchant_id, customer_id);

CREATE TABLE webhook_events (
    id           TEXT PRIMARY KEY,
    gateway      TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    account_id   TEXT,
    created      BIGINT NOT NULL,
    payload      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    attempts     BIGINT NOT NULL
);
CREATE INDEX webhook_events_unprocessed ON webhook_events (processed_at, received_at);

CREATE TABLE idempotency_keys (
    merchant_id  TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       BIGINT NOT NULL,
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
