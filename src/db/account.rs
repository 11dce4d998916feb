//! The account's own records: one-time tokens sent by mail (`account_tokens`), the audit log
//! (`audit_log`) and the account's sessions as a list. Every change that the audit log records
//! is written in the same transaction as its entry: both land or neither does.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::merchants::NewMerchant;
use super::{affected, is_unique_violation, Db};

/// What a mailed token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Proves the account's address (sent at sign-up, and again on request).
    Verify,
    /// Sets a new password without the old one.
    Reset,
    /// Moves the account to the new address the token was sent to.
    ChangeEmail,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::ChangeEmail => "email",
        }
    }
}

pub struct NewToken<'a> {
    pub hash: &'a str,
    pub merchant_id: &'a str,
    pub purpose: TokenPurpose,
    /// The new address, for an email change.
    pub email: Option<&'a str>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A token that was valid and is now used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedToken {
    pub merchant_id: String,
    pub email: Option<String>,
}

/// One line of the audit log, before it is written. `merchant_id` is filled by the write when the
/// action finds out whose account it was (a mailed token names it).
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub merchant_id: String,
    pub action: &'static str,
    /// Who did it: the member's email, or `None` for someone not logged in (a mailed link).
    pub actor: Option<String>,
    /// The actor's role in the business (`None` for the account's own affairs).
    pub role: Option<&'static str>,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: i64,
}

/// An audit line with its id, to be written in the same transaction as its action (the
/// action's `Db` method takes it): both land or neither does.
#[derive(Debug, Clone)]
pub struct Audit {
    pub id: String,
    pub entry: AuditEntry,
}

/// Writes `audit`, if any, in `tx`.
pub(super) async fn write_audit(
    tx: &mut Transaction<'_, Any>,
    audit: Option<&Audit>,
) -> Result<(), sqlx::Error> {
    match audit {
        Some(a) => insert_audit(tx, &a.id, &a.entry).await,
        None => Ok(()),
    }
}

