//! Server-side plumbing shared by the server functions.

use axum::Extension;
use leptos::prelude::use_context;
use tower_sessions::Session;

use crate::error::AppError;
use crate::http::middleware::request_meta::RequestMeta;
use crate::state::AppState;

pub struct Ctx {
    pub state: AppState,
    pub session: Session,
    pub meta: RequestMeta,
}

fn missing(what: &str) -> AppError {
    tracing::error!("server function context is missing {what}");
    AppError::Internal
}

pub async fn ctx() -> Result<Ctx, AppError> {
    let state = use_context::<AppState>().ok_or_else(|| missing("the app state"))?;
    let session = leptos_axum::extract::<Session>()
        .await
        .map_err(|_| missing("the session"))?;
    let Extension(meta) = leptos_axum::extract::<Extension<RequestMeta>>()
        .await
        .map_err(|_| missing("request metadata"))?;
    Ok(Ctx {
        state,
        session,
        meta,
    })
}

/// The context of a state-changing call. Its `csrf_token` argument is there for the CSRF layer
/// (`crate::http::middleware::csrf`), which checked it before the function ran; a function
/// that forgets the argument fails closed.
pub async fn form_ctx(csrf_token: String) -> Result<Ctx, AppError> {
    let _ = csrf_token;
    ctx().await
}

impl Ctx {
    pub fn now(&self) -> i64 {
        self.state.clock.now()
    }

    /// The logged-in account acting for the business the dashboard shows, refused unless its
    /// role there is `at_least` or above. Every tab's data is scoped by `business_id`.
    pub async fn member(
        &self,
        at_least: crate::dto::team::Role,
    ) -> Result<crate::accounts::Member, AppError> {
        crate::http::middleware::auth_session::member(&self.session, &self.state, at_least).await
    }

    /// The id of the business the dashboard acts for, if the role is `at_least` or above.
    pub async fn business_id(&self, at_least: crate::dto::team::Role) -> Result<String, AppError> {
        Ok(self.member(at_least).await?.business_id)
    }

    /// The business the member acts for, as an account row (its founder's address and name).
    pub async fn business(
        &self,
        member: &crate::accounts::Member,
    ) -> Result<crate::accounts::Merchant, AppError> {
        self.state
            .accounts
            .merchant(&member.business_id)
            .await?
            .ok_or(AppError::Unauthenticated)
    }

    /// The logged-in account itself (its password, address, second factor and sessions),
    /// whichever business the dashboard shows.
    pub async fn account(&self) -> Result<crate::accounts::Merchant, AppError> {
        let id = crate::http::middleware::auth_session::merchant_id(&self.session)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        self.state
            .accounts
            .merchant(&id)
            .await?
            .ok_or(AppError::Unauthenticated)
    }

    /// The browser's address and user agent, as the SSO log records them.
    pub fn caller(&self) -> crate::sso::Caller {
        let parts = use_context::<axum::http::request::Parts>();
        crate::http::sso::caller(
            &self.meta,
            parts
                .as_ref()
                .map(|p| &p.headers)
                .unwrap_or(&Default::default()),
        )
    }

    /// Where this request came from, for the audit log.
    pub fn origin(&self) -> crate::accounts::Origin {
        self.caller().into()
    }

    /// Logs `merchant_id` in on this session, naming its device for the session list.
    pub async fn log_in(&self, merchant_id: &str) -> Result<(), AppError> {
        let origin = self.origin();
        let meta = crate::http::middleware::auth_session::SessionMeta {
            handle: self.state.entropy.token(12),
            ip: origin.ip,
            user_agent: origin.user_agent,
            created_at: self.now(),
        };
        crate::http::middleware::auth_session::log_in(&self.session, merchant_id, meta).await
    }

    /// Refused unless the password was given in this session within five minutes (at login, or
    /// again on the Account tab): for revealing or rotating secrets and revoking Stripe.
    pub async fn require_fresh_login(&self) -> Result<(), AppError> {
        if crate::http::middleware::auth_session::authenticated_recently(&self.session, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                crate::dto::account::CONFIRM_IDENTITY_FIRST.into(),
            ))
        }
    }

    /// The audit line of an action the member does in its business, for the action to write
    /// in its own transaction.
    pub fn audited(
        &self,
        member: &crate::accounts::Member,
        action: &'static str,
        target: Option<String>,
    ) -> crate::db::account::Audit {
        let mut entry = member.entry(&self.origin(), action, self.now());
        entry.target = target;
        self.state.accounts.audited(entry)
    }

    /// An audit line on its own, for an action whose only write it is (revealing a secret).
    pub async fn audit(
        &self,
        member: &crate::accounts::Member,
        action: &'static str,
        target: Option<String>,
    ) -> Result<(), AppError> {
        let mut entry = member.entry(&self.origin(), action, self.now());
        entry.target = target;
        self.state.accounts.audit(entry).await?;
        Ok(())
    }

    /// The subscriber portal's session cookie, if the browser sent one.
    pub fn portal_cookie(&self) -> Option<String> {
        use_context::<axum::http::request::Parts>()
            .and_then(|p| crate::http::sso::portal_cookie(&self.state, &p.headers))
    }
}

/// Answers where the page goes next: a plain HTML form post (no JavaScript yet) follows an HTTP
/// redirect there; the hydrated page does a full navigation itself, so the new page renders with
/// the new session's CSRF token.
pub fn go(to: &str) -> String {
    let accepts_html = use_context::<axum::http::request::Parts>()
        .is_some_and(|p| crate::http::wire::wants_html(&p.headers));
    if accepts_html {
        leptos_axum::redirect(to);
    }
    to.to_string()
}

/// Adds `Set-Cookie: cookie` to the response.
pub fn set_cookie(cookie: String) {
    let response = use_context::<leptos_axum::ResponseOptions>();
    if let (Some(response), Ok(value)) = (response, cookie.parse()) {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}
