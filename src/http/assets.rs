//! The browser bundle under `/pkg`. cargo-leptos names each file by a hash of its content
//! (`hash-files`; the hashes are listed in `hash.txt` beside the server binary), so a file may be
//! cached for a year as `immutable`: a new build has new names. A release build writes `.br` and
//! `.gz` twins of every file (`cargo leptos build --release --precompress`; `scripts/test.sh`
//! gzips a debug build's), served to browsers that accept them. Without `hash.txt` (the API
//! tests run the server in-process, with no bundle) names are plain and revalidated every time.

use std::sync::OnceLock;

use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::{HeaderValue, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use tower::ServiceBuilder;
use tower_http::services::fs::ServeFileSystemResponseBody;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// A hashed file never changes: a year, and no revalidation on reload.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// cargo-leptos's `kind: hash` lines (`js`, `wasm`, `css`) from the hash file beside this
/// executable, where leptos's `HydrationScripts` reads them too.
fn hashes(options: &LeptosOptions) -> Option<Vec<(String, String)>> {
    let exe = std::env::current_exe().ok()?;
    let text = std::fs::read_to_string(exe.parent()?.join(options.hash_file.as_ref())).ok()?;
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(kind, hash)| (kind.trim().to_string(), hash.trim().to_string()))
        .filter(|(_, hash)| !hash.is_empty())
        .collect();
    (!pairs.is_empty()).then_some(pairs)
}

static STYLESHEET: OnceLock<String> = OnceLock::new();

/// Turns hashed names on when the build wrote them (whatever `LEPTOS_HASH_FILES` says: the
/// pages must name the files that exist), and notes the stylesheet's name.
pub fn configure(options: &mut LeptosOptions) {
    let hashes = hashes(options);
    options.hash_files = hashes.is_some();
    let css = hashes
        .into_iter()
        .flatten()
        .find(|(kind, _)| kind == "css")
        .map(|(_, hash)| format!(".{hash}"))
        .unwrap_or_default();
    let _ = STYLESHEET.set(format!(
        "/{}/{}{css}.css",
        options.site_pkg_dir, options.output_name
    ));
}

/// The stylesheet's path, for the shell and the pages written by hand (consent, the SSO link's).
pub fn stylesheet_href() -> &'static str {
    STYLESHEET.get().map_or("/pkg/subgate.css", String::as_str)
}

/// `/pkg/…` from the site root, precompressed where a twin exists, cached for a year when hashed.
pub fn router(options: &LeptosOptions) -> Router<AppState> {
    let cache = HeaderValue::from_static(if options.hash_files {
        IMMUTABLE
    } else {
        "no-cache"
    });
    let files = ServeDir::new(options.site_root.as_ref())
        .precompressed_br()
        .precompressed_gzip();
    let service = ServiceBuilder::new()
        // tower-http 0.6 does not say that the body depends on Accept-Encoding; caches must know
        .layer(SetResponseHeaderLayer::appending(
            VARY,
            HeaderValue::from_static("accept-encoding"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            move |r: &Response<ServeFileSystemResponseBody>| {
                r.status().is_success().then(|| cache.clone())
            },
        ))
        .service(files);
    Router::new()
        .route_service(&format!("/{}/{{*path}}", options.site_pkg_dir), service)
        .route("/assets/auth/{version}", axum::routing::get(auth_script))
}

/// The sign-in pages' script (`public/auth.js`), every page's: passkeys, and the background
/// posting of the pages served without the wasm bundle (the login). A few KB of plain JavaScript,
/// served from the binary (the API tests' server, which has no site directory, has it too) under
/// its content's hash, like the bundle: cached for a year, and a new build names a new file.
const AUTH_JS: &str = include_str!("../../public/auth.js");

fn auth_script_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| crate::crypto::sha256_hex(AUTH_JS.as_bytes())[..16].to_string())
}

/// Where the pages load `public/auth.js` from.
pub fn auth_script_href() -> String {
    format!("/assets/auth/{}", auth_script_version())
}

async fn auth_script(
    axum::extract::Path(version): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    // an old page asking for an old version gets today's file, revalidated, not cached as that
    let cache = if version == auth_script_version() {
        IMMUTABLE
    } else {
        "no-cache"
    };
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, cache),
        ],
        AUTH_JS,
    )
        .into_response()
}
