//! Pure decisions: what an update changes, what must be checked, what to answer. No I/O here; the guard runs
//! these in order and does the checking and sending in between.

use crate::action::{
    ActionRequest, ActionResponse, Claim, ClaimValue, Description, ErrorStatus, ParseError, Reason,
    UserClaim,
};
use crate::claims::{ClaimSet, DEPARTMENT_CLAIM, EMAIL_CLAIM};

/// How large a call may be: the body, the number of claims, one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MAX_CLAIMS`: claims in `event.request` plus `event.user.claims`.
    pub max_claims: usize,
    /// `MAX_VALUE_BYTES`: bytes of one claim value (all values of a multi-valued claim together).
    pub max_value_bytes: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        // WSO2 sends nothing larger in practice; anything bigger is an attack or a mistake.
        max_body_bytes: 64 * 1024,
        max_claims: 100,
        max_value_bytes: 4096,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// What to answer when an upstream fails: by default the published scenario blocks (`error`, `fail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureModes {
    /// `DIRECTORY_UNAVAILABLE=error|allow`.
    pub allow_without_directory: bool,
    /// `ALERT_UNDELIVERED=fail|allow`.
    pub allow_without_alert: bool,
}

// The scenario's answers (action-contract.md). `from_static` checks each text when the constant is compiled.

pub const INVALID_ACTION_TYPE: ActionResponse = ActionResponse::failed(
    Reason::from_static("invalid_input"),
    Description::from_static("Invalid actionType provided."),
);
pub const INVALID_DEPARTMENT: ActionResponse = ActionResponse::failed(
    Reason::from_static("invalid_department_input"),
    Description::from_static("Provided user department value is invalid."),
);
pub const ALERT_UNDELIVERED: ActionResponse = ActionResponse::failed(
    Reason::from_static("email_error"),
    Description::from_static("Failed to notify security team about sensitive data update."),
);
pub const NOT_JSON: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request body is not valid JSON."),
);
pub const NOT_ENVELOPE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static(
        "The request body is not a Pre-Update Profile action request: actionType and event are required and each field must have the documented type.",
    ),
);
pub const BODY_TOO_LARGE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request body is larger than the configured limit."),
);
pub const BODY_UNREADABLE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request body could not be read."),
);
pub const DIRECTORY_TIMEOUT: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("directory_unavailable"),
    Description::from_static("The department directory did not answer in time."),
);
pub const DIRECTORY_UNREACHABLE: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("directory_unavailable"),
    Description::from_static("The department directory could not be reached."),
);
pub const DIRECTORY_BAD_ANSWER: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("directory_unavailable"),
    Description::from_static("The department directory gave an unexpected answer."),
);
pub const INTERNAL_ERROR: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("server_error"),
    Description::from_static("profile-guard failed while checking the update."),
);

pub const DEADLINE_EXCEEDED: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("deadline_exceeded"),
    Description::from_static("profile-guard could not finish its checks in time."),
);
pub const DUPLICATE_IN_PROGRESS: ActionResponse = ActionResponse::error(
    ErrorStatus::ServerError,
    Reason::from_static("duplicate_in_progress"),
    Description::from_static("The same change is still being checked by an earlier call."),
);
pub const UNAUTHORIZED: ActionResponse = ActionResponse::error(
    ErrorStatus::Unauthorized,
    Reason::from_static("unauthorized"),
    Description::from_static("Missing or invalid credentials for the profile-guard endpoint."),
);
pub const UNSUPPORTED_CONTENT_TYPE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request content type must be application json."),
);
pub const TOO_MANY_CLAIMS: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request carries more claims than the configured limit."),
);
pub const VALUE_TOO_LONG: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("A claim value is longer than the configured limit."),
);

