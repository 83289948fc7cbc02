//! Typed reads of single variables: numbers, flags, choices, lists, secrets and e-mail addresses. Every error
//! names the variable it is about.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use secrecy::SecretString;

use super::ConfigError;
use crate::claims::EmailAddress;
use crate::secrets::SecretSource;

/// Reads variables through a lookup; a value is trimmed and an empty one counts as unset.
pub(super) struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Reader<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Reader { lookup }
    }

    pub(super) fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn is_set(&self, var: &str) -> bool {
        self.get(var).is_some()
    }

    /// The value parsed by `parse`, whose error is the problem with it.
    pub(super) fn parsed<T, E: Display>(
        &self,
        var: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConfigError> {
        self.get(var)
            .map(|v| parse(&v).map_err(|p| ConfigError::new(var, p.to_string())))
            .transpose()
    }

    /// A whole number within `range`; `unit` names what it counts in the error line.
    pub(super) fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(v) = self.get(var) else {
            return Ok(default);
        };
        match v.parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(ConfigError::new(
                var,
                format!(
                    "{v:?} must be a whole number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    pub(super) fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off") => Ok(false),
            Some(v) => Err(ConfigError::new(var, format!("{v:?} is not true or false"))),
        }
    }

    /// One of `options`, matched case-insensitively.
    pub(super) fn choice<T: Copy>(
        &self,
        var: &'static str,
        default: T,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let Some(v) = self.get(var) else {
            return Ok(default);
        };
        let lower = v.to_ascii_lowercase();
        options
            .iter()
            .find(|(name, _)| *name == lower)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                ConfigError::new(var, format!("{v:?} is not one of {}", names.join(", ")))
            })
    }

    /// A secret setting: `inline_var` holds the value itself, `secret_var` the Secrets Manager secret to read it
    /// from; setting both is ambiguous and refused.
    pub(super) fn secret(
        &self,
        inline_var: &'static str,
        secret_var: &'static str,
    ) -> Result<Option<SecretSource>, ConfigError> {
        match (self.get(inline_var), self.get(secret_var)) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                secret_var,
                format!("set either {inline_var} or {secret_var}, not both"),
            )),
            (Some(value), None) => Ok(Some(SecretSource::Inline(SecretString::from(value)))),
            (None, Some(id)) => Ok(Some(SecretSource::SecretsManager {
                id,
                var: secret_var,
            })),
            (None, None) => Ok(None),
        }
    }

    /// One e-mail address.
    pub(super) fn address(&self, var: &'static str) -> Result<Option<EmailAddress>, ConfigError> {
        self.get(var)
            .map(|v| {
                EmailAddress::parse(&v)
                    .map_err(|_| ConfigError::new(var, format!("{v:?} is not an e-mail address")))
            })
            .transpose()
    }

    /// A comma-separated list of e-mail addresses naming at least one.
    pub(super) fn addresses(
        &self,
        var: &'static str,
    ) -> Result<Option<Vec<EmailAddress>>, ConfigError> {
        self.get(var).map(|v| address_list(var, &v)).transpose()
    }
}

/// A list of channels among `email` and `slack` (`email`, `slack`, or both): `None` when unset. `both` is how the
/// error text spells the choice of both.
pub(super) fn email_and_slack(
    r: &Reader<'_>,
    var: &'static str,
    both: &str,
) -> Result<Option<(bool, bool)>, ConfigError> {
    let hint = format!("use email, slack or {both}");
    Ok(channel_list(r, var, &["email", "slack"], &hint)?
        .map(|named| (named.contains(&"email"), named.contains(&"slack"))))
}

