//! Property test: thousands of generated bodies, well-formed and not, thrown at the router; every answer must be
//! one the identity server accepts (status, content type, body shape, character set), and nothing may panic.

use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_contract_valid};

const CASES: u32 = 10_000;

fn runtime_and_app() -> &'static (tokio::runtime::Runtime, TestApp) {
    static APP: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let app = rt.block_on(TestApp::new(&[
            ("MAX_CLAIMS", "20"),
            ("MAX_VALUE_BYTES", "256"),
        ]));
        (rt, app)
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9@.+ -]{0,24}",
        any::<String>(),
        Just("<script>alert(1)</script>\r\nBcc: x@y".to_owned()),
        "\\PC{0,300}",
    ]
}

fn claim_uri() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("http://wso2.org/claims/department".to_owned()),
        Just("http://wso2.org/claims/mobile".to_owned()),
        Just("http://wso2.org/claims/emailaddress".to_owned()),
        Just("http://wso2.org/claims/emailAddresses".to_owned()),
        Just("http://wso2.org/claims/country".to_owned()),
        text(),
    ]
}

fn claim_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::String),
        2 => prop::collection::vec(text(), 0..4).prop_map(|v| json!(v)),
        1 => Just(Value::Null),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => Just(json!({"nested": [1, {"deeper": true}]})),
    ]
}

fn claims() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (claim_uri(), claim_value(), prop::option::of(claim_value())),
        0..8,
    )
    .prop_map(|v| {
        Value::Array(
            v.into_iter()
                .map(|(uri, value, updating)| {
                    let mut c = json!({"uri": uri, "value": value});
                    if let Some(u) = updating {
                        c["updatingValue"] = u;
                    }
                    c
                })
                .collect(),
        )
    })
}

fn envelope() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            6 => Just(json!("PRE_UPDATE_PROFILE")),
            1 => Just(json!("PRE_ISSUE_ACCESS_TOKEN")),
            1 => text().prop_map(Value::String),
            1 => Just(Value::Null),
        ],
        prop::option::of(claims()),
        claims(),
        prop_oneof![
            Just("USER"),
            Just("ADMIN"),
            Just("APPLICATION"),
            Just("ROBOT")
        ],
        prop::option::of(text()),
        prop::option::of(text()),
    )
        .prop_map(
            |(action_type, request, current, initiator, request_id, department_like)| {
                let mut event = json!({
                    "tenant": {"id": "1", "name": department_like.clone().unwrap_or_default()},
                    "user": {"id": "u-1", "claims": current},
                    "initiatorType": initiator,
                    "action": "UPDATE"
                });
                if let Some(claims) = request {
                    event["request"] = json!({"claims": claims});
                }
                let mut body = json!({"actionType": action_type, "event": event});
                if let Some(id) = request_id {
                    body["requestId"] = json!(id);
                }
                body
            },
        )
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => envelope().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // A valid envelope cut short or with a byte flipped.
        2 => (envelope(), any::<prop::sample::Index>(), any::<u8>()).prop_map(|(v, at, byte)| {
            let mut bytes = serde_json::to_vec(&v).unwrap();
            let i = at.index(bytes.len());
            if byte % 2 == 0 { bytes.truncate(i) } else { bytes[i] = byte }
            bytes
        }),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_body_gets_a_contract_valid_answer(body in body()) {
        let (rt, app) = runtime_and_app();
        let answer = rt.block_on(app.post(body.clone()));
        assert_contract_valid(&answer, &String::from_utf8_lossy(&body));
    }
}
