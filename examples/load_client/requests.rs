//! The requests of the mix: what kind each is, and its body.

use serde_json::Value;

/// What a request is, and so which answers it may get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    KnownDepartment,
    UnknownDepartment,
    ClearedDepartment,
    NonSensitive,
    NoRequest,
    WrongActionType,
    NotJson,
}

const KNOWN: &[&str] = &[
    "Engineering",
    "HR",
    "Sales",
    "Finance",
    "Customer Success",
    "R&D",
];
const UNKNOWN: &[&str] = &["Marketing", "Legal", "Research/Labs", "Ops 2", "Sälj", "hr"];

/// One request out of every 100, by kind.
pub fn kind_of(roll: u64) -> Kind {
    match roll % 100 {
        0..45 => Kind::KnownDepartment,
        45..65 => Kind::UnknownDepartment,
        65..70 => Kind::ClearedDepartment,
        70..85 => Kind::NonSensitive,
        85..90 => Kind::NoRequest,
        90..95 => Kind::WrongActionType,
        _ => Kind::NotJson,
    }
}

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn envelope(request_id: &str, action_type: &str, request: Option<Value>, initiator: &str) -> Value {
    let mut event = serde_json::json!({
        "tenant": { "id": "2210", "name": "testwso2" },
        "user": {
            "id": "57b22cbf-4688-476c-a607-c0c9d089d25d",
            "claims": [
                { "uri": "http://wso2.org/claims/department", "value": "Sales" },
                { "uri": "http://wso2.org/claims/username", "value": "testuser@wso2.com" }
            ]
        },
        "userStore": { "id": "REVGQVVMVA==", "name": "DEFAULT" },
        "initiatorType": initiator,
        "action": "UPDATE"
    });
    if let Some(request) = request {
        event["request"] = request;
    }
    serde_json::json!({ "requestId": request_id, "actionType": action_type, "event": event })
}

fn claims(list: &[(&str, &str)]) -> Value {
    serde_json::json!({
        "claims": list
            .iter()
            .map(|(uri, value)| serde_json::json!({ "uri": format!("http://wso2.org/claims/{uri}"), "value": value }))
            .collect::<Vec<_>>()
    })
}

pub fn body(kind: Kind, request_id: &str, roll: u64) -> Vec<u8> {
    let pick = |list: &[&'static str]| list[(roll / 100) as usize % list.len()];
    let value = match kind {
        Kind::KnownDepartment | Kind::UnknownDepartment => {
            let department = pick(if kind == Kind::KnownDepartment {
                KNOWN
            } else {
                UNKNOWN
            });
            // Every third one also changes the mobile number, which raises an alert (log outbox).
            let request = if roll.is_multiple_of(3) {
                claims(&[("department", department), ("mobile", "+94771223448")])
            } else {
                claims(&[("department", department)])
            };
            envelope(request_id, "PRE_UPDATE_PROFILE", Some(request), "ADMIN")
        }
        Kind::ClearedDepartment => envelope(
            request_id,
            "PRE_UPDATE_PROFILE",
            Some(claims(&[("department", "")])),
            "ADMIN",
        ),
        Kind::NonSensitive => envelope(
            request_id,
            "PRE_UPDATE_PROFILE",
            Some(claims(&[("givenname", "Emily"), ("country", "Sri Lanka")])),
            "USER",
        ),
        Kind::NoRequest => envelope(request_id, "PRE_UPDATE_PROFILE", None, "USER"),
        Kind::WrongActionType => envelope(
            request_id,
            "PRE_ISSUE_ACCESS_TOKEN",
            Some(claims(&[("givenname", "Emily")])),
            "USER",
        ),
        Kind::NotJson => {
            return format!(
                r#"{{"requestId":"{request_id}","actionType":"PRE_UPDATE_PROFILE","event":{{"#
            )
            .into_bytes();
        }
    };
    value.to_string().into_bytes()
}