/// Size limits beyond the body size: how many claims, how long a value.
pub fn check_limits(req: &ActionRequest, limits: &Limits) -> Option<ActionResponse> {
    let written = req.event.written_claims();
    let current = req.event.current_claims();
    if written.len() + current.len() > limits.max_claims {
        return Some(TOO_MANY_CLAIMS);
    }
    let too_long = |v: &ClaimValue| v.len_bytes() > limits.max_value_bytes;
    let uri_too_long = |u: &str| u.len() > limits.max_value_bytes;
    if written
        .iter()
        .any(|c| too_long(&c.value) || uri_too_long(&c.uri))
        || current.iter().any(|c| {
            too_long(&c.value)
                || c.updating_value.as_ref().is_some_and(too_long)
                || uri_too_long(&c.uri)
        })
    {
        return Some(VALUE_TOO_LONG);
    }
    None
}

/// The answer to a body that could not be read as our envelope.
pub fn answer_parse_error(e: &ParseError) -> ActionResponse {
    match e {
        ParseError::NotJson(_) => NOT_JSON,
        ParseError::NotEnvelope(_) => NOT_ENVELOPE,
        ParseError::WrongActionType => INVALID_ACTION_TYPE,
    }
}

/// One claim being written, with its current value when the server sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<'a> {
    pub uri: &'a str,
    /// `None` when the admin did not choose this attribute to be sent with the request.
    pub old: Option<&'a ClaimValue>,
    pub new: &'a ClaimValue,
}

/// What an update writes and what it really changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Update<'a> {
    /// Every claim the request writes, in the order sent.
    pub written: Vec<&'a Claim>,
    /// The written claims whose new value differs from the current one, or whose current value is unknown.
    pub changes: Vec<Change<'a>>,
    /// New department values, to be checked against the directory: only values the person does not already
    /// have, so a profile re-sent whole (SCIM PUT) is not blocked by a department since retired.
    pub departments: Vec<&'a str>,
}

impl<'a> Update<'a> {
    /// The changes to claims in `set`, in the order sent.
    pub fn changes_in(&self, set: &ClaimSet) -> Vec<Change<'a>> {
        self.changes
            .iter()
            .filter(|c| set.contains(c.uri))
            .cloned()
            .collect()
    }

    /// The changes the person is told about: those in `set`, and a change of the e-mail address always (the
    /// old address must hear of it: that is how an account takeover shows).
    pub fn notice_changes(&self, set: &ClaimSet) -> Vec<Change<'a>> {
        self.changes
            .iter()
            .filter(|c| crate::claims::is_notice_claim(set, c.uri))
            .cloned()
            .collect()
    }

    /// Whether the e-mail address itself changes.
    pub fn changes_email(&self) -> bool {
        self.changes.iter().any(|c| c.uri == EMAIL_CLAIM)
    }
}

/// Reads what a request writes. `None` when it writes nothing (no `event.request` or no claims, as in password
/// flows): such a call is allowed with nothing checked or sent.
pub fn update_of(req: &ActionRequest) -> Option<Update<'_>> {
    let request = req
        .event
        .request
        .as_ref()
        .filter(|r| !r.claims.is_empty())?;
    let current: &[UserClaim] = req.event.current_claims();
    let written: Vec<&Claim> = request.claims.iter().collect();
    let changes: Vec<Change<'_>> = written
        .iter()
        .filter_map(|claim| {
            let old = current
                .iter()
                .find(|c| c.uri == claim.uri)
                .map(|c| &c.value);
            match old {
                Some(old) if old.same_as(&claim.value) => None,
                _ => Some(Change {
                    uri: &claim.uri,
                    old,
                    new: &claim.value,
                }),
            }
        })
        .collect();
    let departments = new_departments(&changes);
    Some(Update {
        written,
        changes,
        departments,
    })
}

/// The department values a change adds: each value of a changed department claim that the old value lacks.
fn new_departments<'a>(changes: &[Change<'a>]) -> Vec<&'a str> {
    let mut departments: Vec<&str> = Vec::new();
    for change in changes.iter().filter(|c| c.uri == DEPARTMENT_CLAIM) {
        for value in change.new.values() {
            let had = change
                .old
                .is_some_and(|old| old.values().any(|v| v == value));
            if !had && !departments.contains(&value) {
                departments.push(value);
            }
        }
    }
    departments
}