/// A comma-separated list of channels, each one of `known`: `None` when unset. `hint` says what to write.
pub(super) fn channel_list(
    r: &Reader<'_>,
    var: &'static str,
    known: &[&'static str],
    hint: &str,
) -> Result<Option<Vec<&'static str>>, ConfigError> {
    let Some(v) = r.get(var) else {
        return Ok(None);
    };
    let mut named = Vec::new();
    for item in list(&v.to_ascii_lowercase()) {
        match known.iter().find(|k| **k == item) {
            Some(k) => named.push(*k),
            None => {
                let problem = format!("{item:?} is not a channel: {hint}");
                return Err(ConfigError::new(var, problem));
            }
        }
    }
    if named.is_empty() {
        return Err(ConfigError::new(var, format!("names no channel: {hint}")));
    }
    Ok(Some(named))
}

/// The items of a comma-separated list, trimmed, empty ones dropped.
pub(super) fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn address_list(var: &'static str, raw: &str) -> Result<Vec<EmailAddress>, ConfigError> {
    let items = list(raw);
    if items.is_empty() {
        return Err(ConfigError::new(var, "names no e-mail address"));
    }
    items
        .iter()
        .map(|a| {
            EmailAddress::parse(a)
                .map_err(|_| ConfigError::new(var, format!("{a:?} is not an e-mail address")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read<T>(vars: &[(&str, &str)], f: impl FnOnce(&Reader<'_>) -> T) -> T {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        f(&Reader::new(&lookup))
    }

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        read(&[("A", "  "), ("B", " x ")], |r| {
            assert_eq!(r.get("A"), None);
            assert!(!r.is_set("A") && !r.is_set("C"));
            assert_eq!(r.get("B").as_deref(), Some("x"));
        });
    }

    #[test]
    fn numbers_flags_and_choices_name_the_variable() {
        read(
            &[("N", "7"), ("BIG", "70"), ("F", "Yes"), ("C", "Two")],
            |r| {
                assert_eq!(r.number("N", 1u64, 1..=10, "things"), Ok(7));
                assert_eq!(r.number("UNSET", 3u64, 1..=10, "things"), Ok(3));
                let err = r.number("BIG", 1u64, 1..=10, "things").unwrap_err();
                assert_eq!(
                    err.to_string(),
                    "BIG: \"70\" must be a whole number of things from 1 to 10"
                );
                assert_eq!(r.flag("F", false), Ok(true));
                assert_eq!(r.flag("C", false).unwrap_err().var, "C");
                assert_eq!(r.choice("C", 1, &[("one", 1), ("two", 2)]), Ok(2));
                let err = r.choice("F", 1, &[("one", 1), ("two", 2)]).unwrap_err();
                assert_eq!(err.to_string(), "F: \"Yes\" is not one of one, two");
            },
        );
    }

    #[test]
    fn secrets_come_from_one_place_only() {
        read(&[("T", "tok"), ("S", "arn:s")], |r| {
            assert!(matches!(
                r.secret("T", "UNSET"),
                Ok(Some(SecretSource::Inline(_)))
            ));
            assert!(matches!(
                r.secret("UNSET", "S"),
                Ok(Some(SecretSource::SecretsManager { var: "S", .. }))
            ));
            assert!(matches!(r.secret("UNSET", "NONE"), Ok(None)));
            assert_eq!(r.secret("T", "S").unwrap_err().var, "S");
        });
    }

    #[test]
    fn address_lists_are_parsed_once() {
        read(
            &[
                ("L", " a@x.org, ,b@y.org "),
                ("E", " , "),
                ("B", "a@x.org,nobody"),
            ],
            |r| {
                let list = r.addresses("L").unwrap().unwrap();
                assert_eq!(list, ["a@x.org", "b@y.org"]);
                assert_eq!(r.addresses("UNSET"), Ok(None));
                assert_eq!(
                    r.addresses("E").unwrap_err().to_string(),
                    "E: names no e-mail address"
                );
                assert_eq!(
                    r.addresses("B").unwrap_err().to_string(),
                    "B: \"nobody\" is not an e-mail address"
                );
                assert_eq!(r.address("L").unwrap_err().var, "L");
            },
        );
    }
}
