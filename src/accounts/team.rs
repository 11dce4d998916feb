//! Teams: a business has members, each an account with a [`Role`]. The dashboard acts for one
//! business at a time (the session's choice, checked on every request against the membership,
//! so a removed member or a lowered role takes effect at once). New members come by a mailed
//! invitation: single use, seven days, for one address.
//!
//! The business always has an owner: the account that opened it is its owner and stays so (it
//! can be neither demoted nor removed, nor leave), which also keeps two owners demoting each
//! other at once from leaving none.

use super::recovery::Origin;
use super::{AccountError, Accounts, Email, Merchant};
use crate::crypto::sha256_hex;
use crate::db::account::AuditEntry;
use crate::db::team::{InvitationOffer, InvitationRow, MemberRow, MembershipRow, NewInvitation};
use crate::dto::team::{Role, INVITATION_SECS, INVITE_PAGE};
use crate::mail::Mail;

/// Invitations a business may send per hour (each is a mail to a stranger's inbox).
const INVITATIONS_PER_HOUR: i64 = 20;

/// An account acting for a business, with its role there.
#[derive(Debug, Clone)]
pub struct Member {
    pub business_id: String,
    pub business_name: String,
    /// Who is acting: the logged-in account.
    pub account: Merchant,
    pub role: Role,
}

impl Member {
    /// Refused unless the member's role is `at_least` or above.
    pub fn require(&self, at_least: Role) -> Result<(), AccountError> {
        if self.role >= at_least {
            Ok(())
        } else {
            Err(AccountError::Forbidden(format!(
                "Your role in {} is {}: this needs {at_least} or above. Ask an owner or admin.",
                self.business_name, self.role
            )))
        }
    }

    /// An audit line for `action` done by this member in its business.
    pub fn entry(&self, origin: &Origin, action: &'static str, now: i64) -> AuditEntry {
        let mut entry = origin.entry(
            &self.business_id,
            action,
            Some(self.account.email.as_str()),
            now,
        );
        entry.role = Some(self.role.as_str());
        entry
    }

    /// Whether this is the account that opened the business.
    pub fn founded_it(&self) -> bool {
        self.business_id == self.account.id
    }
}

/// The team as the Team tab lists it.
pub struct Team {
    pub members: Vec<MemberRow>,
    pub invitations: Vec<InvitationRow>,
}

impl Accounts {
    /// `account_id` acting for `business_id`, if it is a member there.
    pub async fn member(
        &self,
        business_id: &str,
        account_id: &str,
    ) -> Result<Option<Member>, AccountError> {
        let Some(role) = self.db.role_in(business_id, account_id).await? else {
            return Ok(None);
        };
        let (Some(account), Some(business)) = (
            self.merchant(account_id).await?,
            self.db.merchant_by_id(business_id).await?,
        ) else {
            return Ok(None);
        };
        Ok(Some(Member {
            business_id: business.id,
            business_name: business.business_name,
            account,
            role,
        }))
    }

    /// The businesses the account belongs to, its own first.
    pub async fn businesses(&self, account_id: &str) -> Result<Vec<MembershipRow>, AccountError> {
        Ok(self.db.memberships_of(account_id).await?)
    }

    /// The members, and the open invitations when the member may manage the team.
    pub async fn team(&self, member: &Member, now: i64) -> Result<Team, AccountError> {
        let members = self.db.members(&member.business_id).await?;
        let invitations = if member.role >= Role::Admin {
            self.db.open_invitations(&member.business_id, now).await?
        } else {
            Vec::new()
        };
        Ok(Team {
            members,
            invitations,
        })
    }

    /// Invites `email` with `role` (admins and owners; only an owner invites an owner): the
    /// invitation and its audit line land together, then the link is mailed.
    pub async fn invite(
        &self,
        member: &Member,
        email: &str,
        role: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        member.require(Role::Admin)?;
        let email = Email::parse(email)?;
        let role = parse_role(role)?;
        if role == Role::Owner && member.role != Role::Owner {
            return Err(AccountError::Forbidden(
                "Only an owner can invite an owner.".into(),
            ));
        }
        self.throttle
            .account_mail(
                &self.db,
                &member.business_id,
                "invite",
                INVITATIONS_PER_HOUR,
                now,
            )
            .await?;
        let token = self.entropy.token(32);
        let mut entry = member.entry(origin, "member.invited", now);
        entry.target = Some(format!("{} ({role})", email.display));
        self.db
            .invite(
                NewInvitation {
                    token_hash: &sha256_hex(token.as_bytes()),
                    id: &self.entropy.id("inv"),
                    business_id: &member.business_id,
                    email: &email.normalized,
                    role,
                    invited_by: &member.account.email,
                    created_at: now,
                    expires_at: now + INVITATION_SECS,
                },
                &self.audit_id(),
                &entry,
            )
            .await?;
        self.mailer.send_later(Mail {
            to: email.display.clone(),
            subject: format!(
                "{} invites you to its subgate dashboard",
                member.business_name
            ),
            text: format!(
                "{} invites you to the subgate dashboard of {} as {role} ({}).\n\nAccept here \
                 (log in or sign up with this address; the link works once, for 7 days):\n\n{}\n\n\
                 If you did not expect this, ignore this mail.\n",
                member.account.email,
                member.business_name,
                role.describe(),
                self.link(INVITE_PAGE.trim_start_matches('/'), &token),
            ),
        });
        Ok(())
    }

