//! One notice per change, whatever the order: two changes before any commit, commits in either order, two
//! instances, the sweep after a notice's time ran out, a deadline mid-send, commits shaped as WSO2 really sends
//! them, an old delivery, and a store that cannot keep the notice.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::idempotency::shared_table;
use crate::support::{Captured, SesScope, capture, moto, success};

use super::{TENANT_ID, USER, commit_app, deliver, fresh, mobile_change, now_ms};

const EMAIL: &str = "http://wso2.org/claims/emailaddress";
const EMAILS: &str = "http://wso2.org/claims/emailAddresses";
const MOBILE: &str = "http://wso2.org/claims/mobile";

/// A pre-update call: an administrator changes Emily's address from `from` to `to`.
fn email_change(from: &str, to: &str) -> String {
    json!({"requestId": fresh(), "actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": EMAIL, "value": to}]},
        "tenant": {"id": TENANT_ID, "name": "bar.com"},
        "user": {"id": USER, "claims": [
            {"uri": EMAIL, "value": from},
            {"uri": "http://wso2.org/claims/givenname", "value": "Emily"}]},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}

/// A commit event naming `claims` (full URIs), or no claim array at all; issued `age` ago.
fn commit_event(jti: &str, claims: Option<&[&str]>, age: Duration) -> String {
    let mut user = json!({"id": USER});
    if let Some(claims) = claims {
        let updated: Vec<Value> = claims
            .iter()
            .map(|c| json!({"uri": c, "value": "(new)"}))
            .collect();
        user["updatedClaims"] = Value::Array(updated);
    }
    json!({"iss": "https://localhost:9443/t/bar.com", "jti": jti, "iat": now_ms() - age.as_millis() as u64,
        "events": {"https://schemas.identity.wso2.org/events/user/event-type/userProfileUpdated": {
            "initiatorType": "ADMIN", "initiatorIpAddress": "203.0.113.10", "user": user,
            "tenant": {"id": TENANT_ID, "name": "bar.com"}, "action": "PROFILE_UPDATE"}}})
    .to_string()
}

fn commit(claims: &[&str]) -> String {
    commit_event(&fresh(), Some(claims), Duration::ZERO)
}

fn recipients(notices: &[crate::support::SentMail]) -> Vec<String> {
    notices.iter().map(|n| n.to.join(",")).collect()
}

#[tokio::test]
async fn an_address_changed_twice_before_any_commit_is_told_to_the_first_address_first() {
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    let post = |body| app.post(body);
    assert_eq!(
        post(email_change("a@owner.example", "b@attacker.example"))
            .await
            .body,
        success()
    );
    assert_eq!(
        post(email_change("b@attacker.example", "c@attacker.example"))
            .await
            .body,
        success()
    );
    // Each commit names the address and the companion claim WSO2 updates itself.
    assert_eq!(deliver(&app, commit(&[EMAIL, EMAILS])).await.status, 204);
    assert_eq!(
        recipients(&ses.notices().await),
        ["a@owner.example"],
        "the owner first"
    );
    assert_eq!(deliver(&app, commit(&[EMAILS, EMAIL])).await.status, 204);
    assert_eq!(
        recipients(&ses.notices().await),
        ["a@owner.example", "b@attacker.example"]
    );
}

#[tokio::test]
async fn two_quick_phone_changes_are_two_notices() {
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    for _ in 0..2 {
        assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    }
    for _ in 0..2 {
        assert_eq!(deliver(&app, commit(&[MOBILE])).await.status, 204);
    }
    assert_eq!(ses.notices().await.len(), 2);
    assert_eq!(deliver(&app, commit(&[MOBILE])).await.status, 204);
    assert_eq!(
        ses.notices().await.len(),
        2,
        "a third commit has nothing to send"
    );
}

