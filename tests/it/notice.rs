//! Telling the person whose profile changes, through the SES emulator: who gets it, in which words, when not.

use serde_json::json;

use crate::support::{SesScope, TestApp, success};

fn update(
    initiator: &str,
    claims: serde_json::Value,
    current: serde_json::Value,
    request_id: &str,
) -> String {
    json!({"requestId": request_id, "actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": claims},
        "tenant": {"id": "12402", "name": "bar.com"},
        "user": {"id": "u-emily", "claims": current},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": initiator, "action": "UPDATE"}})
    .to_string()
}

fn mobile_change(initiator: &str, request_id: &str) -> String {
    update(
        initiator,
        json!([{"uri": "http://wso2.org/claims/mobile", "value": "+94771234567"}]),
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"},
               {"uri": "http://wso2.org/claims/givenname", "value": "Emily"}]),
        request_id,
    )
}

#[tokio::test]
async fn a_self_service_mobile_change_sends_one_alert_and_one_you_changed_notice() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("SUPPORT_CONTACT", "https://help.bar.com"));
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(mobile_change("USER", "self-1")).await.body,
        success()
    );
    assert_eq!(ses.alerts().await.len(), 1);
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    let n = &notices[0];
    assert_eq!(n.to, ["emily@aol.com"]);
    assert_eq!(n.subject, "You updated your bar.com profile");
    for needle in [
        "Hello Emily",
        "You changed these details",
        "Mobile number: +9477*****67",
        "help.bar.com",
    ] {
        assert!(
            n.body.contains(needle),
            "notice lacks {needle:?}:\n{}",
            n.body
        );
    }
    assert!(!n.body.contains("+94771234567"));
}

#[tokio::test]
async fn an_admin_email_change_is_told_to_the_old_address() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let body = update(
        "ADMIN",
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "attacker@evil.example"}]),
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com", "updatingValue": "attacker@evil.example"}]),
        "admin-1",
    );
    assert_eq!(app.post(body).await.body, success());
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].to,
        ["emily@aol.com"],
        "the old address, not the new one"
    );
    assert_eq!(
        notices[0].subject,
        "An administrator updated your bar.com profile"
    );
    assert!(notices[0].body.contains("An administrator changed"));
    assert!(
        notices[0]
            .body
            .contains("goes to the address you had before the change")
    );
    assert!(notices[0].body.contains("a***@evil.example"));
}

#[tokio::test]
async fn the_new_address_is_told_too_when_configured() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE_NEW_ADDRESS", "true"));
    let app = TestApp::new(&vars).await;
    let body = update(
        "APPLICATION",
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "emily.new@gmail.com"}]),
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"}]),
        "app-1",
    );
    assert_eq!(app.post(body).await.body, success());
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].to, ["emily@aol.com", "emily.new@gmail.com"]);
    assert_eq!(
        notices[0].subject,
        "An application updated your bar.com profile"
    );
}

#[tokio::test]
async fn others_mode_suppresses_the_self_service_notice_only() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE", "others"));
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(mobile_change("USER", "others-1")).await.body,
        success()
    );
    assert_eq!(ses.alerts().await.len(), 1, "the alert still goes");
    assert!(ses.notices().await.is_empty());
    assert_eq!(
        app.post(mobile_change("ADMIN", "others-2")).await.body,
        success()
    );
    assert_eq!(ses.notices().await.len(), 1);
}

#[tokio::test]
async fn off_mode_and_unwatched_claims_send_no_notice() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE", "off"));
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(mobile_change("ADMIN", "off-1")).await.body,
        success()
    );
    assert!(ses.notices().await.is_empty());

    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE_CLAIMS", "emailaddress"));
    let app = TestApp::new(&vars).await;
    assert_eq!(
        app.post(mobile_change("ADMIN", "watched-1")).await.body,
        success()
    );
    assert!(ses.notices().await.is_empty(), "mobile is not watched");
    assert_eq!(ses.alerts().await.len(), 1);
}

#[tokio::test]
async fn the_same_request_twice_sends_each_email_once() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    // With a requestId, and without one (keyed on tenant, user and the claims written).
    let with_id = mobile_change("USER", "retry-1");
    let without_id = mobile_change("ADMIN", "").replace(r#""requestId":"","#, "");
    for body in [with_id, without_id] {
        let first = app.post(body.clone()).await;
        let second = app.post(body).await;
        assert_eq!(first.body, success());
        assert_eq!(
            second.body,
            success(),
            "a duplicate gets the first call's answer"
        );
    }
    assert_eq!(ses.alerts().await.len(), 2);
    assert_eq!(ses.notices().await.len(), 2);
}

#[tokio::test]
async fn a_rejected_update_is_answered_the_same_on_retry_and_sends_nothing() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let body = update(
        "ADMIN",
        json!([{"uri": "http://wso2.org/claims/department", "value": "Legal"}]),
        json!([{"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"}]),
        "reject-1",
    );
    let first = app.post(body.clone()).await;
    let second = app.post(body).await;
    assert_eq!(first.body["failureReason"], "invalid_department_input");
    assert_eq!(second.body, first.body);
    assert!(ses.sent().await.is_empty());
}

#[tokio::test]
async fn templates_can_be_replaced_without_recompiling() {
    let dir = std::env::temp_dir().join(format!("pg-templates-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("notice.subject.txt"),
        "Profile change at {{ tenant_name }} ({{ initiator }})",
    )
    .unwrap();
    std::fs::write(
        dir.join("notice.html"),
        "<p>Changed: {% for a in attributes %}{{ a.name }} {% endfor %}</p>",
    )
    .unwrap();
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    let dir_text = dir.to_string_lossy().to_string();
    vars.push(("TEMPLATE_DIR", dir_text.as_str()));
    let app = TestApp::new(&vars).await;
    let body = mobile_change("ADMIN", "tpl-1").replace("bar.com", "<b>bar</b>");
    assert_eq!(app.post(body).await.body, success());
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].subject, "Profile change at <b>bar</b> (ADMIN)",
        "subjects are plain text"
    );
    assert_eq!(notices[0].body, "<p>Changed: Mobile number </p>");
    let _ = std::fs::remove_dir_all(&dir);
}
