//! The account's routes outside the Leptos pages: the audit log as CSV (the Account tab links
//! it) and, in development without SMTP, the outbox of mail subgate would have sent.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_sessions::Session;

use crate::error::AppError;
use crate::state::AppState;

/// The audit log's CSV: up to this many lines, newest first.
const CSV_MAX_ROWS: i64 = 10_000;

pub fn browser_router() -> Router<AppState> {
    Router::new()
        .route("/dashboard/account/audit.csv", get(audit_csv))
        .route("/dev/outbox", get(outbox))
}

#[derive(serde::Deserialize)]
struct CsvQuery {
    #[serde(default)]
    action: String,
}

/// A CSV field: quoted, quotes doubled, and a leading `= + - @` neutralised so a spreadsheet
/// does not run a user agent or business name as a formula (CSV injection).
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

async fn audit_csv(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<CsvQuery>,
) -> Result<Response, AppError> {
    let member = crate::http::middleware::auth_session::member(
        &session,
        &state,
        crate::dto::team::Role::Admin,
    )
    .await?;
    let rows = state
        .accounts
        .audit_log(&member.business_id, &query.action, i64::MAX, CSV_MAX_ROWS)
        .await?;
    let mut csv = String::from("time,action,actor,role,target,ip,user_agent\r\n");
    for row in rows {
        let at = crate::ui::components::format_time(row.at);
        let fields: [&str; 7] = [
            at.as_str(),
            &row.action,
            row.actor.as_deref().unwrap_or(""),
            row.role.as_deref().unwrap_or(""),
            row.target.as_deref().unwrap_or(""),
            row.ip.as_deref().unwrap_or(""),
            row.user_agent.as_deref().unwrap_or(""),
        ];
        csv.push_str(&fields.map(csv_field).join(","));
        csv.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subgate-audit-log.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

/// Only in development, and only when mail goes to the outbox: a 404 otherwise.
async fn outbox(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    if state.config.is_production() || !state.mailer.is_outbox() {
        return Err(AppError::not_found());
    }
    Ok(Html(crate::mail::outbox_page(&state.mailer.outbox())))
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("plain"), "\"plain\"");
        assert_eq!(csv_field("a \"b\", c"), "\"a \"\"b\"\", c\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
