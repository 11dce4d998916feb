//! The merchant's browser session: who is logged in, and the guard in front of the dashboard.

use crate::dto::overview::DASHBOARD_HOME;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::csrf;
use crate::error::AppError;

/// The logged-in account (who is at the keyboard).
pub const MERCHANT_KEY: &str = "merchant_id";
/// The business the dashboard acts for, when not the account's own (see `member`).
const BUSINESS_KEY: &str = "business_id";
/// The session's device and its public handle (`crate::db::sessions` copies them to columns).
pub const META_KEY: &str = "session_meta";

/// Where a session was opened from, as the account's session list shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionMeta {
    /// Names the session in the list and in "log out" without being its secret id.
    pub handle: String,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
}

/// Logs `merchant_id` in: a fresh session id (no fixation) and a fresh CSRF token.
pub async fn log_in(
    session: &Session,
    merchant_id: &str,
    meta: SessionMeta,
) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.remove::<PendingSignIn>(PENDING_KEY).await?;
    session.remove::<String>(BUSINESS_KEY).await?;
    session.insert(AUTHENTICATED_KEY, meta.created_at).await?;
    session.insert(MERCHANT_KEY, merchant_id).await?;
    session.insert(META_KEY, meta).await?;
    csrf::rotate(session).await?;
    Ok(())
}

/// A login whose password was right, waiting for its second factor (not logged in yet).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingSignIn {
    pub merchant_id: String,
    pub at: i64,
    /// Where to go once logged in (already `safe_next`).
    pub next: String,
}

const PENDING_KEY: &str = "pending_sign_in";
/// The code must come within five minutes of the password.
const PENDING_SECS: i64 = 300;

/// Remembers a login that waits for its second factor.
pub async fn await_second_factor(
    session: &Session,
    pending: PendingSignIn,
) -> Result<(), AppError> {
    session.insert(PENDING_KEY, pending).await?;
    Ok(())
}

/// The login waiting for its second factor, if it is not older than five minutes. Taken out of
/// the session once logged in (`log_in` starts a fresh one).
pub async fn pending_sign_in(
    session: &Session,
    now: i64,
) -> Result<Option<PendingSignIn>, AppError> {
    let pending = session.get::<PendingSignIn>(PENDING_KEY).await?;
    Ok(pending.filter(|p| now - p.at <= PENDING_SECS))
}

const AUTHENTICATED_KEY: &str = "authenticated_at";
/// How long a login or a password confirmation counts as fresh for sensitive actions.
pub const FRESH_AUTH_SECS: i64 = 300;

/// The password was just confirmed again.
pub async fn reauthenticated(session: &Session, now: i64) -> Result<(), AppError> {
    session.insert(AUTHENTICATED_KEY, now).await?;
    Ok(())
}

/// Whether the password (and second factor) were given in this session within the last five
/// minutes.
pub async fn authenticated_recently(session: &Session, now: i64) -> Result<bool, AppError> {
    Ok(session
        .get::<i64>(AUTHENTICATED_KEY)
        .await?
        .is_some_and(|at| now - at <= FRESH_AUTH_SECS))
}

/// This session's handle, if it is logged in.
pub async fn handle(session: &Session) -> Result<Option<String>, AppError> {
    Ok(session
        .get::<SessionMeta>(META_KEY)
        .await?
        .map(|m| m.handle))
}

/// Deletes the session record and expires the cookie.
pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

/// The logged-in account's id.
pub async fn merchant_id(session: &Session) -> Result<Option<String>, AppError> {
    Ok(session.get::<String>(MERCHANT_KEY).await?)
}

/// The logged-in account acting for the business the session has chosen (its own unless it
/// switched), with its role there, read afresh on every request: a member removed or given a
/// lower role is refused from the next request on. Refused unless the role is `at_least`.
pub async fn member(
    session: &Session,
    state: &crate::state::AppState,
    at_least: crate::dto::team::Role,
) -> Result<crate::accounts::Member, AppError> {
    let account = merchant_id(session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let business = session
        .get::<String>(BUSINESS_KEY)
        .await?
        .unwrap_or_else(|| account.clone());
    match state.accounts.member(&business, &account).await? {
        Some(member) => {
            member.require(at_least)?;
            Ok(member)
        }
        None if business == account => Err(AppError::Unauthenticated),
        None => {
            // no longer a member there: this request is refused, the next page shows the
            // account's own business
            session.remove::<String>(BUSINESS_KEY).await?;
            Err(AppError::Forbidden(
                "You are no longer a member of that business. Reload the page.".into(),
            ))
        }
    }
}

/// The dashboard acts for `business_id` from now on (the caller checked the membership).
pub async fn act_for(session: &Session, business_id: &str) -> Result<(), AppError> {
    session.insert(BUSINESS_KEY, business_id).await?;
    Ok(())
}

/// Sends anonymous visitors of the dashboard to the login page (and back afterwards), and
/// logged-in merchants who open the login or sign-up page to the dashboard.
pub async fn guard(session: Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let is_get = req.method() == axum::http::Method::GET;
    let dashboard = path == "/dashboard" || path.starts_with("/dashboard/");
    let auth_page = path == "/login" || path == "/signup";
    if !is_get || !(dashboard || auth_page) {
        return next.run(req).await;
    }
    let logged_in = match merchant_id(&session).await {
        Ok(id) => id.is_some(),
        Err(e) => return crate::http::wire::error_response(req.headers(), e),
    };
    match (dashboard, logged_in) {
        (true, false) => {
            let next_path = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/dashboard");
            let location = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>()
            );
            see_other(&location)
        }
        (true, true) if path == "/dashboard/" => see_other(DASHBOARD_HOME),
        (false, true) => see_other(DASHBOARD_HOME),
        _ => next.run(req).await,
    }
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// A post-login destination that stays on this site: a path, never `//host` or `/\host`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => DASHBOARD_HOME.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_never_leaves_the_site() {
        for evil in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "javascript:alert(1)",
            "/ok\n",
        ] {
            assert_eq!(safe_next(Some(evil)), super::DASHBOARD_HOME, "{evil}");
        }
        assert_eq!(
            safe_next(Some("/o/authorize/?client_id=x")),
            "/o/authorize/?client_id=x"
        );
        assert_eq!(safe_next(None), super::DASHBOARD_HOME);
    }
}
