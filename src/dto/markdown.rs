//! The little Markdown the API's descriptions use, parsed into spans that the pages render as
//! nodes (never as HTML, so nothing in a description can become markup): paragraphs split on
//! blank lines, `code`, **strong**, and [links](https://…) to http(s) or site-relative targets.
//! Anything else stays text.

/// A run of inline Markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Code(String),
    Strong(String),
    Link { text: String, href: String },
}

/// The paragraphs of `s`, each a list of spans.
pub fn paragraphs(s: &str) -> Vec<Vec<Inline>> {
    s.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(inline)
        .collect()
}

fn inline(p: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = p;
    while let Some(ch) = rest.chars().next() {
        if let Some((span, after)) = code(rest).or_else(|| strong(rest)).or_else(|| link(rest)) {
            if !text.is_empty() {
                out.push(Inline::Text(std::mem::take(&mut text)));
            }
            out.push(span);
            rest = after;
            continue;
        }
        text.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    if !text.is_empty() {
        out.push(Inline::Text(text));
    }
    out
}

fn code(s: &str) -> Option<(Inline, &str)> {
    let body = s.strip_prefix('`')?;
    let end = body.find('`').filter(|&e| e > 0)?;
    Some((Inline::Code(body[..end].to_string()), &body[end + 1..]))
}

fn strong(s: &str) -> Option<(Inline, &str)> {
    let body = s.strip_prefix("**")?;
    let end = body.find("**").filter(|&e| e > 0)?;
    Some((Inline::Strong(body[..end].to_string()), &body[end + 2..]))
}

fn link(s: &str) -> Option<(Inline, &str)> {
    let body = s.strip_prefix('[')?;
    let close = body.find("](")?;
    let text = &body[..close];
    let target = &body[close + 2..];
    let end = target.find(')')?;
    let href = &target[..end];
    let safe = href.starts_with("https://")
        || href.starts_with("http://")
        || (href.starts_with('/') && !href.starts_with("//"));
    if text.is_empty() || text.contains('[') || !safe || href.contains(char::is_whitespace) {
        return None;
    }
    Some((
        Inline::Link {
            text: text.to_string(),
            href: href.to_string(),
        },
        &target[end + 1..],
    ))
}

#[cfg(test)]
mod tests {
    use super::Inline::*;
    use super::*;

    #[test]
    fn code_strong_and_links_become_spans_and_the_rest_stays_text() {
        assert_eq!(
            paragraphs("An `Idempotency-Key` replays **the first** answer; see [RFC 9110](https://www.rfc-editor.org/rfc/rfc9110)."),
            vec![vec![
                Text("An ".into()),
                Code("Idempotency-Key".into()),
                Text(" replays ".into()),
                Strong("the first".into()),
                Text(" answer; see ".into()),
                Link { text: "RFC 9110".into(), href: "https://www.rfc-editor.org/rfc/rfc9110".into() },
                Text(".".into()),
            ]]
        );
        assert_eq!(paragraphs("one\n\n\ntwo `x`").len(), 2);
    }

    #[test]
    fn nothing_becomes_markup_or_a_script_link() {
        for s in [
            "[click](javascript:alert(1))",
            "[x](//evil.example/a)",
            "<script>alert(1)</script>",
            "an ` unclosed tick and ** unclosed",
            "``",
        ] {
            let spans = paragraphs(s);
            assert!(
                spans.iter().flatten().all(|i| matches!(i, Text(_))),
                "{s}: {spans:?}"
            );
        }
    }
}