/// What the directory said about a department.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Known,
    Unknown,
}

impl Membership {
    /// The audit line's `department_check`.
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::Known => "known",
            Membership::Unknown => "unknown",
        }
    }
}

/// The answer after the directory check, if the check decides it.
pub fn answer_membership(m: Membership) -> Option<ActionResponse> {
    match m {
        Membership::Known => None,
        Membership::Unknown => Some(INVALID_DEPARTMENT),
    }
}

/// Which failure setting decided an answer, for the audit line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    DirectoryUnavailableAllowed,
    DirectoryUnavailableError,
    AlertUndeliveredAllowed,
    AlertUndeliveredFail,
}

impl FailureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::DirectoryUnavailableAllowed => "directory_unavailable_allowed",
            FailureMode::DirectoryUnavailableError => "directory_unavailable_error",
            FailureMode::AlertUndeliveredAllowed => "alert_undelivered_allowed",
            FailureMode::AlertUndeliveredFail => "alert_undelivered_fail",
        }
    }
}

/// Why the directory could not judge a department, as far as the answer is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryFailure {
    Timeout,
    Unreachable,
    BadAnswer,
}

/// The answer when the directory could not judge: `None` lets the change through. Only an outage may
/// (`DIRECTORY_UNAVAILABLE=allow`); a misconfiguration never does.
pub fn answer_directory_failure(
    failure: DirectoryFailure,
    outage: bool,
    modes: &FailureModes,
) -> (Option<ActionResponse>, FailureMode) {
    if modes.allow_without_directory && outage {
        return (None, FailureMode::DirectoryUnavailableAllowed);
    }
    let answer = match failure {
        DirectoryFailure::Timeout => DIRECTORY_TIMEOUT,
        DirectoryFailure::Unreachable => DIRECTORY_UNREACHABLE,
        DirectoryFailure::BadAnswer => DIRECTORY_BAD_ANSWER,
    };
    (Some(answer), FailureMode::DirectoryUnavailableError)
}

