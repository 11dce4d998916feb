//! Teams: the roles a member of a business can have and what the Team tab shows.

use serde::{Deserialize, Serialize};

/// What a member may do in a business. Each role can do everything the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every tab; changes nothing.
    Viewer,
    /// OAuth clients, the API, customers, SSO settings and portal branding; never sees or
    /// changes the SSO secret, the Stripe connection or the team.
    Developer,
    /// Everything but ownership: the SSO secret, the Stripe connection, members below owner,
    /// the audit log.
    Admin,
    /// Everything, including who owns the business.
    Owner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Developer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Developer => "developer",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw.trim())
    }

    /// One line for the role picker and the member list.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Owner => "everything, including the owners",
            Self::Admin => "everything but ownership",
            Self::Developer => "OAuth clients, API, customers, SSO settings without the secret",
            Self::Viewer => "reads every tab, changes nothing",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One member of the business.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub account_id: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
    /// The member looking at the tab.
    pub you: bool,
    /// The account that opened the business: always its owner.
    pub founder: bool,
}

/// An invitation not used yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires_at: i64,
}

/// A business the logged-in account belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessView {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The business the dashboard shows now.
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub business_name: String,
    pub your_role: Role,
    pub members: Vec<MemberView>,
    /// Empty unless your role may manage the team (admin or owner).
    pub invitations: Vec<InvitationView>,
    pub businesses: Vec<BusinessView>,
}

/// What an invitation link shows before it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub business_name: String,
    pub email: String,
    pub role: Role,
    /// The address of the account logged in here, if any.
    pub logged_in_as: Option<String>,
}

/// The tab's address.
pub const TEAM_TAB: &str = "/dashboard/team";
/// The address invitation links open.
pub const INVITE_PAGE: &str = "/invite";
/// An invitation link works for seven days.
pub const INVITATION_SECS: i64 = 7 * 86_400;
