//! Who is calling and over what: the client IP and whether the request arrived over HTTPS.
//! Forwarded headers are believed only from the configured trusted proxies. Addresses are
//! canonical (`::ffff:1.2.3.4` is `1.2.3.4`), so one client is one IP for every limit. In
//! production, plain-HTTP requests are refused here, before anything else runs, except the
//! health checks a load balancer probes over plain HTTP.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::AppError;
use crate::http::wire::error_response;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub client_ip: IpAddr,
    pub https: bool,
}

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let meta = resolve(peer, req.headers(), &state.config.trusted_proxies);
    let health_check = matches!(req.uri().path(), "/healthz" | "/readyz");
    if state.config.is_production() && !meta.https && !health_check {
        return error_response(req.headers(), AppError::HttpsRequired);
    }
    req.extensions_mut().insert(meta);
    next.run(req).await
}

fn resolve(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> RequestMeta {
    let peer = peer.to_canonical();
    let trusted: Vec<IpAddr> = trusted.iter().map(IpAddr::to_canonical).collect();
    if !trusted.contains(&peer) {
        return RequestMeta {
            client_ip: peer,
            https: false,
        };
    }
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // the rightmost address that is not one of our proxies is the real client
    let client_ip = last("x-forwarded-for")
        .iter()
        .rev()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .map(|ip| ip.to_canonical())
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer);
    let https = last("x-forwarded-proto")
        .last()
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    RequestMeta { client_ip, https }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn forwarded_headers_from_strangers_are_ignored() {
        let peer: IpAddr = "203.0.113.9".parse().expect("ip");
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let meta = resolve(peer, &h, &[]);
        assert_eq!(meta.client_ip, peer);
        assert!(!meta.https);
    }

    #[test]
    fn ipv4_mapped_ipv6_addresses_are_one_client_with_their_ipv4_form() {
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().expect("ip");
        let plain: IpAddr = "203.0.113.9".parse().expect("ip");
        assert_eq!(resolve(mapped, &HeaderMap::new(), &[]).client_ip, plain);
        // a proxy listed as IPv4 is trusted when it connects over a dual-stack socket
        let h = headers(&[("x-forwarded-for", "::ffff:198.51.100.7")]);
        let meta = resolve(
            "::ffff:10.0.0.2".parse().expect("ip"),
            &h,
            &["10.0.0.2".parse().expect("ip")],
        );
        assert_eq!(
            meta.client_ip,
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn trusted_proxy_reports_the_rightmost_untrusted_client() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ]);
        let meta = resolve(proxy, &h, &[proxy]);
        assert_eq!(
            meta.client_ip,
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        assert!(meta.https);
    }
}
