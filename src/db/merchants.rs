//! The `merchants` table.

use sqlx::Row;

use super::{is_unique_violation, Db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRow {
    pub id: String,
    pub business_name: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
    /// When the address was proven by a mailed link; `None` until then.
    pub email_verified_at: Option<i64>,
    /// The sealed TOTP secret, when two-factor authentication is on.
    pub totp_secret: Option<String>,
}

pub struct NewMerchant<'a> {
    pub id: &'a str,
    pub business_name: &'a str,
    pub email: &'a str,
    pub email_normalized: &'a str,
    pub password_hash: &'a str,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum InsertMerchantError {
    #[error("email already registered")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

const COLUMNS: &str =
    "id, business_name, email, password_hash, created_at, email_verified_at, totp_secret";

fn from_row(row: &sqlx::any::AnyRow) -> Result<MerchantRow, sqlx::Error> {
    Ok(MerchantRow {
        id: row.try_get("id")?,
        business_name: row.try_get("business_name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        created_at: row.try_get("created_at")?,
        email_verified_at: row.try_get("email_verified_at")?,
        totp_secret: row.try_get("totp_secret")?,
    })
}

impl Db {
    pub async fn insert_merchant(&self, m: NewMerchant<'_>) -> Result<(), InsertMerchantError> {
        let mut tx = self.writer.begin().await?;
        self.insert_merchant_in(&mut tx, &m).await.map_err(|e| {
            if is_unique_violation(&e) {
                InsertMerchantError::EmailTaken
            } else {
                e.into()
            }
        })?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn insert_merchant_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        m: &NewMerchant<'_>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO merchants (id, business_name, email, email_normalized, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(m.id)
        .bind(m.business_name)
        .bind(m.email)
        .bind(m.email_normalized)
        .bind(m.password_hash)
        .bind(m.created_at)
        .execute(&mut **tx)
        .await?;
        // every account owns the business it opens, and stays its owner
        sqlx::query(
            "INSERT INTO memberships (business_id, account_id, role, created_at) VALUES ($1, $1, 'owner', $2)",
        )
        .bind(m.id)
        .bind(m.created_at)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub async fn merchant_by_email(
        &self,
        email_normalized: &str,
    ) -> Result<Option<MerchantRow>, sqlx::Error> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM merchants WHERE email_normalized = $1"
        ))
        .bind(email_normalized)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
    }

    pub async fn merchant_by_id(&self, id: &str) -> Result<Option<MerchantRow>, sqlx::Error> {
        sqlx::query(&format!("SELECT {COLUMNS} FROM merchants WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose()
    }
}
