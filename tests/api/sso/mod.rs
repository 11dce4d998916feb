//! Single sign-on: the SSO tab's secret management, the Recurpay-compatible login endpoint,
//! the one-time link and the subscriber portal, over real HTTP. One file per endpoint or journey.

mod branding;
mod link_and_portal;
mod login;
mod settings;
