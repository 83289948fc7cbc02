//! What the identity server accepts back: answers that can only hold text its parser accepts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text the identity server accepts in `failureReason`, `failureDescription`, `errorMessage` and
/// `errorDescription`: `^[a-zA-Z0-9\s\-_.!?;:'()\[\]]{1,MAX}$`. The field is private: the only ways in are the
/// checked constructors below.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ContractText<const MAX: usize>(std::borrow::Cow<'static, str>);

/// `failureReason` / `errorMessage`: 1 to 100 characters.
pub type Reason = ContractText<100>;
/// `failureDescription` / `errorDescription`: 1 to 300 characters (an empty description is left out).
pub type Description = ContractText<300>;

/// Whether one byte is in the server's character set. `\s` in Java's regex is `[ \t\n\x0B\f\r]`.
pub const fn allowed_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b' ' | b'\t'
                | b'\n'
                | 0x0B
                | 0x0C
                | b'\r'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'?'
                | b';'
                | b':'
                | b'\''
                | b'('
                | b')'
                | b'['
                | b']'
        )
}

/// Whether `s` is acceptable text of at most `max` characters.
pub const fn is_contract_text(s: &str, max: usize) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_empty() || bytes.len() > max {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if !allowed_byte(bytes[i]) {
            return false;
        }
        i += 1;
    }
    true
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "text is empty, longer than {max} characters, or has a character outside the contract's set"
)]
pub struct TextError {
    pub max: usize,
}

impl<const MAX: usize> ContractText<MAX> {
    /// For fixed texts: checked when the constant is evaluated, so a bad literal does not compile.
    pub const fn from_static(s: &'static str) -> Self {
        assert!(
            is_contract_text(s, MAX),
            "text outside the action contract's character set or length"
        );
        ContractText(std::borrow::Cow::Borrowed(s))
    }

    /// For text made at run time.
    pub fn parse(s: impl Into<String>) -> Result<Self, TextError> {
        let s = s.into();
        if is_contract_text(&s, MAX) {
            Ok(ContractText(std::borrow::Cow::Owned(s)))
        } else {
            Err(TextError { max: MAX })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for ContractText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<const MAX: usize> fmt::Display for ContractText<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The HTTP status of an `ERROR` answer: only the three the server reads an ERROR body from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStatus {
    BadRequest,
    Unauthorized,
    ServerError,
}

impl ErrorStatus {
    pub fn code(self) -> u16 {
        match self {
            ErrorStatus::BadRequest => 400,
            ErrorStatus::Unauthorized => 401,
            ErrorStatus::ServerError => 500,
        }
    }
}

/// An answer the identity server accepts, and nothing else: no `INCOMPLETE`, no `operations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "actionStatus")]
pub enum ActionResponse {
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "FAILED", rename_all = "camelCase")]
    Failed {
        failure_reason: Reason,
        failure_description: Description,
    },
    #[serde(rename = "ERROR", rename_all = "camelCase")]
    Error {
        #[serde(skip)]
        status: ErrorStatus,
        error_message: Reason,
        error_description: Description,
    },
}

impl ActionResponse {
    pub const fn failed(reason: Reason, description: Description) -> Self {
        ActionResponse::Failed {
            failure_reason: reason,
            failure_description: description,
        }
    }

    pub const fn error(status: ErrorStatus, message: Reason, description: Description) -> Self {
        ActionResponse::Error {
            status,
            error_message: message,
            error_description: description,
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            ActionResponse::Success | ActionResponse::Failed { .. } => 200,
            ActionResponse::Error { status, .. } => status.code(),
        }
    }

    /// `SUCCESS`, `FAILED` or `ERROR`.
    pub fn status_name(&self) -> &'static str {
        match self {
            ActionResponse::Success => "SUCCESS",
            ActionResponse::Failed { .. } => "FAILED",
            ActionResponse::Error { .. } => "ERROR",
        }
    }

