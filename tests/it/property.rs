//! Property tests: thousands of generated bodies, well-formed and not, thrown at the router; every answer must be
//! one the identity server accepts (status, content type, body shape, character set), and nothing may panic. And
//! generated request lines (methods, paths, query strings): every answer is JSON, whatever the router makes of it.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request, header};
use percent_encoding::{NON_ALPHANUMERIC, percent_encode};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Answer, TestApp, assert_contract_valid};

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

/// Request lines tried per run: the router answers these without a body to parse, so they are quick.
const REQUEST_LINE_CASES: u32 = 10_000;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        4 => Just(Method::POST),
        1 => Just(Method::GET),
        1 => Just(Method::HEAD),
        1 => Just(Method::PUT),
        1 => Just(Method::DELETE),
        1 => Just(Method::OPTIONS),
        1 => Just(Method::PATCH),
        1 => Just(Method::TRACE),
        1 => Just(Method::CONNECT),
        1 => "(post|Post|FOO|M-SEARCH|PROPFIND|[A-Z]{1,12})"
            .prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

fn encoded_bytes(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..max)
        .prop_map(|b| percent_encode(&b, NON_ALPHANUMERIC).to_string())
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just("pre-update-profile".to_owned()),
        1 => Just("prod".to_owned()),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
        // Escapes that decode to invalid UTF-8 (a lone continuation byte, a cut sequence, an overlong form).
        1 => Just("%FF".to_owned()),
        1 => Just("%C3%28".to_owned()),
        1 => Just("%E2%82".to_owned()),
        1 => Just("%C0%AF".to_owned()),
        1 => Just("%00".to_owned()),
        1 => Just("%2F%2e%2E".to_owned()),
        2 => encoded_bytes(16),
        2 => "[a-zA-Z0-9._~!$&'()*+,;=:@-]{1,12}",
        1 => (1usize..8_000).prop_map(|n| "a".repeat(n)),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => Just("?".to_owned()),
        1 => Just("?%FF=%FE&&=&a=%".to_owned()),
        1 => "[a-zA-Z0-9=&;%+]{0,40}".prop_map(|q| format!("?{q}")),
        1 => (encoded_bytes(32), encoded_bytes(32)).prop_map(|(k, v)| format!("?{k}={v}")),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let shape = prop_oneof![
        1 => Just("/pre-update-profile".to_owned()),
        1 => Just("/".to_owned()),
        3 => segment().prop_map(|stage| format!("/{stage}/pre-update-profile")),
        3 => prop::collection::vec(segment(), 0..6).prop_map(|s| format!("/{}", s.join("/"))),
    ];
    (shape, query()).prop_map(|(path, query)| format!("{path}{query}"))
}

/// A JSON answer: a contract answer, or one of the router's own refusals of the request line (404 for no such
/// path, 405 for a method other than POST) in the same ERROR shape.
fn assert_json_answer(a: &Answer, method: &Method, what: &str) {
    assert_eq!(
        a.content_type.as_deref(),
        Some("application/json"),
        "{what}: {a:?}"
    );
    let routing = match a.status {
        404 => "not_found",
        405 => "method_not_allowed",
        _ => return assert_contract_valid(a, what),
    };
    if *method == Method::HEAD {
        // A HEAD answer carries headers only.
        return;
    }
    assert_eq!(a.body["actionStatus"], "ERROR", "{what}: {a:?}");
    assert_eq!(a.body["errorMessage"], routing, "{what}: {a:?}");
    let description = a.body["errorDescription"].as_str().unwrap_or_default();
    assert!(
        profile_guard::action::is_contract_text(description, 300),
        "{what}: {a:?}"
    );
    assert_eq!(
        a.body.as_object().map(|o| o.len()),
        Some(3),
        "{what}: {a:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: REQUEST_LINE_CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_generated_request_line_gets_a_json_answer(method in method(), path in path()) {
        let (rt, app) = runtime_and_app();
        let request = Request::builder()
            .method(method.clone())
            .uri(path.as_str())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"actionType":"PRE_UPDATE_PROFILE","event":{}}"#))
            .unwrap();
        let answer = rt.block_on(app.request(request));
        let what = format!("{method} {}", path.chars().take(200).collect::<String>());
        assert_json_answer(&answer, &method, &what);
    }
}
