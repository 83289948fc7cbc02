//! What each change sends, and to whom: the person's notice by e-mail or Slack, worded by who made the change;
//! the address read from Okta's Users API when the login is not one; the security team's alert.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{
    EMILY, admin, deliver, delivery, emily, fresh, okta_app, posted, profile_event, slack,
    slack_app,
};
use crate::support::{SesScope, capture};

const AT: &str = "2026-11-26T09:30:00.000Z";

#[tokio::test]
async fn a_self_change_tells_the_person_by_email() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[("SUPPORT_CONTACT", "it-help@example.com")]).await;
    let id = fresh();
    let answer = deliver(
        &app,
        delivery(vec![profile_event(
            &id,
            AT,
            emily(),
            "lastName,mobilePhone",
        )]),
    )
    .await;
    assert_eq!(answer.status, 204);

    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(notices[0].to, ["emily@example.com"]);
    assert_eq!(
        notices[0].subject,
        "You updated your example.okta.com profile"
    );
    for needle in [
        "Hello Emily Ng,",
        "It looks like you updated your example.okta.com profile on 2026-11-26T09:30:00Z",
        "<li>Mobile phone</li>",
        "contact it-help@example.com right away",
        &id,
    ] {
        assert!(
            notices[0].body.contains(needle),
            "lacks {needle:?}:\n{}",
            notices[0].body
        );
    }
    assert!(
        !notices[0].body.contains("Last name"),
        "an unwatched attribute is listed"
    );
    assert!(
        ses.alerts().await.is_empty(),
        "no alert attributes are configured"
    );

    let audits = logs.audits();
    let event = audits
        .iter()
        .find(|a| a["message"] == "okta event")
        .expect("an event line");
    assert_eq!(event["event_id"], id.as_str());
    assert_eq!(event["user_id"], EMILY);
    assert_eq!(event["changed_by"], "self");
    assert_eq!(event["watched_changed"], "mobilePhone");
    assert_eq!(event["messages"], "notice_email:sent");
    assert!(
        !logs.text().contains("emily@example.com"),
        "the login reached the logs"
    );
}

#[tokio::test]
async fn the_wording_follows_who_made_the_change() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let app_actor = json!({"id": "0oa1app", "type": "PublicClientApp", "alternateId": "HR sync", "displayName": "HR sync"});
    let body = delivery(vec![
        profile_event(&fresh(), AT, admin(), "manager"),
        profile_event(
            &fresh(),
            "2026-11-26T09:31:00.000Z",
            app_actor,
            "primaryPhone",
        ),
    ]);
    assert_eq!(deliver(&app, body).await.status, 204);
    let mut subjects: Vec<String> = ses.notices().await.into_iter().map(|m| m.subject).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "An administrator updated your example.okta.com profile",
            "An application or integration updated your example.okta.com profile",
        ]
    );
    let bodies: Vec<String> = ses.notices().await.into_iter().map(|m| m.body).collect();
    assert!(bodies.iter().any(|b| b.contains(
        "by an administrator, an HR tool, or possibly you within an external application"
    )));
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("notify your security team right away"))
    );
}

#[tokio::test]
async fn unwatched_failed_and_other_events_send_nothing_and_are_counted() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let mut failed = profile_event(&fresh(), AT, admin(), "email");
    failed["outcome"]["result"] = json!("FAILURE");
    let mut other = profile_event(&fresh(), AT, admin(), "email");
    other["eventType"] = json!("user.session.start");
    let body = delivery(vec![
        profile_event(&fresh(), AT, admin(), "lastName,CIS_Number"),
        failed,
        other,
        json!({"published": "no uuid"}),
    ]);
    assert_eq!(deliver(&app, body).await.status, 204);
    assert!(ses.sent().await.is_empty());
    let audits = logs.audits();
    let line = audits
        .iter()
        .find(|a| a["message"] == "okta delivery")
        .expect("a delivery line");
    assert_eq!(line["events"], 4);
    assert_eq!(line["changes"], 0);
    assert_eq!(
        line["skipped"],
        "failed_outcome:1,other_type:1,unreadable:1,unwatched:1"
    );
    assert_eq!(line["decision"], "done");
}

#[tokio::test]
async fn with_user_notice_others_a_self_change_sends_nothing() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[("USER_NOTICE", "others")]).await;
    let body = delivery(vec![profile_event(&fresh(), AT, emily(), "email")]);
    assert_eq!(deliver(&app, body).await.status, 204);
    assert!(ses.sent().await.is_empty());
}