    /// The failure reason or error message, for the audit line.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ActionResponse::Success => None,
            ActionResponse::Failed { failure_reason, .. } => Some(failure_reason.as_str()),
            ActionResponse::Error { error_message, .. } => Some(error_message.as_str()),
        }
    }

    /// A compact record of this answer, for the idempotency store.
    pub fn to_stored(&self) -> String {
        #[derive(Serialize)]
        struct Stored<'a> {
            status: u16,
            body: &'a ActionResponse,
        }
        let stored = Stored {
            status: self.http_status(),
            body: self,
        };
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// Reads a record written by [`ActionResponse::to_stored`]; `None` for anything that is not a valid answer.
    pub fn from_stored(stored: &str) -> Option<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Body {
            action_status: String,
            failure_reason: Option<String>,
            failure_description: Option<String>,
            error_message: Option<String>,
            error_description: Option<String>,
        }
        #[derive(Deserialize)]
        struct Stored {
            status: u16,
            body: Body,
        }
        let s: Stored = serde_json::from_str(stored).ok()?;
        match (s.status, s.body.action_status.as_str()) {
            (200, "SUCCESS") => Some(ActionResponse::Success),
            (200, "FAILED") => Some(ActionResponse::failed(
                Reason::parse(s.body.failure_reason?).ok()?,
                Description::parse(s.body.failure_description?).ok()?,
            )),
            (status, "ERROR") => Some(ActionResponse::error(
                match status {
                    400 => ErrorStatus::BadRequest,
                    401 => ErrorStatus::Unauthorized,
                    500 => ErrorStatus::ServerError,
                    _ => return None,
                },
                Reason::parse(s.body.error_message?).ok()?,
                Description::parse(s.body.error_description?).ok()?,
            )),
            _ => None,
        }
    }

    /// The JSON body. Serialising these types cannot fail (plain strings only); the fallback keeps that promise
    /// without a panic on the request path.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            br#"{"actionStatus":"ERROR","errorMessage":"server_error","errorDescription":"Internal error."}"#
                .to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_text_follows_the_servers_pattern() {
        assert!(is_contract_text("invalid_department_input", 100));
        assert!(is_contract_text(
            "Provided user department value is invalid.",
            300
        ));
        assert!(!is_contract_text("", 100));
        assert!(!is_contract_text("a,b", 100));
        assert!(!is_contract_text("user@example.com", 100));
        assert!(!is_contract_text("a/b", 100));
        assert!(!is_contract_text("\"quoted\"", 100));
        assert!(!is_contract_text("caf\u{e9}", 100));
        assert!(!is_contract_text(&"a".repeat(101), 100));
        assert!(is_contract_text(&"a".repeat(100), 100));
        assert!(Reason::parse("a,b").is_err());
        assert!(Description::parse("x".repeat(300)).is_ok());
        assert!(Description::parse("x".repeat(301)).is_err());
    }

    #[test]
    fn answers_serialise_to_exactly_the_documented_fields() {
        let ok = ActionResponse::Success;
        assert_eq!(ok.to_json(), br#"{"actionStatus":"SUCCESS"}"#);
        let failed =
            ActionResponse::failed(Reason::from_static("r"), Description::from_static("d"));
        assert_eq!(
            String::from_utf8(failed.to_json()).unwrap(),
            r#"{"actionStatus":"FAILED","failureReason":"r","failureDescription":"d"}"#
        );
        let error = ActionResponse::error(
            ErrorStatus::Unauthorized,
            Reason::from_static("m"),
            Description::from_static("d"),
        );
        assert_eq!(error.http_status(), 401);
        assert_eq!(
            String::from_utf8(error.to_json()).unwrap(),
            r#"{"actionStatus":"ERROR","errorMessage":"m","errorDescription":"d"}"#
        );
    }

    #[test]
    fn stored_answers_round_trip() {
        for a in [
            ActionResponse::Success,
            ActionResponse::failed(Reason::from_static("r"), Description::from_static("d")),
            ActionResponse::error(
                ErrorStatus::ServerError,
                Reason::from_static("m"),
                Description::from_static("d"),
            ),
        ] {
            assert_eq!(ActionResponse::from_stored(&a.to_stored()), Some(a));
        }
        assert_eq!(
            ActionResponse::from_stored(
                r#"{"status":200,"body":{"actionStatus":"FAILED","failureReason":"a,b","failureDescription":"d"}}"#
            ),
            None
        );
        assert_eq!(ActionResponse::from_stored("garbage"), None);
    }
}
