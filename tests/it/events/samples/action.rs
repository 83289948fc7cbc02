//! Pre-Update Profile action calls, as WSO2 IS / Asgardeo send them, in the HTTP API and REST API payloads.

use serde_json::Value;

use profile_guard::action::ActionResponse;
use profile_guard::policy::{INVALID_ACTION_TYPE, INVALID_DEPARTMENT, NOT_JSON};

use super::gateway::{action_http_event, rest_event};
use super::{Sample, action_expected};
use crate::events::json::{Json, object};

/// The user every action sample and WSO2 delivery is about.
pub(super) const USER_ID: &str = "57b22cbf-4688-476c-a607-c0c9d089d25d";

/// A multi-valued claim's value.
fn strings(values: &[&str]) -> Json {
    Json::Array(values.iter().map(|v| Json::from(*v)).collect())
}

/// A claim the call writes.
pub(super) fn claim(name: &str, value: impl Into<Json>) -> Json {
    object! {"uri": format!("http://wso2.org/claims/{name}"), "value": value}
}

/// A claim the user has now, and the value it is being updated to.
fn updating(name: &str, value: impl Into<Json>, new: impl Into<Json>) -> Json {
    object! {
        "uri": format!("http://wso2.org/claims/{name}"),
        "value": value,
        "updatingValue": new,
    }
}

