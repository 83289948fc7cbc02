//! Text from a request made safe for one line of a message or a log field.

/// Control characters become spaces, at most `max` characters, with `…` marking a cut.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out
}
