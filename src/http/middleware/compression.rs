//! On-the-fly compression (brotli or gzip, as the client accepts) of what is worth it and safe:
//! bodies above 1 KiB, not images, and never HTML or a `no-store` response. A compression
//! oracle (BREACH) needs a secret and attacker-chosen text in one compressed body: our HTML
//! carries the CSRF token beside reflected input, and everything secret or personal is
//! `no-store` (`security_headers`): that leaves the bundle and other public files. The bundle's release files are precompressed and pass through as is.

use axum::http::header::CACHE_CONTROL;
use axum::http::{Extensions, HeaderMap, StatusCode, Version};
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;

/// Smaller bodies gain less than the encoding costs.
const MIN_BYTES: u16 = 1024;

fn not_no_store(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    !headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("no-store"))
}

pub fn layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        SizeAbove::new(MIN_BYTES)
            .and(NotForContentType::IMAGES)
            .and(NotForContentType::SSE)
            .and(NotForContentType::const_new("text/html"))
            .and(not_no_store),
    )
}
