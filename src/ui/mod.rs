//! Leptos components and pages. No SQL, crypto or HTTP clients here: pages talk to the server
//! only through the server functions in `crate::server_fns`.

pub mod account;
pub mod auth;
pub mod components;
pub mod connect;
pub mod customers;
pub mod dashboard;
pub mod explorer;
pub mod home;
pub mod oauth;
pub mod overview;
pub mod portal;
pub mod sso;
pub mod team;
