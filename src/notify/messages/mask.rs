//! How attribute values appear in messages: masked by default, so an alert in a shared mailbox does not leak the
//! personal data it is about.

use crate::action::ClaimValue;

pub use crate::notify::settings::ValueDisplay;

/// The most `*` a masked value shows: more would tell how long the value is.
const MAX_STARS: usize = 5;

/// Masks one value by its kind, showing a small fixed share of it: an e-mail address keeps its first character
/// and its domain, a phone number its first five and last two characters, anything else its first character.
/// Only a value that really has the shape of an address shows more than a few characters (its domain): free text
/// that merely holds an `@` is masked like any other text.
pub fn mask(value: &str) -> String {
    if let Some((first, domain)) = address_parts(value) {
        return format!("{first}***@{domain}");
    }
    let chars: Vec<char> = value.chars().collect();
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
        out.extend(std::iter::repeat_n('*', (n - head - tail).min(MAX_STARS)));
        out.extend(&chars[n - tail..]);
        return out;
    }
    match chars.first() {
        Some(first) if chars.len() > 1 => format!("{first}***"),
        _ => "***".to_owned(),
    }
}

/// The first character and the domain of a value shaped like an address: a local part of one short run of
/// visible characters, then `@` and a domain (which holds no second `@`).
fn address_parts(value: &str) -> Option<(char, &str)> {
    let (local, domain) = value.split_once('@')?;
    let plausible_local =
        local.len() <= 64 && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    let first = local.chars().next()?;
    (plausible_local && is_domain(domain)).then_some((first, domain))
}

/// `mail.example.co.uk`: at least two labels of ASCII letters, digits and inner hyphens, within DNS's lengths.
fn is_domain(domain: &str) -> bool {
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    domain.len() <= 253 && domain.split('.').count() >= 2 && domain.split('.').all(label_ok)
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
    use proptest::prelude::*;

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

    #[test]
    fn only_a_real_address_shows_its_domain() {
        assert_eq!(mask("x@URGENT call +15550100"), "x***");
        assert_eq!(mask("a@b@wso2.com"), "a***");
        assert_eq!(mask("a b@wso2.com"), "a***");
        assert_eq!(mask("x@localhost"), "x***");
        assert_eq!(mask("x@-bad.example"), "x***");
        assert_eq!(mask("x@wso2..com"), "x***");
        assert_eq!(mask("x@wso2.com."), "x***");
        assert_eq!(mask("x@e\u{301}.com"), "x***");
        assert_eq!(
            mask("Emily.Jones@mail.bar-1.co.uk"),
            "E***@mail.bar-1.co.uk"
        );
    }

    #[test]
    fn the_length_of_a_long_value_stays_hidden() {
        let short = mask("+94771223448");
        assert_eq!(mask(&format!("+9477{}48", "1".repeat(4000))), short);
        assert_eq!(mask(&"5".repeat(40)), "55555*****55");
        assert_eq!(mask(&"word ".repeat(1000)), "w***");
    }

    /// Characters of a value a masked form may show in one piece (a phone number's head); a validated domain
    /// apart.
    const SHOWN_AT_MOST: usize = 5;

    /// The masked form without the domain of a value that is an address by a plain test-side rule.
    fn without_domain<'a>(value: &str, masked: &'a str) -> &'a str {
        let domain = value.split_once('@').map(|(_, d)| d).filter(|d| {
            !d.is_empty()
                && d.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        });
        match domain {
            Some(d) => masked.strip_suffix(&format!("@{d}")).unwrap_or(masked),
            None => masked,
        }
    }

    fn check_leaks(value: &str, masked: &str) -> Result<(), TestCaseError> {
        let shown = without_domain(value, masked);
        prop_assert!(shown.chars().count() <= 12, "{masked:?} is too long");
        let chars: Vec<char> = value.chars().collect();
        for window in chars.windows(SHOWN_AT_MOST + 1) {
            let piece: String = window.iter().collect();
            prop_assert!(
                !shown.contains(&piece),
                "{masked:?} shows {piece:?} of {value:?}"
            );
        }
        if value.chars().any(char::is_alphabetic) {
            // Free text: at most its first character, never a word of it.
            let visible: String = shown.chars().filter(|&c| c != '*').collect();
            prop_assert!(visible.chars().count() <= 1 && value.starts_with(&visible));
            for word in value.split_whitespace().filter(|w| w.chars().count() > 1) {
                prop_assert!(
                    !visible.contains(word),
                    "{masked:?} shows the word {word:?}"
                );
            }
        }
        Ok(())
    }

    fn hostile() -> impl Strategy<Value = String> {
        prop_oneof![
            // free text
            "[A-Za-z]{1,12}( [A-Za-z0-9+!]{1,12}){1,8}",
            // an `@` in a phone claim
            "[a-z]{0,3}@[A-Za-z ]{1,20} \\+?[0-9]{6,12}",
            // several `@`
            "[a-z0-9.+ -]{0,10}(@[a-z0-9. ]{0,10}){2,4}",
            // short values
            ".{0,3}",
            // unicode
            "\\PC{0,40}",
            any::<String>(),
            // very long values
            "[a-z0-9 @.+-]{1000,5000}",
            "\\+?[0-9]{10,3000}",
            // what the masks are for: addresses and phone numbers
            "[a-z]{1,10}@[a-z0-9-]{1,12}(\\.[a-z]{2,6}){1,2}",
            "\\+?[0-9 ()-]{4,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_masked_value_shows_only_a_small_fixed_share(value in hostile()) {
            check_leaks(&value, &mask(&value))?;
        }

        #[test]
        fn each_value_of_a_multi_valued_claim_is_masked_on_its_own(
            values in prop::collection::vec(hostile(), 0..6)
        ) {
            let claim = ClaimValue::Multi(values);
            let shown = display(&claim, ValueDisplay::Masked);
            if claim.is_cleared() {
                prop_assert_eq!(shown, "(cleared)");
            } else {
                let pieces: Vec<String> = claim.values().map(mask).collect();
                prop_assert_eq!(&shown, &pieces.join(", "));
                for (value, piece) in claim.values().zip(&pieces) {
                    check_leaks(value, piece)?;
                }
            }
            let _ = display(&claim, ValueDisplay::Full);
            let _ = display(&claim, ValueDisplay::None);
        }
    }
}
