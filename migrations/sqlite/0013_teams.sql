-- Issue 19, teams: a business (a `merchants` row, whose data every tab scopes by its id) has
-- members, each an account (also a `merchants` row: who logs in) with a role. Every account is
-- the owner of the business it opened, and stays so: a business always has an owner.

CREATE TABLE memberships (
    business_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (business_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);
INSERT INTO memberships (business_id, account_id, role, created_at)
    SELECT id, id, 'owner', created_at FROM merchants;

-- Invitations by mail: single use, seven days. Only the SHA-256 of the mailed token is stored;
-- `id` names the invitation in the Team tab (to revoke it) without being its secret.
CREATE TABLE invitations (
    token_hash  TEXT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    business_id TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    invited_by  TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX invitations_business ON invitations (business_id);
CREATE INDEX invitations_expires_at ON invitations (expires_at);

-- The actor's role in the business when the line was written.
ALTER TABLE audit_log ADD COLUMN role TEXT;
