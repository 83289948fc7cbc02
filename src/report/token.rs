//! The report link's token: `v1.<payload>.<mac>`, both parts unpadded URL-safe base64. The payload is a compact
//! JSON naming the change (source, tenant, user id, reference, when, by whom, the changed attributes' names with
//! their values masked) and the link's expiry; the MAC is HMAC-SHA256 over a fixed label and the payload text,
//! with `REPORT_LINK_SECRET`. Nothing in it is an address or a value in clear, and nothing of it is trusted before
//! its MAC is checked (in constant time): a token is only ever read through [`LinkKey::verify`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::notify::report_link::{ChangeSource, ChangedBy, LinkedChange, LinkedLine, ReportLinks};

use super::settings::ReportUrlBase;

/// The shortest key accepted, in bytes: as long as the MAC.
pub const MIN_KEY_BYTES: usize = 32;
/// The longest token made or read, in characters. With the longest base URL a link stays within what one value
/// of a Slack text may hold; a longer one names fewer attribute lines.
pub const MAX_TOKEN_CHARS: usize = 700;
/// The longest id or reference a token names, in bytes: far above any real one (a UUID, an Okta id).
const MAX_ID_BYTES: usize = 128;
const VERSION: &str = "v1";
/// HMAC-SHA256's length.
const MAC_BYTES: usize = 32;
/// What the MAC covers besides the payload: a token is never valid as anything else signed with the same key.
const LABEL: &[u8] = b"profile-guard report link v1.";

/// Why a token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this shape or version (cut short, mangled, another tool's).
    #[error("malformed")]
    Malformed,
    /// Well formed, but not signed with this key: altered, or made by another deployment.
    #[error("bad signature")]
    Signature,
    /// Genuine, but its time is up.
    #[error("expired")]
    Expired,
}

impl TokenError {
    /// The audit line's `decision`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed_link",
            TokenError::Signature => "foreign_link",
            TokenError::Expired => "expired_link",
        }
    }
}

/// The key is shorter than [`MIN_KEY_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be at least 32 bytes long (e.g. the output of `openssl rand -hex 32`)")]
pub struct KeyTooShort;

/// The signing key, keyed once at start-up; the secret itself is not kept.
#[derive(Clone)]
pub struct LinkKey {
    mac: Hmac<Sha256>,
}

/// A token that was checked: what it names, and until when it works. Made only by [`LinkKey::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub change: LinkedChange,
    pub expires: SystemTime,
}

/// The payload as it travels: short names, a link has little room.
#[derive(Serialize, Deserialize)]
struct Payload {
    #[serde(rename = "s")]
    source: String,
    #[serde(rename = "t")]
    tenant: String,
    #[serde(rename = "u")]
    user_id: String,
    #[serde(rename = "r")]
    reference: String,
    #[serde(rename = "a")]
    at: u64,
    #[serde(rename = "e")]
    expires: u64,
    #[serde(rename = "b")]
    changed_by: String,
    #[serde(rename = "c")]
    lines: Vec<(String, Option<String>)>,
    #[serde(rename = "m", default)]
    more: usize,
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn source_code(source: ChangeSource) -> &'static str {
    match source {
        ChangeSource::Wso2 => "w",
        ChangeSource::Okta => "o",
    }
}

fn by_code(by: ChangedBy) -> &'static str {
    match by {
        ChangedBy::Person => "p",
        ChangedBy::Administrator => "a",
        ChangedBy::AnotherUser => "o",
        ChangedBy::Application => "x",
        ChangedBy::Unknown => "u",
    }
}