#[tokio::test]
async fn commits_in_either_order_each_find_their_own_change() {
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    assert_eq!(
        app.post(email_change("emily@aol.com", "emily@new.example"))
            .await
            .body,
        success()
    );
    // The later change commits first.
    assert_eq!(deliver(&app, commit(&[EMAIL])).await.status, 204);
    let notices = ses.notices().await;
    assert_eq!(recipients(&notices), ["emily@aol.com"]);
    assert!(
        !notices[0].body.contains("+9477*****67"),
        "not the phone notice"
    );
    assert_eq!(deliver(&app, commit(&[MOBILE])).await.status, 204);
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 2);
    assert!(
        notices[1].body.contains("+9477*****67"),
        "{}",
        notices[1].body
    );
}

#[tokio::test]
async fn two_instances_sharing_the_table_send_each_change_once() {
    let ses = SesScope::new().await;
    let shared = shared_table().await;
    let vars = shared.vars();
    let (one, two) = (commit_app(&ses, &vars).await, commit_app(&ses, &vars).await);
    let first = email_change("a@owner.example", "b@attacker.example");
    assert_eq!(one.post(first).await.body, success());
    let second = email_change("b@attacker.example", "c@attacker.example");
    assert_eq!(two.post(second).await.body, success());
    let (c1, c2) = (commit(&[EMAIL]), commit(&[EMAIL]));
    let (a, b) = tokio::join!(deliver(&two, c1.clone()), deliver(&one, c2.clone()));
    assert_eq!((a.status, b.status), (204, 204), "{a:?} {b:?}");
    let mut sent = recipients(&ses.notices().await);
    sent.sort();
    assert_eq!(sent, ["a@owner.example", "b@attacker.example"]);
    // Both deliveries again, on the other instances: nothing more.
    let (a, b) = tokio::join!(deliver(&one, c1), deliver(&two, c2));
    assert_eq!((a.status, b.status), (204, 204));
    assert_eq!(ses.notices().await.len(), 2);
}

fn expiry_lines(logs: &Captured) -> Vec<Value> {
    logs.audits()
        .into_iter()
        .filter(|a| a["message"] == "pending notice expired")
        .collect()
}

#[tokio::test]
async fn the_sweep_leaves_a_sent_notice_and_the_next_change_alone() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[("PENDING_NOTICE_TTL_SECS", "2")]).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    assert_eq!(deliver(&app, commit(&[MOBILE])).await.status, 204);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    // The first notice's time runs out (and the sweep runs) while the second still waits; another call meanwhile
    // (here one the endpoint refuses) gives any sweep on the request path its chance too.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    app.post("{}").await;
    assert!(expiry_lines(&logs).is_empty(), "{:?}", expiry_lines(&logs));
    assert_eq!(deliver(&app, commit(&[MOBILE])).await.status, 204);
    assert_eq!(
        ses.notices().await.len(),
        2,
        "the second change's notice was still there"
    );
}

/// A Slack Web API whose first answer to each method takes 900 ms; later ones are quick.
async fn slow_slack_first() -> MockServer {
    let server = MockServer::start().await;
    let answers = [
        (
            "users.lookupByEmail",
            json!({"ok": true, "user": {"id": "U123"}}),
        ),
        (
            "conversations.open",
            json!({"ok": true, "channel": {"id": "D123"}}),
        ),
        (
            "chat.postMessage",
            json!({"ok": true, "channel": "D123", "ts": "1.2"}),
        ),
    ];
    for (name, answer) in answers {
        let ok = ResponseTemplate::new(200).set_body_json(answer);
        Mock::given(path(format!("/api/{name}")))
            .respond_with(ok.clone().set_delay(Duration::from_millis(900)))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(path(format!("/api/{name}")))
            .respond_with(ok)
            .with_priority(2)
            .mount(&server)
            .await;
    }
    server
}

async fn posts(server: &MockServer) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.url.path() == "/api/chat.postMessage")
        .count()
}