/// The answer when the alert did not reach every channel: `None` lets the change through
/// (`ALERT_UNDELIVERED=allow`).
pub fn answer_alert_undelivered(modes: &FailureModes) -> (Option<ActionResponse>, FailureMode) {
    if modes.allow_without_alert {
        (None, FailureMode::AlertUndeliveredAllowed)
    } else {
        (Some(ALERT_UNDELIVERED), FailureMode::AlertUndeliveredFail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;

    fn req(json: &str) -> ActionRequest {
        parse_request(json.as_bytes()).unwrap()
    }

    #[test]
    fn no_request_part_means_nothing_to_check() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"user":{"id":"u"}}}"#);
        assert!(update_of(&r).is_none());
    }

    #[test]
    fn unchanged_values_are_not_changes() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[
                {"uri":"http://wso2.org/claims/mobile","value":"+94771223448"},
                {"uri":"http://wso2.org/claims/emailAddresses","value":["b@x.org","a@x.org"]},
                {"uri":"http://wso2.org/claims/department","value":"HR"}]},
            "user":{"id":"u","claims":[
                {"uri":"http://wso2.org/claims/mobile","value":"+94771223448","updatingValue":"+94771223448"},
                {"uri":"http://wso2.org/claims/emailAddresses","value":["a@x.org","b@x.org"],"updatingValue":["b@x.org","a@x.org"]},
                {"uri":"http://wso2.org/claims/department","value":"Sales","updatingValue":"HR"}]}}}"#);
        let u = update_of(&r).unwrap();
        assert_eq!(u.written.len(), 3);
        assert_eq!(u.changes.len(), 1);
        assert_eq!(u.changes[0].uri, DEPARTMENT_CLAIM);
        assert_eq!(u.changes[0].old, Some(&ClaimValue::Single("Sales".into())));
        assert_eq!(u.departments, ["HR"]);
    }

    #[test]
    fn a_cleared_department_is_not_checked_but_is_a_change() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[{"uri":"http://wso2.org/claims/department","value":""}]}}}"#);
        let u = update_of(&r).unwrap();
        assert!(u.departments.is_empty());
        assert_eq!(u.changes.len(), 1);
        assert_eq!(u.changes_in(&ClaimSet::defaults()).len(), 1);
    }

    #[test]
    fn unknown_old_values_count_as_changes() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[{"uri":"http://wso2.org/claims/country","value":"LK"},
                                 {"uri":"http://wso2.org/claims/mobile","value":"1"}]}}}"#);
        let u = update_of(&r).unwrap();
        assert_eq!(u.changes.len(), 2);
        let sensitive = u.changes_in(&ClaimSet::defaults());
        assert_eq!(sensitive.len(), 1);
        assert_eq!(sensitive[0].uri, "http://wso2.org/claims/mobile");
        assert_eq!(sensitive[0].old, None);
    }

    #[test]
    fn parse_errors_map_to_the_contract() {
        assert_eq!(
            answer_parse_error(&ParseError::WrongActionType),
            INVALID_ACTION_TYPE
        );
        assert_eq!(
            answer_membership(Membership::Unknown),
            Some(INVALID_DEPARTMENT)
        );
        assert_eq!(answer_membership(Membership::Known), None);
    }

    #[test]
    fn a_department_the_person_already_has_is_not_checked() {
        // A SCIM PUT re-sends the whole profile: the department is written with the value it has.
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[{"uri":"http://wso2.org/claims/department","value":"Retired"},
                                 {"uri":"http://wso2.org/claims/mobile","value":"+15550100"}]},
            "user":{"id":"u","claims":[{"uri":"http://wso2.org/claims/department","value":"Retired"}]}}}"#);
        let u = update_of(&r).unwrap();
        assert!(u.departments.is_empty());
        assert_eq!(u.changes.len(), 1);
        // A multi-valued department: only the value added is checked.
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[{"uri":"http://wso2.org/claims/department","value":["Retired","HR","HR"]}]},
            "user":{"id":"u","claims":[{"uri":"http://wso2.org/claims/department","value":["Retired"]}]}}}"#);
        assert_eq!(update_of(&r).unwrap().departments, ["HR"]);
    }

    #[test]
    fn an_email_change_is_always_a_notice_change() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{
            "request":{"claims":[{"uri":"http://wso2.org/claims/emailaddress","value":"new@x.org"}]},
            "user":{"id":"u","claims":[{"uri":"http://wso2.org/claims/emailaddress","value":"old@x.org"}]}}}"#);
        let u = update_of(&r).unwrap();
        let only_mobile = ClaimSet::parse("mobile").unwrap();
        assert_eq!(u.notice_changes(&only_mobile).len(), 1);
        assert!(u.changes_email());
    }

    #[test]
    fn empty_claim_lists_write_nothing() {
        let r = req(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":{"claims":null}}}"#);
        assert!(update_of(&r).is_none());
    }

    #[test]
    fn only_an_outage_fails_open() {
        let allow = FailureModes {
            allow_without_directory: true,
            allow_without_alert: true,
        };
        let block = FailureModes {
            allow_without_directory: false,
            allow_without_alert: false,
        };
        let t = DirectoryFailure::Timeout;
        assert_eq!(
            answer_directory_failure(t, true, &allow),
            (None, FailureMode::DirectoryUnavailableAllowed)
        );
        let bad = DirectoryFailure::BadAnswer;
        assert_eq!(
            answer_directory_failure(bad, false, &allow),
            (
                Some(DIRECTORY_BAD_ANSWER),
                FailureMode::DirectoryUnavailableError
            )
        );
        assert_eq!(
            answer_directory_failure(t, true, &block).0,
            Some(DIRECTORY_TIMEOUT)
        );
        assert_eq!(answer_alert_undelivered(&allow).0, None);
        assert_eq!(answer_alert_undelivered(&block).0, Some(ALERT_UNDELIVERED));
    }
}
