//! What an operator reads: one JSON audit line per decision, with the request id, and no attribute value or
//! secret in any line.

use serde_json::Value;

use crate::support::{TestApp, capture, tutorial};

#[tokio::test]
async fn one_audit_line_per_decision_with_names_not_values() {
    let (logs, _guard) = capture();
    let app = TestApp::new(&[]).await;
    let body = tutorial().replacen('{', r#"{"requestId":"5f0e6c2a9b1d4e7f","#, 1);
    assert_eq!(app.post(body).await.status, 200);
    assert_eq!(app.post("{oops").await.status, 400);

    let lines = logs.lines();
    let audits: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "profile_guard::audit")
        .collect();
    assert_eq!(audits.len(), 2, "{lines:#?}");
    let first = audits[0];
    assert_eq!(first["request_id"], "5f0e6c2a9b1d4e7f");
    assert_eq!(first["decision"], "SUCCESS");
    assert_eq!(first["tenant"], "testwso2");
    assert_eq!(first["initiator"], "ADMIN");
    assert_eq!(first["claims_written"], "department,mobile,emailaddress");
    assert_eq!(first["sensitive_changed"], "department,mobile,emailaddress");
    assert_eq!(first["department_check"], "known");
    assert!(
        first["alert"]
            .as_str()
            .unwrap()
            .starts_with("email:sent:outbox-"),
        "{first}"
    );
    assert!(
        first["notice"]
            .as_str()
            .unwrap()
            .starts_with("sent:outbox-"),
        "{first}"
    );
    let second = audits[1];
    assert_eq!(second["decision"], "ERROR");
    assert_eq!(second["reason"], "invalid_request");
    assert!(second["request_id"].as_str().unwrap().starts_with("pg-"));

    // The log outbox shows the whole (masked) message in one line.
    let outbox: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "profile_guard::outbox")
        .collect();
    assert_eq!(outbox.len(), 2, "the alert and the notice");
    assert!(outbox[0]["text"].as_str().unwrap().contains("+9477*****48"));

    let all = logs.text();
    for secret_or_value in ["+94771223448", "testuser@wso2.com", "\"HR\""] {
        assert!(
            !all.contains(secret_or_value),
            "{secret_or_value} reached the log"
        );
    }
}

#[tokio::test]
async fn the_directory_token_never_reaches_the_log() {
    let (logs, _guard) = capture();
    let app = TestApp::new(&[
        (
            "DEPARTMENT_API_URL",
            "http://127.0.0.1:9/departments/{department}?key=query-secret-42",
        ),
        ("DEPARTMENT_API_TOKEN", "token-secret-42"),
        ("DEPARTMENT_API_TIMEOUT_MS", "200"),
    ])
    .await;
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.status, 500);
    let all = logs.text();
    assert!(all.contains("profile-guard configured"));
    assert!(!all.contains("token-secret-42"));
    assert!(!all.contains("query-secret-42"));
}

/// Every string value of every claim in the scenario bodies.
fn claim_values(body: &Value, out: &mut Vec<String>) {
    match body {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "value" || k == "updatingValue" {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        Value::Array(items) => {
                            out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_owned)))
                        }
                        _ => {}
                    }
                } else {
                    claim_values(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| claim_values(i, out)),
        _ => {}
    }
}

/// Reports on, with a lock through SCIM2 (where nothing listens: the lock fails, and says so).
const REPORTS: [(&str, &str); 5] = [
    ("REPORT_URL_BASE", "https://guard.example.test"),
    (
        "REPORT_LINK_SECRET",
        "report-key-secret-0123456789abcdef-44",
    ),
    ("REPORT_ACTION", "lock"),
    ("WSO2_SCIM_URL", "http://127.0.0.1:9"),
    ("WSO2_SCIM_TOKEN", "scim-token-secret-33"),
];

/// A notice's report link, opened and pressed; its token.
async fn report_link_pressed(app: &TestApp, ses: &crate::support::SesScope) -> String {
    let notices = ses.notices().await;
    let link = notices.iter().find_map(|n| crate::report::link_in(&n.body));
    let token = crate::report::token_of(&link.expect("the notices carry report links"));
    assert_eq!(crate::report::open(app, &token).await.status, 200);
    assert_eq!(crate::report::press(app, &token).await.status, 200);
    token
}

#[tokio::test]
async fn no_secret_and_no_attribute_value_reaches_any_log_line() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let (logs, _guard) = capture();
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&directory)
        .await;
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&slack)
        .await;
    let ses = crate::support::SesScope::new().await;
    let dir_url = format!(
        "{}/departments/{{department}}?apikey=dir-query-secret-77",
        directory.uri()
    );
    let slack_url = format!("{}/services/T0/B0/slack-secret-path-55", slack.uri());
    let mut vars = ses.vars();
    vars.extend_from_slice(&[
        ("AUTH_MODE", "bearer"),
        ("AUTH_CREDENTIAL", "caller-token-secret-99"),
        ("DEPARTMENT_API_URL", dir_url.as_str()),
        ("DEPARTMENT_API_TOKEN", "dir-token-secret-88"),
        ("SLACK_WEBHOOK_URL", slack_url.as_str()),
    ]);
    vars.extend_from_slice(&REPORTS);
    let app = TestApp::new(&vars).await;

    let mut values = Vec::new();
    let bodies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events/bodies");
    let mut answered = 0;
    for entry in std::fs::read_dir(bodies).unwrap() {
        let raw = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(&raw) {
            claim_values(&v, &mut values);
        }
        for token in ["caller-token-secret-99", "wrong-token-secret-66"] {
            let request = axum::http::Request::post("/pre-update-profile")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::from(raw.clone()))
                .unwrap();
            app.request(request).await;
            answered += 1;
        }
    }
    assert!(answered >= 20);
    assert!(!ses.sent().await.is_empty(), "the scenarios did send mail");
    let token = report_link_pressed(&app, &ses).await;

    let all = logs.text();
    assert!(
        all.lines()
            .filter(|l| l.contains("profile_guard::audit"))
            .count()
            >= answered
    );
    for secret in [
        "caller-token-secret-99",
        "wrong-token-secret-66",
        "dir-token-secret-88",
        "dir-query-secret-77",
        "slack-secret-path-55",
        "report-key-secret-0123456789abcdef-44",
        "scim-token-secret-33",
        &token,
        &token[3..40],
    ] {
        assert!(!all.contains(secret), "{secret} reached the log");
    }
    assert_no_value_in(&all, values);
}

/// No claim value appears in `log`: longer ones anywhere, short ones as a whole JSON string.
fn assert_no_value_in(log: &str, mut values: Vec<String>) {
    values.sort();
    values.dedup();
    let mut checked = 0;
    for value in values.iter().filter(|v| v.chars().count() >= 5) {
        assert!(
            !log.contains(value.as_str()),
            "the value {value:?} reached the log"
        );
        checked += 1;
    }
    for value in values
        .iter()
        .filter(|v| !v.is_empty() && v.chars().count() < 5)
    {
        assert!(
            !log.contains(&format!("\"{value}\"")),
            "the value {value:?} reached the log"
        );
    }
    assert!(checked >= 8, "checked {checked} values");
}
