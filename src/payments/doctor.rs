//! `subgate doctor`: is the gateway set up the way subgate needs it? The platform's webhook
//! endpoint (there, enabled, in the pinned API version, sending the events the mirror is made
//! of, and receiving connected accounts' events) and each connected account's customer-portal
//! configuration; with a fix offered where the gateway's API allows one.

use super::error::PaymentsError;
use super::Payments;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// Cannot be confirmed yet (nothing wrong seen).
    Unconfirmed,
    Failed,
}

/// What the doctor can do about a failed check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fix {
    /// A Connect webhook endpoint at subgate's URL, pinned version, needed events.
    CreateWebhookEndpoint,
    /// A customer-portal configuration on the connected account.
    CreatePortalConfiguration { account_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// `webhook_endpoint`, `webhook_api_version`, `webhook_events`, `webhook_connect`,
    /// `portal_configuration`.
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    pub fix: Option<Fix>,
}

impl Check {
    fn new(id: &'static str, ok: bool, message: String, fix: Option<Fix>) -> Self {
        Self {
            id,
            status: if ok { Status::Ok } else { Status::Failed },
            message,
            fix: if ok { None } else { fix },
        }
    }
}

impl Payments {
    /// Runs every check: the platform's webhook endpoint at `webhook_url`, then the portal
    /// configuration of `accounts` (every connected account when `None`).
    pub async fn doctor(
        &self,
        webhook_url: &str,
        accounts: Option<Vec<String>>,
    ) -> Result<Vec<Check>, PaymentsError> {
        let name = self.gateway.display_name();
        let version = self.gateway.api_version();
        let endpoints = self
            .gateway
            .webhook_endpoints()
            .await
            .map_err(|e| self.gateway_error(e))?;
        let mut checks = Vec::new();
        let endpoint = endpoints.iter().find(|e| e.url == webhook_url && e.enabled);
        checks.push(Check::new(
            "webhook_endpoint",
            endpoint.is_some(),
            match endpoint {
                Some(e) => format!("{name} sends events to {webhook_url} ({}).", e.id),
                None => format!("No enabled {name} webhook endpoint sends events to {webhook_url}: the mirror only learns of changes by reconciling."),
            },
            Some(Fix::CreateWebhookEndpoint),
        ));
        if let Some(e) = endpoint {
            let pinned = e.api_version.as_deref() == Some(version);
            checks.push(Check::new(
                "webhook_api_version",
                pinned,
                if pinned {
                    format!("Its events are rendered in {version}, the version subgate is pinned to.")
                } else {
                    format!(
                        "Its events are rendered in {}, not {version}: each one makes subgate fetch the subscription again. {name} cannot change an endpoint's version: create a new endpoint (the fix) and delete this one.",
                        e.api_version.as_deref().unwrap_or("the account's default version")
                    )
                },
                None,
            ));
            let missing: Vec<&str> = self
                .gateway
                .webhook_events()
                .iter()
                .copied()
                .filter(|t| !e.sends(t))
                .collect();
            checks.push(Check::new(
                "webhook_events",
                missing.is_empty(),
                if missing.is_empty() {
                    "It sends every event the mirror needs.".into()
                } else {
                    format!(
                        "It does not send {}: enable them on the endpoint.",
                        missing.join(", ")
                    )
                },
                None,
            ));
            let heard = self.db.any_connection_webhook(self.gateway.name()).await?;
            checks.push(Check {
                id: "webhook_connect",
                status: if heard { Status::Ok } else { Status::Unconfirmed },
                message: if heard {
                    "Events of connected accounts arrive.".into()
                } else {
                    format!("No event of a connected account has arrived yet. {name}'s API does not show whether an endpoint listens to connected accounts: check that it is a Connect endpoint in the Dashboard.")
                },
                fix: None,
            });
        }
        let accounts = match accounts {
            Some(a) => a,
            None => self
                .db
                .active_accounts(self.gateway.name())
                .await?
                .into_iter()
                .map(|(a, _)| a)
                .collect(),
        };
        for account in accounts {
            let configured = self
                .gateway
                .portal_configured(&account)
                .await
                .map_err(|e| self.gateway_error(e))?;
            checks.push(Check::new(
                "portal_configuration",
                configured,
                if configured {
                    format!("{account} can open customer-portal sessions.")
                } else {
                    format!("{account} has no customer-portal configuration: \"Manage billing\" fails until one is saved in the {name} Dashboard or created here.")
                },
                Some(Fix::CreatePortalConfiguration {
                    account_id: account.clone(),
                }),
            ));
        }
        Ok(checks)
    }

    /// Applies one fix; returns what was done, for people.
    pub async fn apply_fix(&self, fix: &Fix, webhook_url: &str) -> Result<String, PaymentsError> {
        let name = self.gateway.display_name();
        match fix {
            Fix::CreateWebhookEndpoint => {
                let created = self
                    .gateway
                    .create_webhook_endpoint(webhook_url)
                    .await
                    .map_err(|e| self.gateway_error(e))?;
                Ok(match created.secret {
                    Some(secret) => format!(
                        "Created the {name} webhook endpoint {} for {webhook_url}. Add its signing secret to STRIPE_WEBHOOK_SECRET (shown this once): {secret}",
                        created.id
                    ),
                    None => format!("Created the {name} webhook endpoint {} for {webhook_url}.", created.id),
                })
            }
            Fix::CreatePortalConfiguration { account_id } => {
                self.portal_configuration_on(account_id).await
            }
        }
    }

    async fn portal_configuration_on(&self, account_id: &str) -> Result<String, PaymentsError> {
        let id = self
            .gateway
            .create_portal_configuration(account_id)
            .await
            .map_err(|e| self.gateway_error(e))?;
        Ok(format!(
            "Created the customer-portal configuration {id} on {account_id}: customers can cancel at period end, update payment methods and see invoices."
        ))
    }

    /// A merchant's own checks (the Connect tab's panel): the platform's webhook endpoint at
    /// `webhook_url` and their connected account's customer-portal configuration.
    pub async fn doctor_for(
        &self,
        merchant_id: &str,
        webhook_url: &str,
    ) -> Result<Vec<Check>, PaymentsError> {
        let account = self.active_connection(merchant_id).await?.account_id;
        self.doctor(webhook_url, Some(vec![account])).await
    }

    /// Creates a customer-portal configuration on the merchant's connected account; returns
    /// what was done, for people.
    pub async fn create_portal_configuration(
        &self,
        merchant_id: &str,
    ) -> Result<String, PaymentsError> {
        let account = self.active_connection(merchant_id).await?.account_id;
        let done = self.portal_configuration_on(&account).await?;
        tracing::info!(merchant = %merchant_id, "{done}");
        Ok(done)
    }
}
