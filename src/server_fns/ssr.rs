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

impl Ctx {
    pub fn now(&self) -> i64 {
        self.state.clock.now()
    }

    /// The logged-in merchant; every tab's data is scoped by it.
    pub async fn merchant_id(&self) -> Result<String, AppError> {
        crate::http::middleware::auth_session::merchant_id(&self.session)
            .await?
            .ok_or(AppError::Unauthenticated)
    }
}

/// A plain HTML form post (no JavaScript yet) follows an HTTP redirect; the hydrated page
/// does a full navigation itself, so the new page renders with the new session's CSRF token.
pub fn redirect_plain_form_post(to: &str) {
    let accepts_html = use_context::<axum::http::request::Parts>()
        .is_some_and(|p| crate::http::wire::wants_html(&p.headers));
    if accepts_html {
        leptos_axum::redirect(to);
    }
}
