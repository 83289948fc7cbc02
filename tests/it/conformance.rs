//! WSO2's own test data: the server's response rules (APIClientTest) applied to every answer we can give, the
//! response shapes it accepts, and the request its builder makes.

use serde_json::Value;

use crate::support::{TestApp, conformance_file};
use profile_guard::action::ActionResponse;
use profile_guard::policy;

/// What the identity server makes of an answer, as `APIClientTest` pins it down: `Ok(status)` when it reads an
/// action status from it, `Err(())` when it treats the call as failed.
fn server_reading(status: u16, content_type: &str, body: &str) -> Result<String, ()> {
    if content_type != "application/json" {
        return Err(());
    }
    let json: Value = serde_json::from_str(body).map_err(|_| ())?;
    let obj = json.as_object().ok_or(())?;
    let action_status = obj.get("actionStatus").and_then(Value::as_str).ok_or(())?;
    let text = |field: &str, required: bool, max: usize| -> Result<(), ()> {
        match obj.get(field) {
            None if !required => Ok(()),
            Some(Value::String(s)) if !required && s.is_empty() => Ok(()),
            Some(Value::String(s)) if profile_guard::action::is_contract_text(s, max) => Ok(()),
            _ => Err(()),
        }
    };
    match (status, action_status) {
        (200, "SUCCESS") => Ok("SUCCESS".into()),
        (200, "INCOMPLETE") if obj.contains_key("operations") => Ok("INCOMPLETE".into()),
        (200, "FAILED") => {
            text("failureReason", true, 100)?;
            text("failureDescription", false, 300)?;
            Ok("FAILED".into())
        }
        (400 | 401 | 500, "ERROR") => {
            text("errorMessage", true, 100)?;
            text("errorDescription", false, 300)?;
            Ok("ERROR".into())
        }
        _ => Err(()),
    }
}

#[test]
fn the_rules_agree_with_every_vector_of_the_servers_client_test() {
    let vectors: Value =
        serde_json::from_str(&conformance_file("APIClientTest-response-vectors.json")).unwrap();
    let mut checked = 0;
    for case in vectors["cases"].as_array().unwrap() {
        let Some(status) = case["status"].as_u64() else {
            continue; // transport-level sequences (timeouts): nothing to read
        };
        let reading = server_reading(
            status as u16,
            case["contentType"].as_str().unwrap(),
            case["body"].as_str().unwrap(),
        );
        let expect = &case["expect"];
        if expect["isError"] == true {
            assert!(
                reading.is_err(),
                "{}: {} should be refused",
                case["test"],
                case["body"]
            );
        } else {
            assert_eq!(
                reading.as_deref(),
                Ok(expect["actionStatus"].as_str().unwrap()),
                "{}",
                case["test"]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 26);
}

fn all_fixed_answers() -> Vec<ActionResponse> {
    vec![
        ActionResponse::Success,
        policy::INVALID_ACTION_TYPE,
        policy::INVALID_DEPARTMENT,
        policy::ALERT_UNDELIVERED,
        policy::NOT_JSON,
        policy::NOT_ENVELOPE,
        policy::BODY_TOO_LARGE,
        policy::BODY_UNREADABLE,
        policy::DIRECTORY_TIMEOUT,
        policy::DIRECTORY_UNREACHABLE,
        policy::DIRECTORY_BAD_ANSWER,
        policy::INTERNAL_ERROR,
    ]
}

#[test]
fn every_answer_we_give_is_one_the_server_accepts() {
    for answer in all_fixed_answers() {
        let body = String::from_utf8(answer.to_json()).unwrap();
        let reading = server_reading(answer.http_status(), "application/json", &body);
        assert_eq!(reading.as_deref(), Ok(answer.status_name()), "{body}");
        assert!(!body.contains("operations") && !body.contains("INCOMPLETE"));
    }
}

#[test]
fn our_answers_have_the_shapes_of_the_servers_own_fixtures() {
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let fixture = |name: &str| -> Value {
        serde_json::from_str(&conformance_file(&format!("responses/{name}"))).unwrap()
    };
    let ours = |a: ActionResponse| -> Value { serde_json::from_slice(&a.to_json()).unwrap() };
    assert_eq!(
        ours(ActionResponse::Success),
        fixture("pre-update-profile-response.json")
    );
    assert_eq!(
        keys(&ours(policy::INVALID_DEPARTMENT)),
        keys(&fixture("failure-response.json"))
    );
    assert_eq!(
        keys(&ours(policy::DIRECTORY_TIMEOUT)),
        keys(&fixture("error-response.json"))
    );
    // The shapes we must never send are refused by the server's rules for this action, or carry fields we never write.
    for never in [
        "incomplete-response.json",
        "pre-update-profile-claim-modification-response.json",
    ] {
        let v = fixture(never);
        assert!(v.get("operations").is_some());
        for answer in all_fixed_answers() {
            assert!(ours(answer).get("operations").is_none());
        }
    }
}

#[tokio::test]
async fn the_builder_test_request_is_read_and_allowed() {
    let raw = conformance_file("request-from-builder-test.json");
    let req =
        profile_guard::action::parse_request(raw.as_bytes()).expect("the server's request parses");
    let update = policy::update_of(&req).expect("it writes claims");
    assert_eq!(update.written.len(), 5);
    assert_eq!(
        update.changes.len(),
        5,
        "every written value differs from the current one"
    );
    let claim5 = update
        .changes
        .iter()
        .find(|c| c.uri.ends_with("claim5"))
        .unwrap();
    assert_eq!(
        claim5.new,
        &profile_guard::action::ClaimValue::Single("value51,value52".into())
    );
    assert!(
        update
            .changes
            .iter()
            .any(|c| c.uri.ends_with("claim3") && c.new.is_cleared())
    );
    assert!(
        update
            .changes
            .iter()
            .any(|c| c.uri.ends_with("claim4") && c.new.is_cleared())
    );
    // None of its claims is sensitive by default: allowed, nothing sent.
    let app = TestApp::new(&[]).await;
    let answer = app.post(raw).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, serde_json::json!({"actionStatus": "SUCCESS"}));
}
