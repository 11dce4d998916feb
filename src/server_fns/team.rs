//! The Team tab: members and their roles, invitations, and which business the dashboard shows;
//! and the invitation link's page.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::dto::team::{BusinessView, InvitationView, MemberView, Role, TEAM_TAB};
use crate::dto::team::{InvitationPreview, TeamView};
use crate::error::AppError;

#[server(prefix = "/fn", endpoint = "team", input = leptos::server_fn::codec::GetUrl)]
pub async fn team() -> Result<TeamView, AppError> {
    let ctx = super::ssr::ctx().await?;
    let member = ctx.member(Role::Viewer).await?;
    let accounts = &ctx.state.accounts;
    let team = accounts.team(&member, ctx.now()).await?;
    let businesses = accounts.businesses(&member.account.id).await?;
    Ok(TeamView {
        business_name: member.business_name.clone(),
        your_role: member.role,
        members: team
            .members
            .into_iter()
            .map(|m| MemberView {
                you: m.account_id == member.account.id,
                founder: m.account_id == member.business_id,
                account_id: m.account_id,
                email: m.email,
                role: m.role,
                joined_at: m.created_at,
            })
            .collect(),
        invitations: team
            .invitations
            .into_iter()
            .map(|i| InvitationView {
                id: i.id,
                email: i.email,
                role: i.role,
                invited_by: i.invited_by,
                expires_at: i.expires_at,
            })
            .collect(),
        businesses: businesses
            .into_iter()
            .map(|b| BusinessView {
                current: b.business_id == member.business_id,
                id: b.business_id,
                name: b.business_name,
                role: b.role,
            })
            .collect(),
    })
}

/// Mails an invitation (admins and owners).
#[server(prefix = "/fn", endpoint = "invite_member")]
pub async fn invite_member(
    csrf_token: String,
    email: String,
    role: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    ctx.state
        .accounts
        .invite(&member, &email, &role, &ctx.origin(), ctx.now())
        .await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=invited")))
}

#[server(prefix = "/fn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(csrf_token: String, id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    ctx.state
        .accounts
        .revoke_invitation(&member, &id, &ctx.origin(), ctx.now())
        .await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=revoked")))
}

#[server(prefix = "/fn", endpoint = "change_role")]
pub async fn change_role(
    csrf_token: String,
    account_id: String,
    role: String,
) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    ctx.state
        .accounts
        .change_role(&member, &account_id, &role, &ctx.origin(), ctx.now())
        .await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=role_changed")))
}

#[server(prefix = "/fn", endpoint = "remove_member")]
pub async fn remove_member(csrf_token: String, account_id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Admin).await?;
    ctx.state
        .accounts
        .remove_member(&member, &account_id, &ctx.origin(), ctx.now())
        .await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=removed")))
}

/// Leaves the business the dashboard shows; the dashboard then shows the account's own.
#[server(prefix = "/fn", endpoint = "leave_business")]
pub async fn leave_business(csrf_token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let member = ctx.member(Role::Viewer).await?;
    ctx.state
        .accounts
        .leave(&member, &ctx.origin(), ctx.now())
        .await?;
    let own = member.account.id.clone();
    crate::http::middleware::auth_session::act_for(&ctx.session, &own).await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=left")))
}

/// The dashboard shows `business_id` from now on, if the account is a member there.
#[server(prefix = "/fn", endpoint = "switch_business")]
pub async fn switch_business(csrf_token: String, business_id: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let account = ctx.account().await?;
    if ctx
        .state
        .accounts
        .member(&business_id, &account.id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(
            "You are not a member of that business.".into(),
        ));
    }
    crate::http::middleware::auth_session::act_for(&ctx.session, &business_id).await?;
    Ok(super::ssr::go(crate::dto::overview::DASHBOARD_HOME))
}

/// What the invitation link offers, without using it. A GET that changes nothing; the token is
/// in the address like every mailed link's (`Referrer-Policy: same-origin` keeps it on this site).
#[server(prefix = "/fn", endpoint = "invitation", input = leptos::server_fn::codec::GetUrl)]
pub async fn invitation(token: String) -> Result<InvitationPreview, AppError> {
    let ctx = super::ssr::ctx().await?;
    let offer = ctx
        .state
        .accounts
        .invitation_offer(&token, ctx.now())
        .await?;
    let logged_in_as =
        match crate::http::middleware::auth_session::merchant_id(&ctx.session).await? {
            Some(_) => Some(ctx.account().await?.email),
            None => None,
        };
    Ok(InvitationPreview {
        business_name: offer.business_name,
        email: offer.email,
        role: offer.role,
        logged_in_as,
    })
}

/// Accepts the invitation for the logged-in account (it must have the invited address); the
/// dashboard then shows the business joined.
#[server(prefix = "/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(csrf_token: String, token: String) -> Result<String, AppError> {
    let ctx = super::ssr::form_ctx(csrf_token).await?;
    let account = ctx.account().await?;
    let offer = ctx
        .state
        .accounts
        .accept_invitation(&account, &token, &ctx.origin(), ctx.now())
        .await?;
    crate::http::middleware::auth_session::act_for(&ctx.session, &offer.business_id).await?;
    Ok(super::ssr::go(&format!("{TEAM_TAB}?notice=joined")))
}
