//! Small pieces of HTTP every part of the edge uses: telling a browser from a client, an error
//! as a page or as JSON, HTML escaping, path segments and cookies.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::error::AppError;

/// True when the client is a browser navigating (it asks for HTML), not a script or API client.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// An error as a small HTML page for browsers, as JSON for everyone else.
pub fn error_response(headers: &HeaderMap, error: AppError) -> Response {
    if !wants_html(headers) {
        return error.into_response();
    }
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = status.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · subgate</title></head>\
         <body style=\"font-family:system-ui;max-width:40rem;margin:4rem auto\"><h1>{title}</h1><p id=\"error-message\">{message}</p>\
         <p><a href=\"/\">Back to subgate</a></p></body></html>",
        message = escape_html(&error.to_string()),
    );
    (status, Html(page)).into_response()
}

pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub use crate::dto::url::path_segment;

/// The value of the cookie `name`, if the request carries it.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
