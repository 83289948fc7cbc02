//! What an answer must be: valid under the action contract, and one the request's kind allows.

use serde_json::Value;

use crate::requests::Kind;

/// The contract: `(actionStatus, reason)` of a valid answer, or what is wrong with it.
pub fn check_contract(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(&'static str, String), String> {
    if !matches!(status, 200 | 400 | 401 | 500) {
        return Err(format!("HTTP status {status}"));
    }
    let essence = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if essence != "application/json" {
        return Err(format!("content-type {content_type:?}"));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e})"))?;
    let object = value.as_object().ok_or("body is not a JSON object")?;
    let text = |field: &str| -> Result<String, String> {
        match object.get(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("{field} missing or not a non-empty string")),
        }
    };
    match (object.get("actionStatus").and_then(Value::as_str), status) {
        (Some("SUCCESS"), 200) => Ok(("SUCCESS", String::new())),
        (Some("FAILED"), 200) => {
            text("failureDescription")?;
            Ok(("FAILED", text("failureReason")?))
        }
        (Some("ERROR"), 400 | 401 | 500) => {
            text("errorDescription")?;
            Ok(("ERROR", text("errorMessage")?))
        }
        (other, _) => Err(format!("actionStatus {other:?} with HTTP {status}")),
    }
}

/// Whether a request of `kind` may get this answer.
pub fn expected(kind: Kind, status: u16, action_status: &str, reason: &str) -> bool {
    let directory_down =
        status == 500 && action_status == "ERROR" && reason == "directory_unavailable";
    match kind {
        Kind::KnownDepartment => action_status == "SUCCESS" || directory_down,
        Kind::UnknownDepartment => {
            (action_status == "FAILED" && reason == "invalid_department_input") || directory_down
        }
        Kind::ClearedDepartment | Kind::NonSensitive | Kind::NoRequest => {
            action_status == "SUCCESS"
        }
        Kind::WrongActionType => action_status == "FAILED" && reason == "invalid_input",
        Kind::NotJson => status == 400 && action_status == "ERROR" && reason == "invalid_request",
    }
}
