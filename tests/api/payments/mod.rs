//! Stripe Connect, the customers and subscriptions API, and webhooks, over real HTTP against a
//! Stripe simulator on another loopback port (async-stripe and the oauth2 client are pointed
//! at it by base URL). One file per endpoint or journey.

mod connect;
mod customers;
mod failures_and_isolation;
mod subscriptions;
mod webhooks;
