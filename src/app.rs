//! The page shell and the routes of the browser-facing app.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{
    lazy_route, Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment, WildcardSegment,
};

use crate::ui::account::{
    AccountTab, ConfirmEmailPage, ForgotPasswordPage, ResetPasswordPage, TwoFactorLoginPage,
    VerifyEmailPage,
};
use crate::ui::auth::{LoginPage, SignupPage};
use crate::ui::components::csrf_token;
use crate::ui::connect::ConnectTab;
use crate::ui::customers::{CustomerPage, CustomersTab};
use crate::ui::dashboard::{DashboardLayout, DashboardNotFound};
use crate::ui::explorer::ApiTab;
use crate::ui::home::{HomePage, NotFound};
use crate::ui::oauth::{ClientPage, OAuthTab, PlaygroundPage};
use crate::ui::overview::OverviewPage;
use crate::ui::portal::PortalPage;
use crate::ui::sso::SsoTab;
use crate::ui::team::{AcceptInvitationPage, TeamTab};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy(None);
    let static_page = static_page();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="csrf-token" content=csrf_token()/>
                <meta name="passkey-origin" content=passkey_origin()/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <Stylesheet/>
                {(!static_page).then(|| view! {
                    <AutoReload options=options.clone()/>
                    <HydrationScripts options/>
                })}
                <script type="module" src=auth_script()></script>
                <MetaTags/>
            </head>
            // a static page has nothing to hydrate: it says so, and tests and the bench see it
            <body class="bg-slate-100 text-slate-900 antialiased" data-hydrated=static_page.then_some("static")>
                <App/>
            </body>
        </html>
    }
}

/// The origin passkeys are bound to, for `public/auth.js` (empty: none here).
fn passkey_origin() -> String {
    #[cfg(feature = "ssr")]
    return use_context::<crate::state::AppState>()
        .and_then(|s| s.accounts.passkey_origin().ok())
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    String::new()
}

/// `public/auth.js` under its content's hash (`http::assets`).
fn auth_script() -> String {
    #[cfg(feature = "ssr")]
    return crate::http::assets::auth_script_href();
    #[cfg(not(feature = "ssr"))]
    String::new()
}

/// Pages served as plain HTML without the wasm bundle: the login and its second step need no
/// client code but `public/auth.js` (passkeys, and posting their forms in the background), so
/// they load in a few KB instead of the framework's first chunk (issue 17: ≤ 150 KB for /login).
/// Reached by a link inside the hydrated app they render client-side as before.
pub const STATIC_PAGES: [&str; 2] = ["/login", "/login/two-factor"];

/// Whether this response is one of [`STATIC_PAGES`].
fn static_page() -> bool {
    #[cfg(feature = "ssr")]
    return use_context::<axum::http::request::Parts>()
        .is_some_and(|p| STATIC_PAGES.contains(&p.uri.path()));
    #[cfg(not(feature = "ssr"))]
    false
}

/// The bundle's stylesheet, by its hashed name when the build wrote one (`http::assets`).
#[component]
fn Stylesheet() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let href = crate::http::assets::stylesheet_href();
    #[cfg(not(feature = "ssr"))]
    let href = "";
    view! { <link rel="stylesheet" id="leptos" href=href/> }
}

/// Only this origin's scripts and the inline scripts carrying this response's nonce may run
/// (and only the inline styles carrying it: the portal's accent colour); no framing, no
/// plugins, forms post only here. Images come from here, or from `image_origin` too (a
/// merchant's logo on their portal, set again by the portal page once it knows the merchant).
#[cfg(feature = "ssr")]
pub fn set_content_security_policy(image_origin: Option<&str>) {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // a form may lead to the payment gateway's pages before hydration: Connect's authorize
    // page, and the customer portal (the simulator's are on this origin)
    let gateway = use_context::<crate::state::AppState>()
        .filter(|s| !s.config.stripe.is_simulated())
        .map(|s| {
            format!(
                " {} {}",
                s.config.stripe.connect_base.origin().ascii_serialization(),
                crate::payments::gateways::stripe::CUSTOMER_PORTAL_ORIGIN
            )
        })
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:{images}; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'{gateway}",
        images = image_origin.map(|o| format!(" {o}")).unwrap_or_default(),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Routes whose code is a chunk of its own in the browser bundle (`cargo leptos build --split`):
/// the first load carries the router, the dashboard's shell, login and signup; a tab's code
/// (the API browser and its schema checks, the OAuth playground, the SSO snippets…) comes the
/// first time it is shown. On the server, and in a build without `--split`, these are plain
/// routes. Each page loads its data itself, so there is nothing to start before its chunk.
macro_rules! lazy_pages {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    )*};
}