#[tokio::test]
async fn the_notice_can_go_as_a_slack_direct_message_instead() {
    let server =
        slack(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"}))).await;
    let ses = SesScope::new().await;
    let app = slack_app(&ses, &server, "slack").await;
    let body = delivery(vec![profile_event(&fresh(), AT, admin(), "secondEmail")]);
    assert_eq!(deliver(&app, body).await.status, 204);
    assert!(ses.sent().await.is_empty(), "slack only: no e-mail");
    let texts = posted(&server).await;
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains("*Secondary email*"), "{}", texts[0]);
    assert!(texts[0].contains("by an administrator"), "{}", texts[0]);
}

/// Okta's Users API for one user whose login is not an address; only the right SSWS token is let in.
async fn users_api(status: u16, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users/00u2kim"))
        .and(header("authorization", "SSWS okta-api-token-1"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "errorCode": "E0000011", "errorSummary": "Invalid token provided"})))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// The app with Okta's Users API stub as the org, and `token` as the API token.
async fn users_app(ses: &SesScope, okta: &MockServer, token: &str) -> crate::support::TestApp {
    let org = okta.uri();
    let vars = [("OKTA_ORG_URL", org.as_str()), ("OKTA_API_TOKEN", token)];
    okta_app(ses, &vars).await
}

fn kim_change() -> String {
    let mut event = profile_event(&fresh(), AT, admin(), "mobilePhone");
    event["target"] =
        json!([{"id": "00u2kim", "type": "User", "alternateId": "kim", "displayName": "Kim"}]);
    delivery(vec![event])
}

#[tokio::test]
async fn a_login_that_is_not_an_address_is_looked_up_in_okta() {
    let (logs, _guard) = capture();
    let okta = users_api(
        200,
        json!({"id": "00u2kim", "profile": {"login": "kim", "email": "kim@example.com"}}),
    )
    .await;
    let ses = SesScope::new().await;
    let app = users_app(&ses, &okta, "okta-api-token-1").await;
    assert_eq!(deliver(&app, kim_change()).await.status, 204);
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].to, ["kim@example.com"]);
    assert!(
        notices[0].subject.contains("127.0.0.1"),
        "OKTA_ORG_URL names the org: {}",
        notices[0].subject
    );
    assert!(
        !logs.text().contains("okta-api-token-1"),
        "the API token reached the logs"
    );
}

#[tokio::test]
async fn without_a_token_or_a_user_the_notice_is_skipped_with_a_reason() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    assert_eq!(deliver(&app, kim_change()).await.status, 204);
    let okta = users_api(
        404,
        json!({"errorCode": "E0000007", "errorSummary": "Not found"}),
    )
    .await;
    let with_token = users_app(&ses, &okta, "okta-api-token-1").await;
    assert_eq!(deliver(&with_token, kim_change()).await.status, 204);
    assert!(ses.sent().await.is_empty());
    let events: Vec<_> = logs
        .audits()
        .into_iter()
        .filter(|a| a["message"] == "okta event")
        .collect();
    assert_eq!(events.len(), 2);
    for event in events {
        assert_eq!(event["messages"], "notice_email:skipped:no_address");
    }
}

#[tokio::test]
async fn alert_attributes_alert_the_security_team_without_values() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[("OKTA_ALERT_ATTRIBUTES", "manager,costCenter")]).await;
    let body = delivery(vec![profile_event(
        &fresh(),
        AT,
        admin(),
        "manager,costCenter,lastName",
    )]);
    assert_eq!(deliver(&app, body).await.status, 204);
    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].subject,
        "[profile-guard] Okta profile change (Manager, costCenter) for Emily Ng <emily@example.com> in example.okta.com"
    );
    assert!(
        alerts[0].body.contains("admin@example.com"),
        "{}",
        alerts[0].body
    );
    assert!(alerts[0].body.contains("not their values"));
    assert_eq!(
        ses.notices().await.len(),
        1,
        "manager is watched too: Emily is told"
    );
}

#[tokio::test]
async fn an_outage_of_the_users_api_asks_okta_to_retry() {
    let okta = users_api(
        503,
        json!({"errorCode": "E0000009", "errorSummary": "Internal Server Error"}),
    )
    .await;
    let ses = SesScope::new().await;
    let app = users_app(&ses, &okta, "okta-api-token-1").await;
    let answer = deliver(&app, kim_change()).await;
    assert_eq!(answer.status, 503);
    assert!(ses.sent().await.is_empty());
    // A wrong token will not heal by retrying: logged, answered 204.
    let app = users_app(&ses, &okta, "okta-api-token-2").await;
    assert_eq!(deliver(&app, kim_change()).await.status, 204);
}