/// A Pre-Update Profile call: the claims it writes (`None`: a password flow, no `request`), the user's current
/// claims, who started it.
fn request(
    claims: Option<Vec<Json>>,
    current: Vec<Json>,
    initiator: &str,
    request_id: Option<&str>,
) -> Json {
    let mut event = Json::object(claims.map(|c| ("request", object! {"claims": c})));
    for (key, value) in [
        ("tenant", object! {"id": "2210", "name": "testwso2"}),
        ("user", object! {"id": USER_ID, "claims": current}),
        (
            "userStore",
            object! {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        ),
        ("initiatorType", Json::from(initiator)),
        ("action", Json::from("UPDATE")),
    ] {
        event.set(key, value);
    }
    let mut body = Json::object(request_id.map(|id| ("requestId", Json::from(id))));
    body.set("actionType", "PRE_UPDATE_PROFILE");
    body.set("event", event);
    body
}

/// The payload formats an action sample is wrapped in.
#[derive(Clone, Copy, PartialEq)]
enum Api {
    /// HTTP API, payload 2.0: `NAME.json`.
    Http,
    /// REST API, payload 1.0: `NAME.rest-v1.json`.
    Rest,
}

/// What an action sample sends.
enum Body {
    Json(Json),
    /// Text sent as it is: not JSON.
    Raw(&'static str),
}

impl Body {
    /// The body as sent, compact; a JSON one with its `requestId` replaced by `request_id` when given.
    fn sent(&self, request_id: Option<String>) -> String {
        match (self, request_id) {
            (Body::Json(json), Some(id)) => {
                let mut json = json.clone();
                json.set_first("requestId", id);
                json.compact()
            }
            (Body::Json(json), None) => json.compact(),
            (Body::Raw(raw), _) => raw.to_string(),
        }
    }

    /// The body as `events/bodies/` keeps it, indented.
    fn file(&self) -> String {
        match self {
            Body::Json(json) => json.pretty(),
            Body::Raw(raw) => raw.to_string(),
        }
    }
}

/// An action call wrapped in each of `apis`, all answered `expected`.
fn push_action(all: &mut Vec<Sample>, name: &str, body: Body, expected: &Value, apis: &[Api]) {
    for &api in apis {
        let (stem, event) = match api {
            Api::Http => (name.to_owned(), action_http_event(name, &body.sent(None))),
            // A change of its own (its own requestId), so that replaying every event through one warm instance does
            // not collapse it into the HTTP API event's change.
            Api::Rest => (
                format!("{name}.rest-v1"),
                rest_event(name, &body.sent(Some(format!("rest-v1-{name}")))),
            ),
        };
        all.push(Sample {
            name: stem,
            event,
            body: (api == Api::Http).then(|| body.file()),
            expected: expected.clone(),
        });
    }
}

pub(super) fn samples(all: &mut Vec<Sample>) {
    use Api::{Http, Rest};
    let success = action_expected(&ActionResponse::Success);
    let tutorial: Json =
        serde_json::from_str(&crate::support::tutorial()).expect("the tutorial request is JSON");
    let mut wrong = tutorial.clone();
    wrong.set("actionType", "PRE_ISSUE_ACCESS_TOKEN");

    push_action(
        all,
        "tutorial",
        Body::Json(tutorial),
        &success,
        &[Http, Rest],
    );
    push_action(
        all,
        "non-sensitive-change",
        Body::Json(request(
            Some(vec![
                claim("givenname", "Emily"),
                claim("country", "Sri Lanka"),
            ]),
            vec![],
            "USER",
            Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        )),
        &success,
        &[Http],
    );
    push_action(
        all,
        "unknown-department",
        Body::Json(request(
            Some(vec![claim("department", "Legal")]),
            vec![updating("department", "Sales", "Legal")],
            "ADMIN",
            None,
        )),
        &action_expected(&INVALID_DEPARTMENT),
        &[Http, Rest],
    );
    push_action(
        all,
        "wrong-action-type",
        Body::Json(wrong),
        &action_expected(&INVALID_ACTION_TYPE),
        &[Http],
    );
    push_action(
        all,
        "no-request-password-flow",
        Body::Json(request(None, vec![], "ADMIN", None)),
        &success,
        &[Http],
    );
    push_action(
        all,
        "malformed-body",
        Body::Raw(r#"{"actionType": "PRE_UPDATE_PROFILE", "event": {"#),
        &action_expected(&NOT_JSON),
        &[Http],
    );
    email_changes(all, &success);
    mobile_changes(all, &success);
}

/// The user's current e-mail address.
fn current_email() -> Json {
    object! {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"}
}

/// The user's current given name.
fn current_given_name() -> Json {
    object! {"uri": "http://wso2.org/claims/givenname", "value": "Emily"}
}

/// Calls that change an e-mail address, answered SUCCESS; who hears of each is in its e-mails.
fn email_changes(all: &mut Vec<Sample>, success: &Value) {
    use Api::Http;
    push_action(
        all,
        "multi-valued-email-change",
        Body::Json(request(
            Some(vec![claim(
                "emailAddresses",
                strings(&["emily@aol.com", "emily@gmail.com"]),
            )]),
            vec![
                current_email(),
                updating(
                    "emailAddresses",
                    strings(&["emily@aol.com"]),
                    strings(&["emily@aol.com", "emily@gmail.com"]),
                ),
            ],
            "USER",
            Some("6783a180f817075313ea3fb01d79c221"),
        )),
        success,
        &[Http],
    );
    push_action(
        all,
        "admin-email-change",
        Body::Json(request(
            Some(vec![claim("emailaddress", "emily.new@gmail.com")]),
            vec![
                current_given_name(),
                updating("emailaddress", "emily@aol.com", "emily.new@gmail.com"),
            ],
            "ADMIN",
            Some("b2c3d4e5f60718293a4b5c6d7e8f90a1"),
        )),
        success,
        &[Http],
    );
}

/// Calls that change a mobile number, answered SUCCESS; who hears of each is in its e-mails.
fn mobile_changes(all: &mut Vec<Sample>, success: &Value) {
    use Api::Http;
    push_action(
        all,
        "cleared-mobile",
        Body::Json(request(
            Some(vec![claim("mobile", "")]),
            vec![current_email(), updating("mobile", "+94771223448", "")],
            "APPLICATION",
            None,
        )),
        success,
        &[Http],
    );
    push_action(
        all,
        "self-service-mobile-change",
        Body::Json(request(
            Some(vec![claim("mobile", "+94771234567")]),
            vec![
                current_email(),
                current_given_name(),
                updating("mobile", "+94770000001", "+94771234567"),
            ],
            "USER",
            Some("a1b2c3d4e5f60718293a4b5c6d7e8f90"),
        )),
        success,
        &[Http],
    );
    push_action(
        all,
        "application-mobile-change",
        Body::Json(request(
            Some(vec![claim("mobile", "+94775550000")]),
            vec![current_email()],
            "APPLICATION",
            None,
        )),
        success,
        &[Http],
    );
}
