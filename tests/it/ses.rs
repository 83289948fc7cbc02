//! Security alerts through the real AWS SDK into moto's SES emulator; assertions read what the emulator holds.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{SesScope, TestApp, closed_port, success, tutorial};

fn email_error() -> serde_json::Value {
    json!({"actionStatus": "FAILED", "failureReason": "email_error",
           "failureDescription": "Failed to notify security team about sensitive data update."})
}

#[tokio::test]
async fn the_tutorial_request_alerts_the_security_team_with_masked_values() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, success());

    let sent = ses.alerts().await;
    assert_eq!(sent.len(), 1, "one alert: {sent:?}");
    let mail = &sent[0];
    assert_eq!(mail.to, [ses.security_team.as_str()]);
    assert_eq!(
        mail.subject,
        "[profile-guard] Sensitive profile change (Department, Mobile number, Email address) for user \
         57b22cbf-4688-476c-a607-c0c9d089d25d in testwso2 (2210)"
    );
    for needle in [
        "57b22cbf-4688-476c-a607-c0c9d089d25d",
        "testwso2 (2210)",
        "DEFAULT",
        "an administrator [ADMIN]",
        "<td>Department</td><td>(not sent)</td><td>H***</td>",
        "<td>Mobile number</td><td>(not sent)</td><td>+9477*****48</td>",
        "<td>Email address</td><td>(not sent)</td><td>t***@wso2.com</td>",
        "Values are masked",
    ] {
        assert!(
            mail.body.contains(needle),
            "alert lacks {needle:?}:\n{}",
            mail.body
        );
    }
    assert!(
        !mail.body.contains("+94771223448"),
        "full mobile number leaked"
    );
    assert!(
        !mail.body.contains("testuser@wso2.com"),
        "full address leaked"
    );
}

#[tokio::test]
async fn full_values_when_configured_and_old_values_when_sent() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("ALERT_VALUES", "full"));
    let app = TestApp::new(&vars).await;
    let body = json!({"actionType": "PRE_UPDATE_PROFILE", "requestId": "req-full-1", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/emailAddresses", "value": ["emily@aol.com", "emily@gmail.com"]}]},
        "tenant": {"id": "12402", "name": "bar.com"},
        "user": {"id": "u-emily", "claims": [{"uri": "http://wso2.org/claims/emailAddresses",
            "value": ["emily@aol.com"], "updatingValue": ["emily@aol.com", "emily@gmail.com"]}]},
        "initiatorType": "USER"}});
    assert_eq!(app.post(body.to_string()).await.body, success());
    let sent = ses.alerts().await;
    assert_eq!(sent.len(), 1);
    let mail = &sent[0];
    assert!(
        mail.subject
            .contains("(Email addresses) for user u-emily in bar.com (12402)"),
        "{}",
        mail.subject
    );
    assert!(
        mail.body.contains(
            "<td>Email addresses</td><td>emily@aol.com</td><td>emily@aol.com, emily@gmail.com</td>"
        ),
        "{}",
        mail.body
    );
    assert!(mail.body.contains("the user themself"));
    assert!(mail.body.contains("req-full-1"));
}

#[tokio::test]
async fn a_rejected_department_sends_no_alert() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let body = tutorial().replace("\"HR\"", "\"Legal\"");
    let answer = app.post(body).await;
    assert_eq!(answer.body["failureReason"], "invalid_department_input");
    assert!(ses.sent().await.is_empty());
}

#[tokio::test]
async fn an_unchanged_or_non_sensitive_update_sends_no_alert() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let unchanged = json!({"actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94771223448"}]},
        "user": {"id": "u-2", "claims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94771223448", "updatingValue": "+94771223448"}]}}});
    assert_eq!(app.post(unchanged.to_string()).await.body, success());
    let other = json!({"actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/country", "value": "LK"}]}, "user": {"id": "u-2"}}});
    assert_eq!(app.post(other.to_string()).await.body, success());
    assert!(ses.sent().await.is_empty());
}

#[tokio::test]
async fn sensitive_claims_can_be_configured() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push((
        "SENSITIVE_CLAIMS",
        "country, http://wso2.org/claims/lastname",
    ));
    let app = TestApp::new(&vars).await;
    let body = json!({"actionType": "PRE_UPDATE_PROFILE", "event": {"request": {"claims": [
        {"uri": "http://wso2.org/claims/country", "value": "LK"},
        {"uri": "http://wso2.org/claims/mobile", "value": "+94770000000"}]}, "user": {"id": "u-3"}}});
    assert_eq!(app.post(body.to_string()).await.body, success());
    let sent = ses.alerts().await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].subject.contains("(Country)"), "{}", sent[0].subject);
    assert!(!sent[0].body.contains("Mobile"));
}

#[tokio::test]
async fn an_unverified_sender_fails_the_update_with_email_error() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&[
        ("ALERT_SENDER", "nobody@unverified.example.org"),
        ("SECURITY_TEAM_EMAILS", ses.security_team.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", ses.endpoint.as_str()),
    ])
    .await;
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, email_error());
}

#[tokio::test]
async fn an_unreachable_ses_fails_the_update_with_email_error_in_time() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let app = TestApp::new(&[
        ("ALERT_SENDER", "guard@example.com"),
        ("SECURITY_TEAM_EMAILS", "security@example.com"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", endpoint.as_str()),
    ])
    .await;
    let started = Instant::now();
    let answer = app.post(tutorial()).await;
    assert_eq!(answer.body, email_error());
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );
}