impl LinkKey {
    pub fn new(secret: &SecretString) -> Result<Self, KeyTooShort> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyTooShort);
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(bytes).map_err(|_| KeyTooShort)?;
        Ok(LinkKey { mac })
    }

    fn mac_of(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(LABEL);
        mac.update(payload.as_bytes());
        mac
    }

    /// A token for `change` that works until `expires`; attribute lines that do not fit are counted, not named.
    /// `None` when the change's ids alone are too long for a link.
    pub fn sign(&self, change: &LinkedChange, expires: SystemTime) -> Option<String> {
        if change.user_id.len() > MAX_ID_BYTES || change.reference.len() > MAX_ID_BYTES {
            return None;
        }
        let mut payload = Payload {
            source: source_code(change.source).to_owned(),
            tenant: change.tenant.clone(),
            user_id: change.user_id.clone(),
            reference: change.reference.clone(),
            at: epoch_secs(change.at),
            expires: epoch_secs(expires),
            changed_by: by_code(change.changed_by).to_owned(),
            lines: change
                .lines
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect(),
            more: change.more,
        };
        loop {
            let json = serde_json::to_vec(&payload).ok()?;
            let body = URL_SAFE_NO_PAD.encode(json);
            let mac = URL_SAFE_NO_PAD.encode(self.mac_of(&body).finalize().into_bytes());
            let token = format!("{VERSION}.{body}.{mac}");
            if token.len() <= MAX_TOKEN_CHARS {
                return Some(token);
            }
            payload.lines.pop()?;
            payload.more += 1;
        }
    }

    /// Reads a token: its shape, then its MAC, then what it says, then its expiry, in that order (so nothing of
    /// an altered token is parsed, and only a genuine token is told apart as expired).
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(VERSION), Some(body), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let given = URL_SAFE_NO_PAD
            .decode(mac)
            .ok()
            .filter(|m| m.len() == MAC_BYTES)
            .ok_or(TokenError::Malformed)?;
        self.mac_of(body)
            .verify_slice(&given)
            .map_err(|_| TokenError::Signature)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        let verified = verified(payload).ok_or(TokenError::Malformed)?;
        if verified.expires <= now {
            return Err(TokenError::Expired);
        }
        Ok(verified)
    }
}

/// The payload's meaning; `None` for codes this version does not write.
fn verified(p: Payload) -> Option<Verified> {
    let source = match p.source.as_str() {
        "w" => ChangeSource::Wso2,
        "o" => ChangeSource::Okta,
        _ => return None,
    };
    let changed_by = match p.changed_by.as_str() {
        "p" => ChangedBy::Person,
        "a" => ChangedBy::Administrator,
        "o" => ChangedBy::AnotherUser,
        "x" => ChangedBy::Application,
        "u" => ChangedBy::Unknown,
        _ => return None,
    };
    let at = UNIX_EPOCH.checked_add(Duration::from_secs(p.at))?;
    let expires = UNIX_EPOCH.checked_add(Duration::from_secs(p.expires))?;
    Some(Verified {
        change: LinkedChange {
            source,
            tenant: p.tenant,
            user_id: p.user_id,
            reference: p.reference,
            at,
            changed_by,
            lines: p
                .lines
                .into_iter()
                .map(|(name, value)| LinkedLine { name, value })
                .collect(),
            more: p.more,
        },
        expires,
    })
}

/// Makes the links notices carry: built once at start-up.
pub struct LinkSigner {
    pub key: LinkKey,
    pub base: ReportUrlBase,
    /// `REPORT_LINK_TTL_SECS`.
    pub ttl: Duration,
}

