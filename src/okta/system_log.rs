//! Okta's System Log API read without I/O: a page of events, the next page's address in the `Link` header, and
//! the rate-limit headers (`X-Rate-Limit-Remaining`, `X-Rate-Limit-Reset`).

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::event::LogEvent;

/// Why an answer of the System Log API is not a page of events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a System Log page: {0}")]
pub struct NotAPage(pub String);

/// A page: a JSON array of events, each read on its own so one odd event never hides the others.
pub fn parse_page(body: &[u8]) -> Result<Vec<Result<LogEvent, String>>, NotAPage> {
    let events: Vec<Value> = serde_json::from_slice(body).map_err(|e| NotAPage(e.to_string()))?;
    Ok(events
        .into_iter()
        .map(|raw| serde_json::from_value::<LogEvent>(raw).map_err(|e| e.to_string()))
        .collect())
}

/// What the rate-limit headers of one answer say; a header that is missing or unreadable says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-Rate-Limit-Remaining`: calls left in the current window.
    pub remaining: Option<u64>,
    /// `X-Rate-Limit-Reset`: when the window starts again (epoch seconds).
    pub reset: Option<SystemTime>,
}

impl RateLimit {
    pub fn read(remaining: Option<&str>, reset: Option<&str>) -> Self {
        let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u64>().ok());
        RateLimit {
            remaining: number(remaining),
            // Beyond any real reset (a year ahead): not a time.
            reset: number(reset)
                .filter(|s| *s < 1 << 40)
                .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
        }
    }

    /// Whether the window is used up: the next call would be refused with a 429.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The target of the first link with relation `next` among a response's `Link` header values (RFC 8288):
/// `<https://…/api/v1/logs?after=…>; rel="next"`. Links may share one value (comma-separated) or come in values of
/// their own; a URI may hold commas and semicolons, a quoted parameter anything but an unescaped quote. A value
/// that does not parse is ignored whole, so a half-read value never yields a wrong link.
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    values.into_iter().find_map(|value| {
        links(value)?
            .into_iter()
            .find(|(_, next)| *next)
            .map(|(target, _)| target.to_owned())
    })
}

const WHITE: [char; 2] = [' ', '\t'];

/// Each link of one header value: its target, and whether one of its relations is `next`.
fn links(value: &str) -> Option<Vec<(&str, bool)>> {
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(out);
        }
        let inner = rest.strip_prefix('<')?;
        let end = inner.find('>')?;
        let target = &inner[..end];
        rest = &inner[end + 1..];
        let mut next = false;
        while let Some(after) = rest.trim_start_matches(WHITE).strip_prefix(';') {
            let (name, value, after) = param(after)?;
            let mut rels = value.split_ascii_whitespace();
            next |=
                name.eq_ignore_ascii_case("rel") && rels.any(|r| r.eq_ignore_ascii_case("next"));
            rest = after;
        }
        rest = rest.trim_start_matches(WHITE);
        if !(rest.is_empty() || rest.starts_with(',')) {
            return None;
        }
        out.push((target, next));
    }
}

