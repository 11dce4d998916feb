-- What the subscriber portal shows of the merchant besides their business name: the way back
-- to their store and where to ask for help. One row per merchant, written from the SSO tab.
CREATE TABLE portal_branding (
    merchant_id   TEXT PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    store_url     TEXT,
    support_email TEXT,
    updated_at    BIGINT NOT NULL
);
