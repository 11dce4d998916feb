//! Percent-encoding for URLs the pages and the server both build: path segments, query
//! components, and decoding them back.

/// `s` as one URL path segment (everything but unreserved and sub-delimiters escaped).
pub fn path_segment(s: &str) -> String {
    escape(s, b"-._~!$&'()*+,;=:@")
}

/// `s` in a query string (`&`, `=`, `+` and `#` escaped).
pub fn query_component(s: &str) -> String {
    escape(s, b"-._~!$'()*,;:@/?")
}

fn escape(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
