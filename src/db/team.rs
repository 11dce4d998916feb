//! Members of a business (`memberships`) and the invitations mailed to new ones
//! (`invitations`). Every change is one transaction with its audit line, and each one re-reads
//! the member it changes inside that transaction and changes it only if it is still as read: a
//! rule checked on a stale role cannot slip through a concurrent change.

use sqlx::Row;

use super::account::{insert_audit, AuditEntry};
use super::{affected, is_unique_violation, Db};
use crate::dto::team::Role;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub account_id: String,
    pub email: String,
    pub role: Role,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: i64,
}

/// A business an account belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRow {
    pub business_id: String,
    pub business_name: String,
    pub role: Role,
}

/// What an unused, unexpired invitation offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationOffer {
    pub business_id: String,
    pub business_name: String,
    /// Case-folded.
    pub email: String,
    pub role: Role,
}

pub struct NewInvitation<'a> {
    pub token_hash: &'a str,
    pub id: &'a str,
    pub business_id: &'a str,
    /// Case-folded.
    pub email: &'a str,
    pub role: Role,
    pub invited_by: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum TeamDbError {
    #[error("already a member")]
    AlreadyMember,
    #[error("too many open invitations")]
    TooManyInvitations,
    #[error("no such member or invitation")]
    NotFound,
    /// The invitation is unknown, used or expired.
    #[error("invitation invalid")]
    InvitationInvalid,
    /// The invitation is good but for another address than the account's.
    #[error("invitation for another address")]
    WrongAccount,
    /// A team rule refused the change (the message says which).
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Open invitations a business may have at once.
pub const MAX_OPEN_INVITATIONS: i64 = 50;

fn role_of(raw: &str) -> Result<Role, sqlx::Error> {
    Role::parse(raw).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {raw:?}").into()))
}

/// The rule a change of one member must pass: (the member as it is now, whether it opened the
/// business) → allowed or the reason it is not.
pub type MemberRule<'a> = &'a (dyn Fn(&MemberRow, bool) -> Result<(), &'static str> + Sync);

impl Db {
    /// The account's role in the business, if it is a member.
    pub async fn role_in(
        &self,
        business_id: &str,
        account_id: &str,
    ) -> Result<Option<Role>, sqlx::Error> {
        let row =
            sqlx::query("SELECT role FROM memberships WHERE business_id = $1 AND account_id = $2")
                .bind(business_id)
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| role_of(&r.try_get::<String, _>("role")?))
            .transpose()
    }

    /// The businesses the account belongs to, its own first, then by name.
    pub async fn memberships_of(
        &self,
        account_id: &str,
    ) -> Result<Vec<MembershipRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.business_id, b.business_name, m.role FROM memberships m
             JOIN merchants b ON b.id = m.business_id
             WHERE m.account_id = $1
             ORDER BY CASE WHEN m.business_id = $1 THEN 0 ELSE 1 END, b.business_name, m.business_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MembershipRow {
                    business_id: r.try_get("business_id")?,
                    business_name: r.try_get("business_name")?,
                    role: role_of(&r.try_get::<String, _>("role")?)?,
                })
            })
            .collect()
    }

    /// The business's members, owners first, then by address.
    pub async fn members(&self, business_id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.email, m.role, m.created_at FROM memberships m
             JOIN merchants a ON a.id = m.account_id
             WHERE m.business_id = $1
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 WHEN 'developer' THEN 2 ELSE 3 END,
                      a.email_normalized",
        )
        .bind(business_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// The business's invitations that can still be accepted, newest first.
    pub async fn open_invitations(
        &self,
        business_id: &str,
        now: i64,
    ) -> Result<Vec<InvitationRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, email, role, invited_by, expires_at FROM invitations
             WHERE business_id = $1 AND used_at IS NULL AND expires_at > $2
             ORDER BY created_at DESC, id",
        )
        .bind(business_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InvitationRow {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    role: role_of(&r.try_get::<String, _>("role")?)?,
                    invited_by: r.try_get("invited_by")?,
                    expires_at: r.try_get("expires_at")?,
                })
            })
            .collect()
    }

    /// Stores an invitation with its audit line, unless the address already is a member or the
    /// business has [`MAX_OPEN_INVITATIONS`] open ones. An earlier open invitation of the same
    /// address is replaced (its link stops working).
    pub async fn invite(
        &self,
        new: NewInvitation<'_>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<(), TeamDbError> {
        let mut tx = self.writer.begin().await?;
        let member = sqlx::query(
            "SELECT 1 AS one FROM memberships m JOIN merchants a ON a.id = m.account_id
             WHERE m.business_id = $1 AND a.email_normalized = $2",
        )
        .bind(new.business_id)
        .bind(new.email)
        .fetch_optional(&mut *tx)
        .await?;
        if member.is_some() {
            return Err(TeamDbError::AlreadyMember);
        }
        sqlx::query(
            "DELETE FROM invitations WHERE business_id = $1 AND email = $2 AND used_at IS NULL",
        )
        .bind(new.business_id)
        .bind(new.email)
        .execute(&mut *tx)
        .await?;
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM invitations
             WHERE business_id = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(new.business_id)
        .bind(new.created_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if open >= MAX_OPEN_INVITATIONS {
            return Err(TeamDbError::TooManyInvitations);
        }
        sqlx::query(
            "INSERT INTO invitations (token_hash, id, business_id, email, role, invited_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new.token_hash)
        .bind(new.id)
        .bind(new.business_id)
        .bind(new.email)
        .bind(new.role.as_str())
        .bind(new.invited_by)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?;
        insert_audit(&mut tx, audit_id, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws an open invitation of the business (its link stops working).
    pub async fn revoke_invitation(
        &self,
        business_id: &str,
        id: &str,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<String, TeamDbError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "SELECT email FROM invitations WHERE business_id = $1 AND id = $2 AND used_at IS NULL",
        )
        .bind(business_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(TeamDbError::NotFound)?;
        let email: String = row.try_get("email")?;
        sqlx::query(
            "DELETE FROM invitations WHERE business_id = $1 AND id = $2 AND used_at IS NULL",
        )
        .bind(business_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let mut audit = audit.clone();
        audit.target = Some(email.clone());
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok(email)
    }

    /// What the invitation offers, if it can still be accepted (nothing is used).
    pub async fn invitation_offer(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<InvitationOffer>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT i.business_id, b.business_name, i.email, i.role FROM invitations i
             JOIN merchants b ON b.id = i.business_id
             WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(offer_from_row).transpose()
    }

    /// Uses the invitation once for the account whose (case-folded) address it was sent to: the
    /// account joins with the invited role, and its address counts as verified (the link came to
    /// it). An invitation for another address is not used up by the attempt.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        account_id: &str,
        account_email: &str,
        now: i64,
        audit_id: &str,
        mut audit: AuditEntry,
    ) -> Result<InvitationOffer, TeamDbError> {
        let mut tx = self.writer.begin().await?;
        let used = sqlx::query(
            "UPDATE invitations SET used_at = $3
             WHERE token_hash = $1 AND email = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(account_email)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if affected(used) != 1 {
            let other = sqlx::query(
                "SELECT 1 AS one FROM invitations
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            return Err(if other.is_some() {
                TeamDbError::WrongAccount
            } else {
                TeamDbError::InvitationInvalid
            });
        }
        let row = sqlx::query(
            "SELECT i.business_id, b.business_name, i.email, i.role FROM invitations i
             JOIN merchants b ON b.id = i.business_id WHERE i.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_one(&mut *tx)
        .await?;
        let offer = offer_from_row(&row)?;
        sqlx::query(
            "INSERT INTO memberships (business_id, account_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&offer.business_id)
        .bind(account_id)
        .bind(offer.role.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                TeamDbError::AlreadyMember
            } else {
                e.into()
            }
        })?;
        sqlx::query(
            "UPDATE merchants SET email_verified_at = $2 WHERE id = $1 AND email_verified_at IS NULL",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit.merchant_id.clone_from(&offer.business_id);
        audit.role = Some(offer.role.as_str());
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok(offer)
    }

    /// Gives the member a new role if `rule` allows it for the member as it is now; answers the
    /// member before the change.
    pub async fn change_role(
        &self,
        business_id: &str,
        account_id: &str,
        role: Role,
        rule: MemberRule<'_>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<MemberRow, TeamDbError> {
        let mut tx = self.writer.begin().await?;
        let member = member_in(&mut tx, business_id, account_id).await?;
        rule(&member, business_id == account_id).map_err(TeamDbError::Refused)?;
        let changed = sqlx::query(
            "UPDATE memberships SET role = $3 WHERE business_id = $1 AND account_id = $2 AND role = $4",
        )
        .bind(business_id)
        .bind(account_id)
        .bind(role.as_str())
        .bind(member.role.as_str())
        .execute(&mut *tx)
        .await?;
        if affected(changed) != 1 {
            return Err(TeamDbError::NotFound);
        }
        let mut audit = audit.clone();
        audit.target = Some(format!("{}: {} → {}", member.email, member.role, role));
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Removes the member if `rule` allows it for the member as it is now (also a member
    /// leaving); answers the member removed.
    pub async fn remove_member(
        &self,
        business_id: &str,
        account_id: &str,
        rule: MemberRule<'_>,
        audit_id: &str,
        audit: &AuditEntry,
    ) -> Result<MemberRow, TeamDbError> {
        let mut tx = self.writer.begin().await?;
        let member = member_in(&mut tx, business_id, account_id).await?;
        rule(&member, business_id == account_id).map_err(TeamDbError::Refused)?;
        let removed = sqlx::query(
            "DELETE FROM memberships WHERE business_id = $1 AND account_id = $2 AND role = $3",
        )
        .bind(business_id)
        .bind(account_id)
        .bind(member.role.as_str())
        .execute(&mut *tx)
        .await?;
        if affected(removed) != 1 {
            return Err(TeamDbError::NotFound);
        }
        let mut audit = audit.clone();
        audit.target = Some(format!("{} ({})", member.email, member.role));
        insert_audit(&mut tx, audit_id, &audit).await?;
        tx.commit().await?;
        Ok(member)
    }
}

fn offer_from_row(r: &sqlx::any::AnyRow) -> Result<InvitationOffer, sqlx::Error> {
    Ok(InvitationOffer {
        business_id: r.try_get("business_id")?,
        business_name: r.try_get("business_name")?,
        email: r.try_get("email")?,
        role: role_of(&r.try_get::<String, _>("role")?)?,
    })
}

fn member_from_row(r: &sqlx::any::AnyRow) -> Result<MemberRow, sqlx::Error> {
    Ok(MemberRow {
        account_id: r.try_get("account_id")?,
        email: r.try_get("email")?,
        role: role_of(&r.try_get::<String, _>("role")?)?,
        created_at: r.try_get("created_at")?,
    })
}

async fn member_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    business_id: &str,
    account_id: &str,
) -> Result<MemberRow, TeamDbError> {
    let row = sqlx::query(
        "SELECT m.account_id, a.email, m.role, m.created_at FROM memberships m
         JOIN merchants a ON a.id = m.account_id
         WHERE m.business_id = $1 AND m.account_id = $2",
    )
    .bind(business_id)
    .bind(account_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(TeamDbError::NotFound)?;
    Ok(member_from_row(&row)?)
}
