//! Never hide a change, never block a harmless one: what counts as the same change, how long it is remembered,
//! which answers are never replayed, and what is never judged again. Each case through the real router against
//! moto's SES (and DynamoDB), a real HTTP directory stub, or a stub speaking the SES v2 API.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::changes::{change, claim};
use crate::idempotency::{dynamodb, table};
use crate::support::{SesScope, TestApp, capture, moto, success};

fn mobile(new: &str, old: Option<&str>) -> String {
    let current = old.map_or(json!([]), |o| json!([claim("mobile", json!(o))]));
    change(None, "ADMIN", json!([claim("mobile", json!(new))]), current)
}

fn invalid_department() -> Value {
    json!({"actionStatus": "FAILED", "failureReason": "invalid_department_input",
           "failureDescription": "Provided user department value is invalid."})
}

#[tokio::test]
async fn a_request_id_sent_again_with_other_content_is_a_new_change() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE", "off"));
    let app = TestApp::new(&vars).await;
    let first = change(
        Some("bulk-op-1"),
        "APPLICATION",
        json!([claim("mobile", json!("+15550100"))]),
        json!([]),
    );
    let other = change(
        Some("bulk-op-1"),
        "APPLICATION",
        json!([claim("mobile", json!("+15550199"))]),
        json!([]),
    );
    for body in [&first, &other, &first] {
        assert_eq!(app.post(body.clone()).await.body, success());
    }
    assert_eq!(ses.alerts().await.len(), 2, "two changes, two alerts");
    let audits = logs.audits();
    assert_eq!(audits[1]["request_id_reused"], true, "{:#?}", audits[1]);
    assert_eq!(audits[1]["duplicate"], Value::Null);
    assert_eq!(audits[2]["duplicate"], "replayed_local", "a true retry");
}

#[tokio::test]
async fn a_change_back_and_forth_alerts_every_time() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE", "off"));
    vars.push(("IDEMPOTENCY_CONTENT_TTL_SECS", "1"));
    let app = TestApp::new(&vars).await;
    let there = mobile("+15550199", Some("+15550100"));
    let back = mobile("+15550100", Some("+15550199"));
    assert_eq!(app.post(there.clone()).await.body, success());
    assert_eq!(app.post(there.clone()).await.body, success(), "a retry");
    assert_eq!(ses.alerts().await.len(), 1, "the retry sent nothing");
    assert_eq!(app.post(back).await.body, success());
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(app.post(there).await.body, success());
    assert_eq!(ses.alerts().await.len(), 3, "A→B, B→A, A→B: three alerts");
}

const SES_SEND: &str = "/v2/email/outbound-emails";

fn ses_ok(delay: Duration) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"MessageId": "stub-message-1"}))
        .set_delay(delay)
}

