//! Text as Slack shows it: its escaping (only `&`, `<` and `>` are special) and the length of a direct message.

/// Slack truncates a longer `text`; the DM stays well within it.
pub const MAX_TEXT_CHARS: usize = 4000;

/// `s` on one line with Slack's escaping (only `&`, `<` and `>` are special: they start links and mentions), at
/// most `max` characters after escaping; a cut is marked with `…` and never splits an escape.
pub fn escape_slack(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    // Bytes of `out` that still leave room for the `…` of a cut.
    let mut keep = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let piece: &str = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            c if c.is_control() => " ",
            c => c.encode_utf8(&mut buf),
        };
        let n = piece.chars().count();
        if used + n > max {
            out.truncate(keep);
            out.push('…');
            return out;
        }
        out.push_str(piece);
        used += n;
        if used < max {
            keep = out.len();
        }
    }
    out
}

/// Cuts a rendered DM to `max` characters, marking the cut with `…` and never splitting an escape (`&amp;`).
pub fn cap_text(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut = text
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(text.len(), |(i, _)| i);
    let mut kept = &text[..cut];
    if let Some(amp) = kept.rfind('&')
        && !kept[amp..].contains(';')
    {
        kept = &kept[..amp];
    }
    format!("{kept}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_without_splitting_an_escape() {
        assert_eq!(cap_text("short", 10), "short");
        assert_eq!(cap_text("abcdefghijk", 5), "abcd…");
        assert_eq!(cap_text("ab&amp;cd", 5), "ab…");
        assert_eq!(cap_text(&"é".repeat(50), 10).chars().count(), 10);
    }

    #[test]
    fn escapes_are_never_split() {
        assert_eq!(escape_slack("a<b>&c", 100), "a&lt;b&gt;&amp;c");
        assert_eq!(escape_slack("ab<cd", 4), "ab…");
        assert_eq!(escape_slack("line\nbreak", 100), "line break");
    }
}
