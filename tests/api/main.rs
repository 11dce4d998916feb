//! One integration-test binary (link time!). Every test starts the real server on a free port
//! with its own database, SQLite by default or PostgreSQL with SUBGATE_TEST_DB=postgres, and
//! drives it over HTTP.

mod auth;
mod cli;
mod helpers;
mod oauth;
mod openapi;
mod payments;
mod security;
mod sso;