lazy_pages!(
    PortalRoute => PortalPage,
    OverviewRoute => OverviewPage,
    OAuthRoute => OAuthTab,
    PlaygroundRoute => PlaygroundPage,
    ClientRoute => ClientPage,
    ConnectRoute => ConnectTab,
    CustomersRoute => CustomersTab,
    CustomerRoute => CustomerPage,
    SsoRoute => SsoTab,
    ApiRoute => ApiTab,
    AccountRoute => AccountTab,
    TeamRoute => TeamTab,
    InviteRoute => AcceptInvitationPage,
    ForgotPasswordRoute => ForgotPasswordPage,
    ResetPasswordRoute => ResetPasswordPage,
    VerifyEmailRoute => VerifyEmailPage,
    ConfirmEmailRoute => ConfirmEmailPage,
    TwoFactorLoginRoute => TwoFactorLoginPage,
);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="subgate"/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=StaticSegment("") view=HomePage/>
                <Route path=StaticSegment("login") view=LoginPage/>
                <Route path=StaticSegment("signup") view=SignupPage/>
                <Route path=(StaticSegment("login"), StaticSegment("two-factor")) view={Lazy::<TwoFactorLoginRoute>::new()}/>
                <Route path=StaticSegment("forgot-password") view={Lazy::<ForgotPasswordRoute>::new()}/>
                <Route path=StaticSegment("reset-password") view={Lazy::<ResetPasswordRoute>::new()}/>
                <Route path=StaticSegment("verify-email") view={Lazy::<VerifyEmailRoute>::new()}/>
                <Route path=StaticSegment("confirm-email") view={Lazy::<ConfirmEmailRoute>::new()}/>
                <Route path=StaticSegment("invite") view={Lazy::<InviteRoute>::new()}/>
                // the whole page in the first response, so it works without JavaScript
                <Route path=StaticSegment("portal") view={Lazy::<PortalRoute>::new()} ssr=SsrMode::Async/>
                <ParentRoute path=StaticSegment("dashboard") view=DashboardLayout>
                    <Route path=StaticSegment("") view={Lazy::<OverviewRoute>::new()}/>
                    <Route path=StaticSegment("oauth") view={Lazy::<OAuthRoute>::new()}/>
                    <Route path=(StaticSegment("oauth"), StaticSegment("playground")) view={Lazy::<PlaygroundRoute>::new()}/>
                    <Route path=(StaticSegment("oauth"), StaticSegment("clients"), ParamSegment("id")) view={Lazy::<ClientRoute>::new()}/>
                    <Route path=StaticSegment("connect") view={Lazy::<ConnectRoute>::new()}/>
                    <Route path=StaticSegment("customers") view={Lazy::<CustomersRoute>::new()}/>
                    <Route path=(StaticSegment("customers"), ParamSegment("subscriber")) view={Lazy::<CustomerRoute>::new()}/>
                    <Route path=StaticSegment("sso") view={Lazy::<SsoRoute>::new()}/>
                    <Route path=StaticSegment("api") view={Lazy::<ApiRoute>::new()}/>
                    <Route path=StaticSegment("team") view={Lazy::<TeamRoute>::new()}/>
                    <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()}/>
                    // any other dashboard address: a 404 inside the layout
                    <Route path=WildcardSegment("rest") view=DashboardNotFound/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
