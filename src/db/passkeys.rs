//! An account's passkeys (`passkeys`): the public key and signature counter of each, as
//! `webauthn-rs` serialises a `Passkey`, found at login by the credential id the browser names.

use sqlx::Row;

use super::account::{insert_audit, Audit};
use super::{affected, is_unique_violation, Db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: String,
    pub merchant_id: String,
    /// The WebAuthn user id the passkey was registered with (a UUID).
    pub user_handle: String,
    pub name: String,
    /// `webauthn_rs::prelude::Passkey` as JSON.
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub struct NewPasskey<'a> {
    pub id: &'a str,
    pub merchant_id: &'a str,
    pub user_handle: &'a str,
    /// base64url of the credential id.
    pub credential_id: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyDbError {
    #[error("the account has its maximum of passkeys")]
    TooMany,
    #[error("this passkey is registered already")]
    Duplicate,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const COLUMNS: &str = "id, merchant_id, user_handle, name, passkey, created_at, last_used_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<PasskeyRow, sqlx::Error> {
    Ok(PasskeyRow {
        id: r.try_get("id")?,
        merchant_id: r.try_get("merchant_id")?,
        user_handle: r.try_get("user_handle")?,
        name: r.try_get("name")?,
        passkey: r.try_get("passkey")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

impl Db {
    /// The account's passkeys, oldest first.
    pub async fn passkeys(&self, merchant_id: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE merchant_id = $1 ORDER BY created_at, id"
        ))
        .bind(merchant_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(from_row)
        .collect()
    }

    /// The passkey with this credential id (base64url), whichever account it is.
    pub async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"
        ))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    /// Stores a passkey with its audit line, unless the account has `max` already. The
    /// account's row is locked first (a no-op update), so concurrent registrations of one
    /// account count one after the other on PostgreSQL as on SQLite.
    pub async fn add_passkey(
        &self,
        new: NewPasskey<'_>,
        max: i64,
        audit: &Audit,
    ) -> Result<(), PasskeyDbError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE merchants SET id = id WHERE id = $1")
            .bind(new.merchant_id)
            .execute(&mut *tx)
            .await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE merchant_id = $1")
            .bind(new.merchant_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if n >= max {
            return Err(PasskeyDbError::TooMany);
        }
        let inserted = sqlx::query(
            "INSERT INTO passkeys (id, merchant_id, user_handle, credential_id, name, passkey, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.id)
        .bind(new.merchant_id)
        .bind(new.user_handle)
        .bind(new.credential_id)
        .bind(new.name)
        .bind(new.passkey)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(PasskeyDbError::Duplicate),
            other => other?,
        };
        insert_audit(&mut tx, &audit.id, &audit.entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a passkey's state after a use (its new counter), only if it is still `read`:
    /// of two answers racing with the same counter, one wins. `false` for the other.
    pub async fn use_passkey(
        &self,
        id: &str,
        read: &str,
        updated: &str,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE passkeys SET passkey = $3, last_used_at = $4 WHERE id = $1 AND passkey = $2",
        )
        .bind(id)
        .bind(read)
        .bind(updated)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(affected(done) == 1)
    }

    /// The name of the account's passkey `id`, if it has one by that id.
    pub async fn passkey_name(
        &self,
        merchant_id: &str,
        id: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query("SELECT name FROM passkeys WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("name"))
            .transpose()
    }

    /// Removes the account's passkey `id` with its audit line; `false` if there was none.
    pub async fn remove_passkey(
        &self,
        merchant_id: &str,
        id: &str,
        audit: &Audit,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let gone = sqlx::query("DELETE FROM passkeys WHERE merchant_id = $1 AND id = $2")
            .bind(merchant_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if affected(gone) != 1 {
            return Ok(false);
        }
        insert_audit(&mut tx, &audit.id, &audit.entry).await?;
        tx.commit().await?;
        Ok(true)
    }
}
