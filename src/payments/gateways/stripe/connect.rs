//! Stripe Connect OAuth for Standard accounts, with the `oauth2` crate as the client. Stripe's
//! token response carries extra fields (`stripe_user_id`, `livemode`, `stripe_publishable_key`)
//! parsed here. The access token it returns is deliberately dropped: every later call uses the
//! platform secret key with `Stripe-Account`, as Stripe recommends, so there is no per-merchant
//! credential to store, leak or refresh.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::payments::gateway::{ConnectRequest, ConnectedAccount, GatewayError};

/// The fields Stripe adds to the OAuth token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeTokenFields {
    pub stripe_user_id: String,
    #[serde(default)]
    pub livemode: bool,
    #[serde(default)]
    pub stripe_publishable_key: Option<String>,
}

impl ExtraTokenFields for StripeTokenFields {}

pub type StripeTokenResponse = StandardTokenResponse<StripeTokenFields, BasicTokenType>;

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    StripeTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Stripe's answer to `/oauth/deauthorize`.
#[derive(Deserialize)]
struct Deauthorized {
    stripe_user_id: String,
}

#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

pub struct ConnectClient {
    oauth: OAuthClient,
    http: reqwest::Client,
    client_id: String,
    secret_key: String,
    deauthorize_url: Url,
}

fn endpoint(base: &Url, path: &str) -> Result<Url, GatewayError> {
    base.join(path).map_err(|e| GatewayError::Unavailable {
        message: format!("bad Stripe Connect URL: {e}"),
        request_id: None,
    })
}

impl ConnectClient {
    /// `authorize_base` is where browsers go, `connect_base` where this server calls.
    pub fn new(
        client_id: &str,
        secret_key: &str,
        authorize_base: &Url,
        connect_base: &Url,
        http: reqwest::Client,
    ) -> Result<Self, GatewayError> {
        let oauth = oauth2::Client::new(ClientId::new(client_id.into()))
            .set_client_secret(ClientSecret::new(secret_key.into()))
            .set_auth_uri(AuthUrl::from_url(endpoint(
                authorize_base,
                "oauth/authorize",
            )?))
            .set_token_uri(TokenUrl::from_url(endpoint(connect_base, "oauth/token")?))
            // Stripe takes the platform secret key as `client_secret` in the form body
            .set_auth_type(AuthType::RequestBody);
        Ok(Self {
            oauth,
            http,
            client_id: client_id.into(),
            secret_key: secret_key.into(),
            deauthorize_url: endpoint(connect_base, "oauth/deauthorize")?,
        })
    }

    pub fn authorize_url(&self, request: &ConnectRequest<'_>) -> String {
        let state = request.state.to_string();
        let mut builder = self
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new("read_write".into()))
            // Stripe shows read_write a sign-up form unless told otherwise; merchants connect
            // the account they have
            .add_extra_param("stripe_landing", "login")
            .add_extra_param("stripe_user[email]", request.email)
            .add_extra_param("stripe_user[business_name]", request.business_name);
        if let Ok(redirect) = RedirectUrl::new(request.redirect_uri.into()) {
            builder = builder.set_redirect_uri(std::borrow::Cow::Owned(redirect));
        }
        builder.url().0.to_string()
    }

    pub async fn exchange(&self, code: &str) -> Result<ConnectedAccount, GatewayError> {
        let token = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.into()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => GatewayError::OAuth {
                    error: r.error().as_ref().to_string(),
                    description: r
                        .error_description()
                        .cloned()
                        .unwrap_or_else(|| "Stripe refused the authorization code.".into()),
                },
                RequestTokenError::Request(e) => {
                    tracing::warn!(error = %e, "Stripe Connect token request failed");
                    GatewayError::Unavailable {
                        message: "Could not reach Stripe Connect.".into(),
                        request_id: None,
                    }
                }
                RequestTokenError::Parse(e, _) => {
                    tracing::error!(error = %e, "Stripe Connect token response did not parse");
                    GatewayError::Unavailable {
                        message: "Stripe Connect's answer could not be read.".into(),
                        request_id: None,
                    }
                }
                RequestTokenError::Other(m) => GatewayError::Unavailable {
                    message: m,
                    request_id: None,
                },
            })?;
        let extra = token.extra_fields();
        if !extra.stripe_user_id.starts_with("acct_") {
            return Err(GatewayError::Unavailable {
                message: "Stripe Connect returned no account id.".into(),
                request_id: None,
            });
        }
        let scope = token
            .scopes()
            .map(|s| {
                s.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "read_write".into());
        Ok(ConnectedAccount {
            account_id: extra.stripe_user_id.clone(),
            livemode: extra.livemode,
            scope,
            business_name: None,
        })
    }

    /// `POST /oauth/deauthorize`. An account that is no longer connected counts as done.
    pub async fn deauthorize(&self, account_id: &str) -> Result<(), GatewayError> {
        let res = self
            .http
            .post(self.deauthorize_url.clone())
            .basic_auth(&self.secret_key, Some(""))
            .form(&[
                ("client_id", self.client_id.as_str()),
                ("stripe_user_id", account_id),
            ])
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    GatewayError::Timeout
                } else {
                    tracing::warn!(error = %e, "Stripe Connect deauthorize failed");
                    GatewayError::Unavailable {
                        message: "Could not reach Stripe Connect.".into(),
                        request_id: None,
                    }
                }
            })?;
        let status = res.status();
        let request_id = res
            .headers()
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let body = res.bytes().await.unwrap_or_default();
        if status.is_success() {
            return match serde_json::from_slice::<Deauthorized>(&body) {
                Ok(d) if d.stripe_user_id == account_id => Ok(()),
                _ => Err(GatewayError::Unavailable {
                    message: "Stripe Connect's answer could not be read.".into(),
                    request_id,
                }),
            };
        }
        match serde_json::from_slice::<OAuthErrorBody>(&body) {
            // Stripe's answer when the account is not (or no longer) connected to the platform
            Ok(e) if status.is_client_error() && e.error == "invalid_client" => {
                tracing::info!(account = %account_id, description = ?e.error_description, "already deauthorized at Stripe");
                Ok(())
            }
            Ok(e) => Err(GatewayError::Unavailable {
                message: format!(
                    "Stripe Connect refused: {}",
                    e.error_description.unwrap_or(e.error)
                ),
                request_id,
            }),
            Err(_) => Err(GatewayError::Unavailable {
                message: format!("Stripe Connect failed ({status})."),
                request_id,
            }),
        }
    }
}
