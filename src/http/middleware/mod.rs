//! What runs around every request, outermost first as `http::router` layers it: request
//! metadata and HTTPS enforcement, security headers, the merchant session's guard, CSRF, CORS for
//! the API's browser clients, and the status codes of server functions.

pub mod auth_session;
pub mod compression;
pub mod cors;
pub mod csrf;
pub mod request_meta;
pub mod security_headers;
pub mod server_fn_status;
