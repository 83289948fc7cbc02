//! Claims as the service names them: the URIs it reads, sets of URIs chosen in the configuration, readable names
//! for messages, and the e-mail address a claim or a setting may hold.

use std::collections::HashSet;
use std::fmt;

use crate::action::WSO2_CLAIM_PREFIX;
use crate::text::one_line;

pub const DEPARTMENT_CLAIM: &str = "http://wso2.org/claims/department";
pub const EMAIL_CLAIM: &str = "http://wso2.org/claims/emailaddress";
pub const USERNAME_CLAIM: &str = "http://wso2.org/claims/username";
pub const GIVEN_NAME_CLAIM: &str = "http://wso2.org/claims/givenname";

/// The default sensitive set: changes to these claims raise a security alert.
pub const DEFAULT_SENSITIVE_CLAIMS: &[&str] = &[
    "emailaddress",
    "emailAddresses",
    "mobile",
    "mobileNumbers",
    "telephone",
    "department",
];

/// Claims WSO2 updates by itself beside the one a person changes, each with the claim it follows: a commit event
/// may name either or both, so a change is matched by the family, never the exact set.
const COMPANIONS: &[(&str, &str)] = &[
    ("http://wso2.org/claims/emailAddresses", EMAIL_CLAIM),
    (
        "http://wso2.org/claims/mobileNumbers",
        "http://wso2.org/claims/mobile",
    ),
];

/// The claim a companion claim follows (`emailAddresses` → `emailaddress`); any other claim is its own family.
pub fn family(uri: &str) -> &str {
    COMPANIONS
        .iter()
        .find(|(companion, _)| *companion == uri)
        .map_or(uri, |(_, leader)| leader)
}

/// Whether a change of `uri` is one the person's notice is about: a claim of `set` (or of its family), or the
/// e-mail address, which always is. The one filter of both sides of a notice: the pre-update call and the commit.
pub fn is_notice_claim(set: &ClaimSet, uri: &str) -> bool {
    let family = family(uri);
    family == EMAIL_CLAIM || set.contains(uri) || set.contains(family)
}

/// A set of claim URIs, given as full URIs or short names under `http://wso2.org/claims/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimSet(HashSet<String>);

impl ClaimSet {
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut set = HashSet::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("claim {item:?} contains white space"));
            }
            set.insert(full_claim_uri(item));
        }
        if set.is_empty() {
            return Err("names no claim".into());
        }
        Ok(ClaimSet(set))
    }

    pub fn defaults() -> Self {
        ClaimSet(
            DEFAULT_SENSITIVE_CLAIMS
                .iter()
                .map(|c| full_claim_uri(c))
                .collect(),
        )
    }

    pub fn contains(&self, uri: &str) -> bool {
        self.0.contains(uri)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// `mobile` → `http://wso2.org/claims/mobile`; a full URI is kept as it is.
pub fn full_claim_uri(name: &str) -> String {
    if name.contains("://") {
        name.to_owned()
    } else {
        format!("{WSO2_CLAIM_PREFIX}{name}")
    }
}

/// A readable name for a claim URI.
pub fn readable_name(uri: &str) -> String {
    let short = uri.strip_prefix(WSO2_CLAIM_PREFIX).unwrap_or(uri);
    let known = match short {
        "emailaddress" => "Email address",
        "emailAddresses" => "Email addresses",
        "verifyEmailAddresses" => "Email addresses to verify",
        "mobile" => "Mobile number",
        "mobileNumbers" => "Mobile numbers",
        "verifyMobileNumbers" => "Mobile numbers to verify",
        "telephone" => "Telephone",
        "department" => "Department",
        "givenname" => "First name",
        "lastname" => "Last name",
        "country" => "Country",
        "organization" => "Organization",
        "username" => "Username",
        _ => return one_line(short, 120),
    };
    known.to_owned()
}

/// An e-mail address, checked once where it enters (a setting, a claim value) and carried typed from there: one
/// `@`, something either side, a dot in the domain, no spaces, commas or control characters. A plain check on
/// purpose: the mail service is the judge of deliverability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// Why a text is not an [`EmailAddress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("is not an e-mail address")]
pub struct NotAnEmailAddress;

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, NotAnEmailAddress> {
        let Some((local, domain)) = s.split_once('@') else {
            return Err(NotAnEmailAddress);
        };
        let plausible = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>' | '"')
            });
        if plausible {
            Ok(EmailAddress(s.to_owned()))
        } else {
            Err(NotAnEmailAddress)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Read back from storage: checked again, like any other text.
impl TryFrom<String> for EmailAddress {
    type Error = NotAnEmailAddress;

    fn try_from(s: String) -> Result<Self, NotAnEmailAddress> {
        EmailAddress::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(address: EmailAddress) -> String {
        address.0
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for EmailAddress {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for EmailAddress {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_claims_take_short_names_and_full_uris() {
        let set = ClaimSet::parse("mobile, http://example.com/claims/x").unwrap();
        assert!(set.contains("http://wso2.org/claims/mobile"));
        assert!(set.contains("http://example.com/claims/x"));
        assert!(!set.contains("http://wso2.org/claims/department"));
    }

    #[test]
    fn claim_names_are_readable() {
        assert_eq!(
            readable_name("http://wso2.org/claims/mobile"),
            "Mobile number"
        );
        assert_eq!(readable_name("http://wso2.org/claims/x\ny"), "x y");
        assert_eq!(readable_name("urn:custom"), "urn:custom");
        let long = format!("{WSO2_CLAIM_PREFIX}{}", "n".repeat(200));
        assert_eq!(readable_name(&long), format!("{}…", "n".repeat(120)));
    }

    #[test]
    fn an_email_address_is_checked_once_and_then_typed() {
        for good in ["sec@example.com", "emily.new@gmail.com", "a+b@x.org"] {
            let address = EmailAddress::parse(good).unwrap();
            assert_eq!(address.as_str(), good);
            assert_eq!(address, good);
            assert_eq!(address.to_string(), good);
        }
        for bad in [
            "",
            "nobody",
            "@example.com",
            "a@",
            "a@b@example.com",
            "a@localhost",
            "a b@example.com",
            "a@example.com,b@example.com",
            "a;b@example.com",
            "<a@example.com>",
            "\"a\"@example.com",
            "a@exam\nple.com",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(NotAnEmailAddress), "{bad:?}");
        }
    }
}