/// An audit log line as the Security tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub action: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A live session of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub handle: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Option<i64>,
    pub last_seen: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountDbError {
    #[error("email already registered")]
    EmailTaken,
    /// The token is unknown, used, expired or for something else.
    #[error("the link is invalid, used or expired")]
    TokenInvalid,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn unique_is_email_taken(e: sqlx::Error) -> AccountDbError {
    if is_unique_violation(&e) {
        AccountDbError::EmailTaken
    } else {
        e.into()
    }
}

pub(super) async fn insert_audit(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    e: &AuditEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (id, merchant_id, at, action, actor, target, ip, user_agent, role)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(&e.merchant_id)
    .bind(e.at)
    .bind(e.action)
    .bind(e.actor.as_deref())
    .bind(e.target.as_deref())
    .bind(e.ip.as_deref())
    .bind(e.user_agent.as_deref())
    .bind(e.role)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_token(tx: &mut Transaction<'_, Any>, t: &NewToken<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, merchant_id, purpose, email, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(t.hash)
    .bind(t.merchant_id)
    .bind(t.purpose.as_str())
    .bind(t.email)
    .bind(t.created_at)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Uses the token once: only the first of concurrent uses changes the row.
async fn use_token(
    tx: &mut Transaction<'_, Any>,
    hash: &str,
    purpose: TokenPurpose,
    now: i64,
) -> Result<UsedToken, AccountDbError> {
    let used = sqlx::query(
        "UPDATE account_tokens SET used_at = $3
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(hash)
    .bind(purpose.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if affected(used) != 1 {
        return Err(AccountDbError::TokenInvalid);
    }
    let row = sqlx::query("SELECT merchant_id, email FROM account_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_one(&mut **tx)
        .await?;
    Ok(UsedToken {
        merchant_id: row.try_get("merchant_id")?,
        email: row.try_get("email")?,
    })
}

fn audit_from_row(row: &AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        action: row.try_get("action")?,
        actor: row.try_get("actor")?,
        role: row.try_get("role")?,
        target: row.try_get("target")?,
        ip: row.try_get("ip")?,
        user_agent: row.try_get("user_agent")?,
    })
}

impl Db {
    /// The new account, its address's verification token and the audit line, together.
    pub async fn sign_up(
        &self,
        m: NewMerchant<'_>,
        token: NewToken<'_>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<(), AccountDbError> {
        let mut tx = self.writer.begin().await?;
        self.insert_merchant_in(&mut tx, &m)
            .await
            .map_err(unique_is_email_taken)?;
        insert_token(&mut tx, &token).await?;
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A new mailed token, with its audit line when the request is one (a reset request is not
    /// audited: the log would tell whoever reads it nothing the owner did).
    pub async fn issue_account_token(
        &self,
        token: NewToken<'_>,
        audit: Option<(&str, &AuditEntry)>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        insert_token(&mut tx, &token).await?;
        if let Some((id, entry)) = audit {
            insert_audit(&mut tx, id, entry).await?;
        }
        tx.commit().await
    }

    /// The merchant a still-usable token belongs to, without using it (the reset page asks
    /// before it shows the form).
    pub async fn peek_account_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query(
            "SELECT merchant_id FROM account_tokens
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get("merchant_id"))
        .transpose()
    }

    /// Uses a verification token: the account's address is proven.
    pub async fn verify_email(
        &self,
        hash: &str,
        now: i64,
        audit_id: &str,
        mut audit: AuditEntry,
    ) -> Result<String, AccountDbError> {
        let mut tx = self.writer.begin().await?;
        let used = use_token(&mut tx, hash, TokenPurpose::Verify, now).await?;
        sqlx::query(
            "UPDATE merchants SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL",
        )
        .bind(&used.merchant_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit.merchant_id.clone_from(&used.merchant_id);
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok(used.merchant_id)
    }

    /// Takes a token for one use before the expensive part of that use (a password hash): of
    /// concurrent uses exactly one gets it, and the others are refused at once. Answers its
    /// merchant.
    pub async fn claim_account_token(
        &self,
        hash: &str,
        purpose: TokenPurpose,
        now: i64,
    ) -> Result<String, AccountDbError> {
        let mut tx = self.writer.begin().await?;
        let used = use_token(&mut tx, hash, purpose, now).await?;
        tx.commit().await?;
        Ok(used.merchant_id)
    }

    /// Gives a claimed token back when its use could not be finished (the hash was refused for
    /// load): it works again until it expires.
    pub async fn release_account_token(
        &self,
        hash: &str,
        claimed_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE account_tokens SET used_at = NULL WHERE token_hash = $1 AND used_at = $2",
        )
        .bind(hash)
        .bind(claimed_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Finishes a claimed reset: the new password hash, every session of the account ended,
    /// the other reset links sent before it dead too, and the audit line.
    pub async fn reset_password(
        &self,
        id: &str,
        now: i64,
        password_hash: &str,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE merchants SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE account_tokens SET used_at = $2
             WHERE merchant_id = $1 AND purpose = 'reset' AND used_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE merchant_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await
    }

    /// A new password set by the logged-in owner: every other session of the account ends.
    pub async fn change_password(
        &self,
        merchant_id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE merchants SET password_hash = $2 WHERE id = $1")
            .bind(merchant_id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        end_sessions_but(&mut tx, merchant_id, keep_session).await?;
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await
    }

    /// Uses an email-change token: the account moves to the address the token was sent to,
    /// proven by that. Answers the account and its old address.
    pub async fn change_email(
        &self,
        hash: &str,
        now: i64,
        audit_id: &str,
        mut audit: AuditEntry,
    ) -> Result<(String, String, String), AccountDbError> {
        let mut tx = self.writer.begin().await?;
        let used = use_token(&mut tx, hash, TokenPurpose::ChangeEmail, now).await?;
        let new_email = used.email.ok_or(AccountDbError::TokenInvalid)?;
        let old: String = sqlx::query("SELECT email FROM merchants WHERE id = $1")
            .bind(&used.merchant_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("email")?;
        sqlx::query(
            "UPDATE merchants SET email = $2, email_normalized = $3, email_verified_at = $4
             WHERE id = $1",
        )
        .bind(&used.merchant_id)
        .bind(&new_email)
        .bind(new_email.to_lowercase())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unique_is_email_taken)?;
        audit.merchant_id.clone_from(&used.merchant_id);
        audit.target = Some(format!("{old} → {new_email}"));
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok((used.merchant_id, old, new_email))
    }

    /// An audit line on its own, for actions that change nothing else (a sign-in, a failed one).
    pub async fn audit(&self, audit_id: &str, entry: &AuditEntry) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        insert_audit(&mut tx, audit_id, entry).await?;
        tx.commit().await
    }

    /// The account's audit log, newest first: up to `limit` lines before `before`, whose action
    /// starts with `action_prefix`.
    pub async fn audit_log(
        &self,
        merchant_id: &str,
        action_prefix: &str,
        before: i64,
        limit: i64,
    ) -> Result<Vec<AuditRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, at, action, actor, role, target, ip, user_agent FROM audit_log
             WHERE merchant_id = $1 AND at < $2 AND substr(action, 1, length(CAST($3 AS TEXT))) = $3
             ORDER BY at DESC, id DESC LIMIT $4",
        )
        .bind(merchant_id)
        .bind(before)
        .bind(action_prefix)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// The account's live sessions, the most recently used first.
    pub async fn account_sessions(
        &self,
        merchant_id: &str,
        now: i64,
    ) -> Result<Vec<SessionRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT handle, ip, user_agent, created_at, last_seen FROM sessions
             WHERE merchant_id = $1 AND expires_at > $2 AND handle IS NOT NULL
             ORDER BY last_seen DESC, handle",
        )
        .bind(merchant_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    handle: r.try_get("handle")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    created_at: r.try_get("created_at")?,
                    last_seen: r.try_get("last_seen")?,
                })
            })
            .collect()
    }

    /// Ends one session of the account (`handle`), or every one but `keep` (`handle` = None).
    /// Answers how many ended.
    pub async fn end_sessions(
        &self,
        merchant_id: &str,
        handle: Option<&str>,
        keep: Option<&str>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<u64, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let ended = match handle {
            Some(handle) => affected(
                sqlx::query("DELETE FROM sessions WHERE merchant_id = $1 AND handle = $2")
                    .bind(merchant_id)
                    .bind(handle)
                    .execute(&mut *tx)
                    .await?,
            ),
            None => end_sessions_but(&mut tx, merchant_id, keep).await?,
        };
        if ended > 0 {
            insert_audit(&mut tx, audit_id, audit).await?;
        }
        tx.commit().await?;
        Ok(ended)
    }
}

impl Db {
    /// Turns two-factor on: the sealed secret, the step its confirming code used (so that code
    /// cannot sign in again), fresh recovery codes (their hashes) and the audit line, together.
    /// `false` when it was already on (a second setup racing the first).
    pub async fn enable_totp(
        &self,
        merchant_id: &str,
        sealed_secret: &str,
        step: i64,
        code_hashes: &[String],
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let set = sqlx::query(
            "UPDATE merchants SET totp_secret = $2, totp_last_step = $3
             WHERE id = $1 AND totp_secret IS NULL",
        )
        .bind(merchant_id)
        .bind(sealed_secret)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        if affected(set) != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM recovery_codes WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        for hash in code_hashes {
            sqlx::query("INSERT INTO recovery_codes (merchant_id, code_hash) VALUES ($1, $2)")
                .bind(merchant_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Turns two-factor off: the secret and the recovery codes go, with the audit line.
    pub async fn disable_totp(
        &self,
        merchant_id: &str,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE merchants SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1")
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE merchant_id = $1")
            .bind(merchant_id)
            .execute(&mut *tx)
            .await?;
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await
    }

    /// Uses a TOTP time step: only a step later than the last one used counts, and only once
    /// however many requests race (a code seen over a shoulder cannot sign in again).
    pub async fn use_totp_step(&self, merchant_id: &str, step: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE merchants SET totp_last_step = $2
             WHERE id = $1 AND totp_secret IS NOT NULL
               AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(merchant_id)
        .bind(step)
        .execute(&self.writer)
        .await?;
        Ok(affected(done) == 1)
    }

    /// Uses a recovery code once.
    pub async fn use_recovery_code(
        &self,
        merchant_id: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3
             WHERE merchant_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(merchant_id)
        .bind(code_hash)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(affected(done) == 1)
    }

    /// Recovery codes not used yet.
    pub async fn recovery_codes_left(&self, merchant_id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE merchant_id = $1 AND used_at IS NULL",
        )
        .bind(merchant_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")
    }
}

async fn end_sessions_but(
    tx: &mut Transaction<'_, Any>,
    merchant_id: &str,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE merchant_id = $1 AND (handle IS NULL OR handle <> $2)",
    )
    .bind(merchant_id)
    .bind(keep.unwrap_or(""))
    .execute(&mut **tx)
    .await?;
    Ok(affected(done))
}
