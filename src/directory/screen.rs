//! Values that cannot name a department are refused before any directory is asked, so a department always
//! stays in its one path segment.

use async_trait::async_trait;

use super::{Directory, DirectoryError};
use crate::policy::Membership;

/// The longest department value any directory is asked about, in bytes. Department names are short; a longer
/// value is a mistake or a probe, and would make a URL some servers refuse.
pub const MAX_DEPARTMENT_BYTES: usize = 256;

/// Why a value cannot name a department, so no directory is asked about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotADepartment {
    Empty,
    /// `.` or `..`: URL parsers treat them as dot segments even percent-encoded (`%2E%2E`), so
    /// `/departments/..` would ask for `/` instead.
    DotSegment,
    ControlCharacter,
    TooLong,
}

impl NotADepartment {
    pub fn as_str(self) -> &'static str {
        match self {
            NotADepartment::Empty => "empty",
            NotADepartment::DotSegment => "dot_segment",
            NotADepartment::ControlCharacter => "control_character",
            NotADepartment::TooLong => "too_long",
        }
    }
}

/// Whether `value` may be looked up. Every other value, percent-encoded by `UrlTemplate::expand`, stays in the
/// one path segment (or query value) the template gives it.
pub fn screen(value: &str) -> Result<(), NotADepartment> {
    if value.is_empty() {
        Err(NotADepartment::Empty)
    } else if value.len() > MAX_DEPARTMENT_BYTES {
        Err(NotADepartment::TooLong)
    } else if value == "." || value == ".." {
        Err(NotADepartment::DotSegment)
    } else if value.chars().any(char::is_control) {
        Err(NotADepartment::ControlCharacter)
    } else {
        Ok(())
    }
}

/// Stands in front of every directory (and its cache, so junk is never cached): a value `screen` refuses is
/// unknown without a call.
pub struct ScreenedDirectory(pub Box<dyn Directory>);

#[async_trait]
impl Directory for ScreenedDirectory {
    async fn lookup(&self, department: &str) -> Result<Membership, DirectoryError> {
        if let Err(why) = screen(department) {
            tracing::info!(
                target: "profile_guard::directory",
                reason = why.as_str(),
                value_bytes = department.len(),
                "department value refused without asking the directory"
            );
            return Ok(Membership::Unknown);
        }
        self.0.lookup(department).await
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}