/// RFC 9110's token characters.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// One `name[=value]` parameter: its name, its value (a token or an unescaped quoted string) and what follows.
fn param(s: &str) -> Option<(&str, Cow<'_, str>, &str)> {
    let s = s.trim_start_matches(WHITE);
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    let (name, s) = s.split_at(end);
    if name.is_empty() {
        return None;
    }
    let Some(s) = s.trim_start_matches(WHITE).strip_prefix('=') else {
        return Some((name, Cow::Borrowed(""), s));
    };
    let s = s.trim_start_matches(WHITE);
    if let Some(quoted) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        loop {
            match chars.next()? {
                (i, '"') => return Some((name, Cow::Owned(value), &quoted[i + 1..])),
                (_, '\\') => value.push(chars.next()?.1),
                (_, c) => value.push(c),
            }
        }
    }
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    Some((name, Cow::Borrowed(&s[..end]), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn okta_s_own_headers() {
        let own = [
            r#"<https://example.okta.com/api/v1/logs?limit=2&sortOrder=ASCENDING&since=2026-01-01T00%3A00%3A00.000Z>; rel="self""#,
            r#"<https://example.okta.com/api/v1/logs?limit=2&after=1706_abc&sortOrder=ASCENDING>; rel="next""#,
        ];
        assert_eq!(
            next_link(own).as_deref(),
            Some("https://example.okta.com/api/v1/logs?limit=2&after=1706_abc&sortOrder=ASCENDING")
        );
        assert_eq!(next_link([own[0]]), None);
        let one = r#"<https://a.example/x?a=1,2;b>; title="x, y; z"; rel="self", <https://a.example/n>; rel=next"#;
        assert_eq!(next_link([one]).as_deref(), Some("https://a.example/n"));
        assert_eq!(
            next_link([r#"<https://a.example/n>; rel="prev NEXT""#]).as_deref(),
            Some("https://a.example/n")
        );
        // Malformed: ignored whole, never half read.
        assert_eq!(
            next_link([r#"<https://a.example/n>; rel="next" junk"#]),
            None
        );
        assert_eq!(next_link([r#"<https://a.example/n; rel="next""#]), None);
        assert_eq!(next_link([r#"https://a.example/n; rel="next""#]), None);
        assert_eq!(next_link([r#"<https://a.example/n>; rel="next"#]), None);
    }

    #[test]
    fn rate_limit_headers() {
        let r = RateLimit::read(Some("0"), Some("1767225600"));
        assert!(r.exhausted());
        assert_eq!(
            r.reset,
            Some(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        );
        assert_eq!(RateLimit::read(Some("x"), Some("-1")), RateLimit::default());
        assert!(!RateLimit::read(Some(" 12 "), None).exhausted());
        assert_eq!(RateLimit::read(None, Some("99999999999999")).reset, None);
    }

    #[test]
    fn a_page_is_an_array_of_events_each_read_on_its_own() {
        let page = parse_page(
            br#"[{"uuid":"a","eventType":"user.account.update_profile","published":"2026-01-01T00:00:00.000Z"},
                 {"published":"no uuid"}]"#,
        )
        .unwrap();
        assert_eq!(page.len(), 2);
        assert!(page[0].is_ok() && page[1].is_err());
        assert!(parse_page(br#"{"errorCode":"E0000011"}"#).is_err());
        assert!(parse_page(b"").is_err());
        assert_eq!(parse_page(b"[]").unwrap().len(), 0);
    }

    /// A URI as Okta (or anybody) may write it: no `>`, but commas, semicolons, quotes and `=` inside.
    fn uri() -> impl Strategy<Value = String> {
        "https://[a-z]{1,8}\\.example/[a-zA-Z0-9/?=&%,;.\"_-]{0,40}"
    }

    fn rel() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "self",
            "prev",
            "first",
            "next",
            "prev next",
            "alternate",
        ])
    }

    /// A link written with optional extra parameters before and after its relation.
    fn written(uri: &str, rel: &str, title: &str, quoted: bool) -> String {
        let rel = if quoted || rel.contains(' ') {
            format!("\"{rel}\"")
        } else {
            rel.to_owned()
        };
        format!("<{uri}>; title=\"{title}\" ;rel={rel}; type=text")
    }

    proptest! {
        #[test]
        fn any_header_is_read_or_ignored_without_a_panic(values in prop::collection::vec("\\PC{0,120}", 0..4)) {
            let _ = next_link(values.iter().map(String::as_str));
        }

        #[test]
        fn the_first_next_link_is_found_however_links_are_grouped(
            links in prop::collection::vec((uri(), rel(), "[a-z ,;=]{0,12}", any::<bool>()), 0..6),
            split in any::<bool>(),
        ) {
            let expected = links
                .iter()
                .find(|(_, rel, _, _)| rel.split(' ').any(|r| r == "next"))
                .map(|(uri, ..)| uri.clone());
            let written: Vec<String> =
                links.iter().map(|(u, r, t, q)| written(u, r, t, *q)).collect();
            let found = if split {
                next_link(written.iter().map(String::as_str))
            } else {
                next_link([written.join(", ").as_str()])
            };
            prop_assert_eq!(found, expected);
        }
    }
}
