//! How attribute values appear in messages: masked by default, so an alert in a shared mailbox does not leak the
//! personal data it is about.

use std::str::FromStr;

use crate::action::ClaimValue;

/// `ALERT_VALUES`: how much of a value a message shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueDisplay {
    /// `t***@wso2.com`, `+9477*****48`, `E***`.
    #[default]
    Masked,
    /// The value as it is.
    Full,
    /// Only the attribute's name.
    None,
}

impl FromStr for ValueDisplay {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s.to_ascii_lowercase().as_str() {
            "masked" => Ok(ValueDisplay::Masked),
            "full" => Ok(ValueDisplay::Full),
            "none" => Ok(ValueDisplay::None),
            _ => Err(()),
        }
    }
}

/// Masks one value by its kind: an e-mail address keeps its first character and its domain, a phone number its
/// first five and last two characters, anything else its first character.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if let Some((local, domain)) = value.split_once('@')
        && let Some(first) = local.chars().next()
    {
        return format!("{first}***@{domain}");
    }
    if is_phone_like(value) {
        let n = chars.len();
        let (head, tail) = if n >= 10 {
            (5, 2)
        } else if n >= 5 {
            (1, 2)
        } else {
            (0, 0)
        };
        let mut out: String = chars[..head].iter().collect();
        out.extend(std::iter::repeat_n('*', n - head - tail));
        out.extend(&chars[n - tail..]);
        return out;
    }
    match chars.first() {
        Some(first) if chars.len() > 1 => format!("{first}***"),
        _ => "***".to_owned(),
    }
}

fn is_phone_like(value: &str) -> bool {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    digits >= 4
        && value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
}

/// A claim value as a message shows it.
pub fn display(value: &ClaimValue, how: ValueDisplay) -> String {
    if value.is_cleared() {
        return "(cleared)".to_owned();
    }
    match how {
        ValueDisplay::None => "(hidden)".to_owned(),
        ValueDisplay::Full => value.values().collect::<Vec<_>>().join(", "),
        ValueDisplay::Masked => value.values().map(mask).collect::<Vec<_>>().join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_like_the_examples() {
        assert_eq!(mask("testuser@wso2.com"), "t***@wso2.com");
        assert_eq!(mask("+94771223448"), "+9477*****48");
        assert_eq!(mask("Engineering"), "E***");
        assert_eq!(mask("HR"), "H***");
        assert_eq!(mask("x"), "***");
        assert_eq!(mask(""), "***");
        assert_eq!(mask("5551234"), "5****34");
        assert_eq!(mask("@nolocal"), "@***");
    }

    #[test]
    fn masking_never_panics_on_unicode() {
        for s in ["é", "éé@ü.example", "📱📱📱📱📱", "١٢٣٤٥٦٧٨٩٠"] {
            let _ = mask(s);
        }
    }

    #[test]
    fn display_follows_the_setting() {
        let v = ClaimValue::Multi(vec!["a@x.org".into(), "bob@y.org".into()]);
        assert_eq!(display(&v, ValueDisplay::Masked), "a***@x.org, b***@y.org");
        assert_eq!(display(&v, ValueDisplay::Full), "a@x.org, bob@y.org");
        assert_eq!(display(&v, ValueDisplay::None), "(hidden)");
        assert_eq!(
            display(&ClaimValue::Single(String::new()), ValueDisplay::Full),
            "(cleared)"
        );
    }
}
