//! `#[server]` adapters: each fetches what it needs from the request, calls the domain, and
//! returns a wire type. All live under `/fn/` (the `/api` prefix belongs to the JSON API).

pub mod account;
pub mod auth;
pub mod connect;
pub mod customers;
pub mod explorer;
pub mod oauth;
pub mod overview;
pub mod passkeys;
pub mod portal;
pub mod sso;
pub mod team;

#[cfg(feature = "ssr")]
pub(crate) mod ssr;