    /// Withdraws an open invitation (admins and owners).
    pub async fn revoke_invitation(
        &self,
        member: &Member,
        id: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        member.require(Role::Admin)?;
        let entry = member.entry(origin, "member.invitation_revoked", now);
        self.db
            .revoke_invitation(&member.business_id, id, &self.audit_id(), &entry)
            .await?;
        Ok(())
    }

    /// What the invitation link offers, without using it.
    pub async fn invitation_offer(
        &self,
        token: &str,
        now: i64,
    ) -> Result<InvitationOffer, AccountError> {
        self.db
            .invitation_offer(&sha256_hex(token.as_bytes()), now)
            .await?
            .ok_or(AccountError::LinkInvalid)
    }

    /// Uses the invitation for the logged-in `account`, which must have the invited address.
    pub async fn accept_invitation(
        &self,
        account: &Merchant,
        token: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<InvitationOffer, AccountError> {
        let entry = origin.entry("", "member.joined", Some(account.email.as_str()), now);
        Ok(self
            .db
            .accept_invitation(
                &sha256_hex(token.as_bytes()),
                &account.id,
                &account.email.to_lowercase(),
                now,
                &self.audit_id(),
                entry,
            )
            .await?)
    }

    /// Gives a member another role (admins and owners; only an owner changes an owner or makes
    /// one; the founder stays owner).
    pub async fn change_role(
        &self,
        member: &Member,
        account_id: &str,
        role: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        member.require(Role::Admin)?;
        let role = parse_role(role)?;
        let actor = member.role;
        let rule = move |target: &MemberRow, founder: bool| {
            if founder {
                Err("The account that opened the business stays its owner.")
            } else if actor < Role::Owner && (target.role == Role::Owner || role == Role::Owner) {
                Err("Only an owner can change an owner's role or make someone an owner.")
            } else {
                Ok(())
            }
        };
        let entry = member.entry(origin, "member.role_changed", now);
        self.db
            .change_role(
                &member.business_id,
                account_id,
                role,
                &rule,
                &self.audit_id(),
                &entry,
            )
            .await?;
        Ok(())
    }

    /// Removes a member (admins and owners; only an owner removes an owner; never the founder).
    pub async fn remove_member(
        &self,
        member: &Member,
        account_id: &str,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        member.require(Role::Admin)?;
        if account_id == member.account.id {
            return Err(AccountError::Forbidden(
                "To leave the business yourself, use Leave.".into(),
            ));
        }
        let actor = member.role;
        let rule = move |target: &MemberRow, founder: bool| {
            if founder {
                Err("The account that opened the business stays its owner: it cannot be removed.")
            } else if actor < Role::Owner && target.role == Role::Owner {
                Err("Only an owner can remove an owner.")
            } else {
                Ok(())
            }
        };
        let entry = member.entry(origin, "member.removed", now);
        self.db
            .remove_member(
                &member.business_id,
                account_id,
                &rule,
                &self.audit_id(),
                &entry,
            )
            .await?;
        Ok(())
    }

    /// The member leaves the business (any role; not the founder).
    pub async fn leave(
        &self,
        member: &Member,
        origin: &Origin,
        now: i64,
    ) -> Result<(), AccountError> {
        let rule = |_: &MemberRow, founder: bool| {
            if founder {
                Err("You opened this business: you stay its owner and cannot leave it.")
            } else {
                Ok(())
            }
        };
        let entry = member.entry(origin, "member.left", now);
        self.db
            .remove_member(
                &member.business_id,
                &member.account.id,
                &rule,
                &self.audit_id(),
                &entry,
            )
            .await?;
        Ok(())
    }
}

fn parse_role(raw: &str) -> Result<Role, AccountError> {
    Role::parse(raw)
        .ok_or_else(|| AccountError::invalid("Role: choose owner, admin, developer or viewer."))
}
