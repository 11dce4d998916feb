-- Calls to the API with a bearer token (the merchant's backend), per merchant per UTC day, for
-- the overview's chart. Counted in memory and added here once a minute; the sweep keeps 400 days.
CREATE TABLE api_calls_daily (
    merchant_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    day         BIGINT NOT NULL,
    calls       BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, day)
);
