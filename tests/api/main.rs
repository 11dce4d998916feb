//! One integration-test binary (link time!). Every test starts the real server on a free port
//! with its own database, SQLite by default or PostgreSQL with SUBGATE_TEST_DB=postgres, and
//! drives it over HTTP.

mod abuse_limits;
mod account;
mod auth;
mod cli;
mod cluster;
mod confirmations;
mod customers_tab;
mod entropy;
mod explorer;
mod faults;
mod hardening;
mod interop;
mod oauth;
mod openapi;
mod overview;
mod passkeys;
mod payments;
mod process;
mod reconcile;
mod security;
mod sso;
mod stripe_rules;
mod support;
mod sweep;
mod team;