/// A stub of the SES v2 API: `first` answers the first send, every later send is accepted after `later`.
async fn ses_stub(first: ResponseTemplate, later: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SES_SEND))
        .respond_with(first)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SES_SEND))
        .respond_with(ses_ok(later))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn stub_vars(ses: &str) -> Vec<(&str, &str)> {
    vec![
        ("ALERT_SENDER", "guard@example.com"),
        ("SECURITY_TEAM_EMAILS", "security@example.com"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", ses),
    ]
}

#[tokio::test]
async fn an_undelivered_alert_is_tried_again_by_the_next_identical_call() {
    let rejected = ResponseTemplate::new(400)
        .insert_header("x-amzn-errortype", "MessageRejected")
        .set_body_json(json!({"message": "MessageRejected from the stub"}));
    let server = ses_stub(rejected, Duration::ZERO).await;
    let uri = server.uri();
    let mut vars = stub_vars(&uri);
    vars.push(("USER_NOTICE", "off"));
    let app = TestApp::new(&vars).await;
    let body =
        mobile("+15550199", Some("+15550100")).replacen('{', r#"{"requestId":"r-mail-1","#, 1);
    let first = app.post(body.clone()).await;
    assert_eq!(first.body["failureReason"], "email_error");
    assert_eq!(app.post(body).await.body, success(), "delivered this time");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_refused_department_is_asked_again_after_the_negative_ttl() {
    let ses = SesScope::new().await;
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&directory)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&directory)
        .await;
    let url = format!("{}/departments/{{department}}", directory.uri());
    let mut vars = ses.vars();
    vars.push(("DEPARTMENT_API_URL", &url));
    vars.push(("DEPARTMENT_CACHE_NEGATIVE_TTL", "1"));
    vars.push(("USER_NOTICE", "off"));
    let app = TestApp::new(&vars).await;
    let body = change(
        Some("r-dept-1"),
        "ADMIN",
        json!([claim("department", json!("Legal"))]),
        json!([claim("department", json!("HR"))]),
    );
    assert_eq!(app.post(body.clone()).await.body, invalid_department());
    assert_eq!(app.post(body.clone()).await.body, invalid_department());
    assert_eq!(directory.received_requests().await.unwrap().len(), 1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // The department has since been added to the directory.
    assert_eq!(app.post(body).await.body, success());
    assert_eq!(ses.alerts().await.len(), 1);
}

async fn table_app(ses: &SesScope, table: &str, extra: &[(&'static str, &'static str)]) -> TestApp {
    let endpoint = moto().endpoint.as_str();
    let mut vars = ses.vars();
    vars.push(("IDEMPOTENCY_TABLE", table));
    vars.push(("AWS_ENDPOINT_URL_DYNAMODB", endpoint));
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

async fn records(table: &str) -> usize {
    let scan = dynamodb().await.scan().table_name(table).send().await;
    scan.expect("the emulator scans").items().len()
}

#[tokio::test]
async fn a_change_with_nothing_to_send_leaves_no_record() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let table = table().await;
    let app = table_app(&ses, &table, &[]).await;
    let body = change(
        Some("r-country-1"),
        "USER",
        json!([claim("country", json!("Sri Lanka"))]),
        json!([claim("emailaddress", json!("emily@aol.com"))]),
    );
    assert_eq!(app.post(body).await.body, success());
    assert_eq!(records(&table).await, 0, "nothing sent, nothing stored");
    assert_eq!(logs.audits()[0]["idempotency"], "skipped");
    assert!(ses.sent().await.is_empty());
}

#[tokio::test]
async fn a_slow_notice_after_the_alert_does_not_turn_success_into_error() {
    let (logs, _guard) = capture();
    let server = ses_stub(ses_ok(Duration::ZERO), Duration::from_secs(3)).await;
    let uri = server.uri();
    let mut vars = stub_vars(&uri);
    vars.push(("DEADLINE_MS", "800"));
    let app = TestApp::new(&vars).await;
    let body = change(
        None,
        "ADMIN",
        json!([claim("mobile", json!("+15550199"))]),
        json!([claim("emailaddress", json!("emily@aol.com"))]),
    );
    let started = Instant::now();
    let answer = app.post(body).await;
    assert_eq!((answer.status, answer.body), (200, success()));
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "{:?}",
        started.elapsed()
    );
    let audit = &logs.audits()[0];
    assert!(
        audit["alert"].as_str().unwrap().starts_with("email:sent:"),
        "{audit}"
    );
    assert_eq!(audit["notice"], "failed:deadline", "{audit}");
}

/// Puts `item` into the table under the record id profile-guard would use for `body`.
async fn plant(table: &str, body: &str, item: &[(&str, AttributeValue)]) {
    let req = profile_guard::action::parse_request(body.as_bytes()).unwrap();
    let id = profile_guard::idempotency::key_of(&req).record_id();
    let mut put = dynamodb()
        .await
        .put_item()
        .table_name(table)
        .item("id", AttributeValue::S(id));
    for (name, value) in item {
        put = put.item(*name, value.clone());
    }
    put.send().await.expect("the emulator stores the item");
}

#[tokio::test]
async fn a_malformed_or_foreign_record_is_treated_as_absent() {
    let ses = SesScope::new().await;
    let table = table().await;
    let app = table_app(&ses, &table, &[("USER_NOTICE", "off")]).await;
    let in_an_hour = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let garbage = mobile("+15550111", None);
    plant(
        &table,
        &garbage,
        &[
            ("status", AttributeValue::S("COMPLETED".into())),
            ("data", AttributeValue::S("not an answer".into())),
            ("expiration", AttributeValue::N(in_an_hour.to_string())),
        ],
    )
    .await;
    let foreign = mobile("+15550122", None);
    plant(
        &table,
        &foreign,
        &[("owner", AttributeValue::S("another tool".into()))],
    )
    .await;
    for body in [garbage, foreign] {
        let started = Instant::now();
        let answer = app.post(body).await;
        assert_eq!((answer.status, answer.body), (200, success()));
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not spun on: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(ses.alerts().await.len(), 2);
}
