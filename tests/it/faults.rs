//! The fault matrix: each upstream misbehaving in each way, driven through real loopback servers (wiremock for the
//! directory, and a stub that speaks the SES v2 JSON API), asserting the answer and the time it took.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Exploding, TestApp, closed_port, success, tutorial};

const SES_SEND: &str = "/v2/email/outbound-emails";

fn email_error() -> serde_json::Value {
    json!({"actionStatus": "FAILED", "failureReason": "email_error",
           "failureDescription": "Failed to notify security team about sensitive data update."})
}

fn ses_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"MessageId": "stub-message-1"}))
}

fn ses_error(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", code)
        .set_body_json(json!({"message": format!("{code} from the stub")}))
}

/// An app whose SES endpoint is `ses` and whose settings are the defaults plus `extra`.
async fn app_with_ses(ses: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![
        ("ALERT_SENDER", "guard@example.com"),
        ("SECURITY_TEAM_EMAILS", "security@example.com"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", ses),
        ("USER_NOTICE", "off"),
    ];
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

#[tokio::test]
async fn ses_throttling_is_retried_with_backoff_inside_the_deadline() {
    let ses = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SES_SEND))
        .respond_with(ses_error(429, "TooManyRequestsException"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&ses)
        .await;
    Mock::given(method("POST"))
        .and(path(SES_SEND))
        .respond_with(ses_ok())
        .with_priority(2)
        .mount(&ses)
        .await;
    let app = app_with_ses(&ses.uri(), &[]).await;
    let started = Instant::now();
    assert_eq!(app.post(tutorial()).await.body, success());
    let took = started.elapsed();
    assert_eq!(
        ses.received_requests().await.unwrap().len(),
        3,
        "two throttled attempts, then delivered"
    );
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

#[tokio::test]
async fn every_ses_fault_fails_the_update_cleanly_and_in_time() {
    // (what, response, attempts expected)
    let cases: Vec<(&str, ResponseTemplate, usize)> = vec![
        (
            "throttled throughout",
            ses_error(429, "TooManyRequestsException"),
            3,
        ),
        ("5xx throughout", ses_error(500, "InternalFailure"), 3),
        ("503", ses_error(503, "ServiceUnavailable"), 3),
        (
            "invalid credentials",
            ses_error(403, "UnrecognizedClientException"),
            1,
        ),
        ("sender not verified", ses_error(400, "MessageRejected"), 1),
        (
            "garbage answer",
            ResponseTemplate::new(200).set_body_string("<html>"),
            1,
        ),
        ("slow", ses_ok().set_delay(Duration::from_secs(4)), 1),
    ];
    for (what, response, attempts) in cases {
        let ses = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(SES_SEND))
            .respond_with(response)
            .mount(&ses)
            .await;
        let app = app_with_ses(&ses.uri(), &[]).await;
        let started = Instant::now();
        let answer = app.post(tutorial()).await;
        let took = started.elapsed();
        assert_eq!(answer.status, 200, "{what}");
        assert_eq!(answer.body, email_error(), "{what}");
        assert!(took < Duration::from_millis(2600), "{what}: took {took:?}");
        let seen = ses.received_requests().await.unwrap().len();
        assert!(
            seen >= 1 && seen <= attempts.max(1),
            "{what}: {seen} attempts, expected up to {attempts}"
        );
    }
    // Unreachable.
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let app = app_with_ses(&dead, &[]).await;
    let started = Instant::now();
    assert_eq!(app.post(tutorial()).await.body, email_error());
    assert!(started.elapsed() < Duration::from_millis(2600));
}

#[tokio::test]
async fn fail_open_settings_let_the_update_through_and_say_so() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let url = format!("{dead}/d/{{department}}");
    // The directory is down: by default an ERROR, with DIRECTORY_UNAVAILABLE=allow a SUCCESS.
    let strict = TestApp::new(&[("DEPARTMENT_API_URL", url.as_str())]).await;
    assert_eq!(strict.post(tutorial()).await.status, 500);
    let lenient = TestApp::new(&[
        ("DEPARTMENT_API_URL", url.as_str()),
        ("DIRECTORY_UNAVAILABLE", "allow"),
    ])
    .await;
    assert_eq!(lenient.post(tutorial()).await.body, success());
    // SES is down: by default FAILED email_error, with ALERT_UNDELIVERED=allow a SUCCESS.
    let lenient = app_with_ses(&dead, &[("ALERT_UNDELIVERED", "allow")]).await;
    assert_eq!(lenient.post(tutorial()).await.body, success());
}

#[tokio::test]
async fn the_whole_call_ends_by_the_deadline() {
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(500)))
        .mount(&directory)
        .await;
    let ses = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ses_ok().set_delay(Duration::from_secs(3)))
        .mount(&ses)
        .await;
    let url = format!("{}/d/{{department}}", directory.uri());
    let app = app_with_ses(
        &ses.uri(),
        &[
            ("DEPARTMENT_API_URL", url.as_str()),
            ("DEPARTMENT_API_TIMEOUT_MS", "900"),
            ("DEADLINE_MS", "800"),
        ],
    )
    .await;
    let started = Instant::now();
    let answer = app.post(tutorial()).await;
    let took = started.elapsed();
    assert_eq!(
        answer.body,
        json!({"actionStatus": "ERROR", "errorMessage": "deadline_exceeded",
               "errorDescription": "profile-guard could not finish its checks in time."})
    );
    assert_eq!(answer.status, 500);
    assert!(
        took >= Duration::from_millis(790) && took < Duration::from_millis(1000),
        "took {took:?}"
    );
}

#[tokio::test]
async fn a_panic_becomes_a_contract_valid_500_and_the_service_keeps_answering() {
    let app = TestApp::with(&[], |state| state.pipeline.directory = Arc::new(Exploding)).await;
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.status, 500);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        answer.body,
        json!({"actionStatus": "ERROR", "errorMessage": "server_error",
               "errorDescription": "profile-guard failed while checking the update."})
    );
    // The next call for the same change is not stuck behind the one that panicked.
    assert_eq!(app.post(tutorial()).await.status, 500);
    let no_department = tutorial().replace(
        r#""uri": "http://wso2.org/claims/department","#,
        r#""uri": "http://wso2.org/claims/country","#,
    );
    assert_eq!(app.post(no_department).await.body, success());
}