#[tokio::test]
async fn a_deadline_mid_send_puts_the_notice_back_and_the_retry_sends_it_once() {
    let ses = SesScope::new().await;
    let slack = slow_slack_first().await;
    let api = format!("{}/api", slack.uri());
    let extra = [
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_BOT_TOKEN", "xoxb-test-token-4242"),
        ("USER_NOTICE_CHANNELS", "slack"),
    ];
    let app = commit_app(&ses, &extra).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    let delivery = commit(&[MOBILE]);
    let started = std::time::Instant::now();
    let first = deliver(&app, delivery.clone()).await;
    assert_eq!(first.status, 503, "{first:?}");
    assert!(
        started.elapsed() < Duration::from_millis(2600),
        "answered within the deadline"
    );
    assert_eq!(
        posts(&slack).await,
        0,
        "no post started without the time to finish it"
    );
    // WSO2 IS delivers the same event again: the notice goes out once.
    assert_eq!(deliver(&app, delivery.clone()).await.status, 204);
    assert_eq!(posts(&slack).await, 1);
    assert_eq!(deliver(&app, delivery).await.status, 204);
    assert_eq!(posts(&slack).await, 1);
}

#[tokio::test]
async fn commits_shaped_as_wso2_sends_them_find_their_notice() {
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    let change = email_change("emily@aol.com", "emily@new.example");
    assert_eq!(app.post(change).await.body, success());
    // The companion claim alone, as in WSO2's own sample.
    assert_eq!(deliver(&app, commit(&[EMAILS])).await.status, 204);
    assert_eq!(ses.notices().await.len(), 1);
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    // No claim array at all (a known WSO2 defect): the oldest waiting notice.
    let bare = commit_event(&fresh(), None, Duration::ZERO);
    assert_eq!(deliver(&app, bare).await.status, 204);
    assert_eq!(ses.notices().await.len(), 2);
}

#[tokio::test]
async fn a_delivery_older_than_the_event_window_is_refused() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    let day_old = commit_event(&fresh(), Some(&[MOBILE]), Duration::from_secs(86_400 + 60));
    let answer = deliver(&app, day_old).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "stale_delivery", "{:?}", answer.body);
    assert!(ses.notices().await.is_empty());
    let refused = logs
        .audits()
        .into_iter()
        .find(|a| a["reason"] == "stale_delivery");
    assert!(refused.is_some_and(|a| a["decision"] == "refused"));
}

#[tokio::test]
async fn a_notice_the_store_cannot_keep_goes_at_once_and_one_that_cannot_go_is_counted_lost() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let endpoint = moto().endpoint.clone();
    let no_table = [
        ("IDEMPOTENCY_TABLE", "no-such-table"),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
    ];
    let app = commit_app(&ses, &no_table).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    assert_eq!(
        ses.notices().await.len(),
        1,
        "sent at once rather than never"
    );
    let decision = logs
        .take_audits()
        .into_iter()
        .find(|a| a["message"] == "decision")
        .unwrap();
    assert!(
        decision["pending_fallback"]
            .as_str()
            .unwrap()
            .starts_with("store:"),
        "{decision}"
    );
    assert!(
        decision["notice"].as_str().unwrap().starts_with("sent:"),
        "{decision}"
    );

    let mut vars = no_table.to_vec();
    vars.push(("AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:9"));
    vars.push(("ALERT_UNDELIVERED", "allow"));
    let broken = commit_app(&ses, &vars).await;
    assert_eq!(
        broken.post(mobile_change(&fresh())).await.body["actionStatus"],
        "SUCCESS"
    );
    let lines = logs.lines();
    let decision = lines.iter().find(|l| l["message"] == "decision").unwrap();
    assert_eq!(decision["notice_lost"], true, "{decision}");
    let metrics = lines
        .iter()
        .find(|l| l["target"] == "profile_guard::metrics")
        .unwrap();
    assert_eq!(metrics["NoticesLost"], 1.0, "{metrics}");
}
