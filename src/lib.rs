//! subgate: lets a subscription business give its own backend and its own customers safe
//! access to their Stripe subscriptions. This crate is both the server (feature `ssr`) and the
//! browser bundle that hydrates its pages (feature `hydrate`).

// the pages' view types nest deeply: computing their layouts took rustc past its default
// query depth (128) on a clean build, though not on an incremental one
#![recursion_limit = "256"]

pub mod app;
pub mod dto;
pub mod error;
pub mod server_fns;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod entropy;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod payments;
#[cfg(feature = "ssr")]
pub mod portal;
#[cfg(feature = "ssr")]
pub mod sso;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod stripe_simulator;
#[cfg(feature = "ssr")]
pub mod telemetry;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // the page's route may live in a chunk of its own (`app`'s lazy routes): hydration waits
    // for it, then the page is marked
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = leptos::prelude::document().body() else {
            return;
        };
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // a marker for people and end-to-end tests: from here on the page is interactive
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
