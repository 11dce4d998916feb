//! Authorization code (RFC 6749 §4.1) with PKCE S256 (RFC 7636). The authorization request is
//! parsed in two stages, because errors found before the redirect URI is known to be the
//! client's must never redirect (no open redirector, §4.1.2.1).

use crate::db::oauth::Consumed;
use crate::oauth::clients::Client;
use crate::oauth::pkce::S256Challenge;
use crate::oauth::scope::Scopes;
use crate::oauth::tokens::{TokenResponse, TokenService};
use crate::oauth::{OAuthError, CODE_TTL};

/// The raw query of `GET /o/authorize/`.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    /// django-oauth-toolkit's `auto` (skip consent when already given) or `force`.
    pub approval_prompt: Option<String>,
    pub audience: Option<String>,
}

/// An error of the first stage: shown on a page, never redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError(pub String);

/// A valid authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub challenge: Option<S256Challenge>,
    pub audience: String,
    pub force_prompt: bool,
}

/// Stage one: the client and its redirect URI. `client` is `None` when no client has that id
/// (or it belongs to another merchant: the same answer, so ids are not confirmed).
pub fn validate_redirect(
    params: &AuthorizeParams,
    client: Option<Client>,
) -> Result<(Client, String), PageError> {
    let client = client.ok_or_else(|| {
        PageError("Unknown client_id: this application is not registered with your account.".into())
    })?;
    let redirect_uri = match params.redirect_uri.as_deref() {
        Some(uri) if client.has_redirect_uri(uri) => uri.to_string(),
        Some(_) => {
            return Err(PageError(
                "The redirect_uri does not exactly match one registered for this client.".into(),
            ))
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Err(PageError(
                "redirect_uri is required (this client has several).".into(),
            ))
        }
    };
    Ok((client, redirect_uri))
}

/// Stage two: everything else; these errors go back to the client's redirect URI.
pub fn validate_rest(
    params: &AuthorizeParams,
    client: Client,
    redirect_uri: String,
    api_audiences: &[String],
) -> Result<AuthorizationRequest, OAuthError> {
    if params.state.as_ref().is_some_and(|s| s.len() > 2000) {
        return Err(OAuthError::InvalidRequest("state is too long.".into()));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::UnsupportedResponseType(
                "Only response_type=code is supported.".into(),
            ))
        }
        None => {
            return Err(OAuthError::InvalidRequest(
                "response_type is required.".into(),
            ))
        }
    }
    let challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
        client.is_confidential(),
    ) {
        // confidential clients may skip PKCE; whoever sends a challenge gets it checked
        (None, None, true) => None,
        (challenge, method, _) => Some(S256Challenge::parse(challenge, method)?),
    };
    let scopes = Scopes::grant(params.scope.as_deref(), &client.scopes)?;
    let audience = super::client_credentials::choose_audience(
        &client,
        params.audience.as_deref(),
        api_audiences,
    )?;
    Ok(AuthorizationRequest {
        client,
        redirect_uri,
        scopes,
        state: params.state.clone(),
        challenge,
        audience,
        force_prompt: params.approval_prompt.as_deref() == Some("force"),
    })
}

/// The merchant approved: a single-use code, valid for 60 s, bound to client, redirect URI
/// and challenge.
pub async fn issue_code(
    tokens: &TokenService,
    request: &AuthorizationRequest,
    now: i64,
) -> Result<String, OAuthError> {
    let grant = tokens
        .new_grant(
            &request.client,
            "authorization_code",
            &request.scopes,
            &request.audience,
            now,
        )
        .await?;
    let code = tokens.entropy.token(32);
    let challenge = request
        .challenge
        .as_ref()
        .map(|c| c.as_str())
        .unwrap_or_default();
    tokens
        .db
        .insert_code(
            &tokens.hash(&code),
            &grant.id,
            &request.redirect_uri,
            challenge,
            now + CODE_TTL,
        )
        .await?;
    Ok(code)
}

pub async fn exchange(
    tokens: &TokenService,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: i64,
) -> Result<TokenResponse, OAuthError> {
    let invalid = |why: &str| OAuthError::InvalidGrant(why.into());
    let stored = match tokens.db.consume_code(&tokens.hash(code), now).await? {
        Consumed::Unknown => return Err(invalid("The authorization code is invalid.")),
        Consumed::Already(stored) => {
            // a replayed code: everything issued from it is revoked (RFC 6749 §4.1.2)
            if stored.grant.client_id == client.id {
                tracing::warn!(client = %client.id, grant = %stored.grant.id, "authorization code replayed: revoking its tokens");
                tokens.db.revoke_grant(&stored.grant.id, now).await?;
            }
            return Err(invalid(
                "The authorization code expired or was already used.",
            ));
        }
        Consumed::Now(stored) => stored,
    };
    if stored.grant.client_id != client.id {
        return Err(invalid(
            "The authorization code was issued to another client.",
        ));
    }
    if redirect_uri != Some(stored.redirect_uri.as_str()) {
        return Err(invalid(
            "The redirect_uri does not match the authorization request.",
        ));
    }
    if !stored.code_challenge.is_empty() {
        let verifier = verifier
            .ok_or_else(|| OAuthError::InvalidRequest("code_verifier is required.".into()))?;
        S256Challenge::from_stored(stored.code_challenge.clone()).verify(verifier)?;
    } else if verifier.is_some() {
        // RFC 9700 §4.8.2 (PKCE downgrade): a verifier for a code issued without a challenge
        // means the request was stripped of its challenge on the way to us
        return Err(invalid(
            "A code_verifier was sent, but the authorization request had no code_challenge.",
        ));
    } else if !client.is_confidential() {
        return Err(invalid("PKCE is required for public clients."));
    }
    if stored.grant.revoked_at.is_some() {
        return Err(invalid("The authorization was revoked."));
    }
    tokens
        .issue(client, &stored.grant, &stored.grant.scope, true, now)
        .await
}
