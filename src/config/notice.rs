//! The notice to the person whose profile changes.

use super::ConfigError;
use super::reader::Reader;
use crate::claims::ClaimSet;
use crate::notify::notice::{NoticeMode, NoticeSettings};

/// `USER_NOTICE`, `USER_NOTICE_CLAIMS` (by default the sensitive claims), `USER_NOTICE_NEW_ADDRESS`,
/// `SUPPORT_CONTACT`.
pub(super) fn settings(
    r: &Reader<'_>,
    sensitive: &ClaimSet,
) -> Result<NoticeSettings, ConfigError> {
    Ok(NoticeSettings {
        mode: r.choice(
            "USER_NOTICE",
            NoticeMode::All,
            &[
                ("off", NoticeMode::Off),
                ("others", NoticeMode::Others),
                ("all", NoticeMode::All),
            ],
        )?,
        claims: r
            .parsed("USER_NOTICE_CLAIMS", ClaimSet::parse)?
            .unwrap_or_else(|| sensitive.clone()),
        new_address: r.flag("USER_NOTICE_NEW_ADDRESS", false)?,
        support_contact: support_contact(r)?,
    })
}

/// The contact goes into the notice as one line of text.
fn support_contact(r: &Reader<'_>) -> Result<Option<String>, ConfigError> {
    match r.get("SUPPORT_CONTACT") {
        Some(v) if v.chars().any(char::is_control) || v.chars().count() > 200 => {
            Err(ConfigError::new(
                "SUPPORT_CONTACT",
                "must be one line of at most 200 characters (an address, a phone number or a URL)",
            ))
        }
        other => Ok(other),
    }
}