impl ReportLinks for LinkSigner {
    fn link(&self, change: &LinkedChange) -> Option<String> {
        let token = self.key.sign(change, SystemTime::now() + self.ttl)?;
        Some(self.base.link(&token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

    fn key() -> LinkKey {
        LinkKey::new(&SecretString::from(SECRET)).unwrap()
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn change() -> LinkedChange {
        LinkedChange {
            source: ChangeSource::Wso2,
            tenant: "testwso2".into(),
            user_id: "57b22cbf-4688-476c-a607-c0c9d089d25d".into(),
            reference: "6783a180f817075313ea3fb01d79c221".into(),
            at: at(1_764_000_000),
            changed_by: ChangedBy::Administrator,
            lines: vec![
                LinkedLine {
                    name: "Mobile number".into(),
                    value: Some("+9477*****48".into()),
                },
                LinkedLine {
                    name: "Department".into(),
                    value: None,
                },
            ],
            more: 0,
        }
    }

    #[test]
    fn a_token_reads_back_what_it_was_made_with() {
        let token = key().sign(&change(), at(1_764_604_800)).unwrap();
        assert!(token.starts_with("v1."), "{token}");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "URL-safe: {token}"
        );
        let verified = key().verify(&token, at(1_764_000_001)).unwrap();
        assert_eq!(verified.change, change());
        assert_eq!(verified.expires, at(1_764_604_800));
    }

    #[test]
    fn no_clear_value_or_address_is_in_a_token() {
        let token = key().sign(&change(), at(1_764_604_800)).unwrap();
        let body = token.split('.').nth(1).unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        assert!(json.contains("+9477*****48"), "the masked value: {json}");
        assert!(!json.contains('@'), "{json}");
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let token = key().sign(&change(), at(2_000)).unwrap();
        assert_eq!(
            key().verify(&token, at(2_000)).unwrap_err(),
            TokenError::Expired
        );
        assert!(key().verify(&token, at(1_999)).is_ok());
        let other =
            LinkKey::new(&SecretString::from("another-deployment-key-of-32-bytes!!")).unwrap();
        assert_eq!(
            other.verify(&token, at(1_000)).unwrap_err(),
            TokenError::Signature
        );
        // The expiry pushed forward by hand: the MAC no longer matches.
        let (head, mac) = token.rsplit_once('.').unwrap();
        let body = head.strip_prefix("v1.").unwrap();
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(json.replace("\"e\":2000", "\"e\":9999999999"));
        assert_eq!(
            key()
                .verify(&format!("v1.{forged}.{mac}"), at(3_000))
                .unwrap_err(),
            TokenError::Signature
        );
        for malformed in [
            "",
            "v1",
            "v1..",
            "v2.a.b",
            "v1.a.b.c",
            "v1.@@.@@",
            &token[..20],
        ] {
            assert_eq!(
                key().verify(malformed, at(1_000)).unwrap_err(),
                TokenError::Malformed,
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(LinkKey::new(&SecretString::from("x".repeat(31))).is_err());
        assert!(LinkKey::new(&SecretString::from("x".repeat(32))).is_ok());
    }

    #[test]
    fn lines_that_do_not_fit_are_counted() {
        let mut long = change();
        long.lines = (0..40)
            .map(|i| LinkedLine {
                name: format!("Attribute number {i} with a long name"),
                value: Some("v***".into()),
            })
            .collect();
        let token = key().sign(&long, at(9_000)).unwrap();
        assert!(token.len() <= MAX_TOKEN_CHARS);
        let back = key().verify(&token, at(1)).unwrap().change;
        assert!(back.lines.len() < 40 && !back.lines.is_empty());
        assert_eq!(back.lines.len() + back.more, 40);
        let mut huge = change();
        huge.user_id = "u".repeat(MAX_ID_BYTES + 1);
        assert_eq!(key().sign(&huge, at(9_000)), None);
    }

    fn arbitrary_change() -> impl Strategy<Value = LinkedChange> {
        let text = "\\PC{0,40}";
        (
            text,
            "[a-zA-Z0-9-]{1,64}",
            "[a-zA-Z0-9@.-]{1,64}",
            0u64..4_000_000_000,
            proptest::collection::vec((text, proptest::option::of(text)), 0..6),
            any::<bool>(),
        )
            .prop_map(
                |(tenant, user_id, reference, secs, lines, okta)| LinkedChange {
                    source: if okta {
                        ChangeSource::Okta
                    } else {
                        ChangeSource::Wso2
                    },
                    tenant,
                    user_id,
                    reference,
                    at: at(secs),
                    changed_by: if okta {
                        ChangedBy::AnotherUser
                    } else {
                        ChangedBy::Person
                    },
                    lines: lines
                        .into_iter()
                        .map(|(name, value)| LinkedLine { name, value })
                        .collect(),
                    more: 0,
                },
            )
    }

    proptest! {
        #[test]
        fn any_text_is_refused_without_a_panic(token in "\\PC{0,800}") {
            prop_assert!(key().verify(&token, at(0)).is_err());
        }

        #[test]
        fn token_shaped_text_is_refused(body in "[A-Za-z0-9_-]{0,300}", mac in "[A-Za-z0-9_-]{0,60}") {
            let token = format!("v1.{}.{}", body, mac);
            prop_assert!(key().verify(&token, at(0)).is_err());
        }

        #[test]
        fn what_is_signed_reads_back(change in arbitrary_change()) {
            let token = key().sign(&change, at(4_100_000_000)).unwrap();
            let back = key().verify(&token, at(0)).unwrap().change;
            prop_assert_eq!(back.lines.len() + back.more, change.lines.len());
            prop_assert_eq!(&back.lines[..], &change.lines[..back.lines.len()]);
            prop_assert_eq!(back.user_id, change.user_id);
            prop_assert_eq!(back.reference, change.reference);
        }

        #[test]
        fn any_changed_character_breaks_the_token(change in arbitrary_change(), at_char in any::<prop::sample::Index>(), by in 1u8..64) {
            let token = key().sign(&change, at(4_100_000_000)).unwrap();
            let mut bytes = token.clone().into_bytes();
            let i = at_char.index(bytes.len());
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
            let pos = ALPHABET.iter().position(|c| *c == bytes[i]).unwrap_or(0);
            bytes[i] = ALPHABET[(pos + usize::from(by)) % ALPHABET.len()];
            let altered = String::from_utf8(bytes).unwrap();
            prop_assume!(altered != token);
            prop_assert!(key().verify(&altered, at(0)).is_err());
        }
    }
}
