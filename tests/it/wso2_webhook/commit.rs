//! Notices after commit: the pre-update call alerts at once and leaves the notice; the signed commit event sends
//! it, once, to the address the person had before, also when it reaches another instance; a change that never
//! commits sends nothing; forged or replayed deliveries change nothing.

use std::time::Duration;

use crate::idempotency::shared_table;
use crate::support::{SesScope, capture, success};

use super::{commit_app, deliver, deliver_signed, fresh, mobile_change, profile_updated};

#[tokio::test]
async fn the_alert_goes_at_once_and_the_notice_only_with_the_commit() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    assert_eq!(
        ses.alerts().await.len(),
        1,
        "the alert is about the attempt"
    );
    assert!(
        ses.notices().await.is_empty(),
        "no notice before the commit"
    );
    let decision = logs
        .take_audits()
        .into_iter()
        .find(|a| a["message"] == "decision")
        .unwrap();
    assert_eq!(decision["notice"], "pending:600s");

    let jti = fresh();
    assert_eq!(
        deliver(&app, profile_updated(&jti, &["mobile"]))
            .await
            .status,
        204
    );
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(notices[0].to, ["emily@aol.com"]);
    assert_eq!(
        notices[0].subject,
        "An administrator updated your bar.com profile"
    );
    assert!(
        notices[0].body.contains("+9477*****67"),
        "the masked new value: {}",
        notices[0].body
    );
    assert!(
        notices[0]
            .body
            .contains("The change came from the IP address 203.0.113.10.")
    );
    let event = logs
        .take_audits()
        .into_iter()
        .find(|a| a["message"] == "wso2 event")
        .unwrap();
    assert_eq!(event["jti"], jti.as_str());
    assert_eq!(event["user_id"], super::USER);
    assert!(
        event["notice"].as_str().unwrap().starts_with("sent:"),
        "{event}"
    );

    // WSO2 IS resends the same event: nothing more.
    assert_eq!(
        deliver(&app, profile_updated(&jti, &["mobile"]))
            .await
            .status,
        204
    );
    assert_eq!(ses.notices().await.len(), 1);
    let again = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "wso2 event")
        .unwrap();
    assert_eq!(again["notice"], "duplicate");
}

#[tokio::test]
async fn the_commit_reaching_another_instance_sends_exactly_one_notice() {
    let ses = SesScope::new().await;
    let shared = shared_table().await;
    let vars = shared.vars();
    let (one, two) = (commit_app(&ses, &vars).await, commit_app(&ses, &vars).await);
    assert_eq!(one.post(mobile_change(&fresh())).await.body, success());
    let jti = fresh();
    let body = profile_updated(&jti, &["mobile"]);
    assert_eq!(deliver(&two, body.clone()).await.status, 204);
    assert_eq!(ses.notices().await.len(), 1, "sent by the other instance");
    // The same delivery on both instances at once, and again later: still one.
    let (a, b) = tokio::join!(deliver(&one, body.clone()), deliver(&two, body.clone()));
    assert!(a.status < 300 || a.status == 503, "{a:?}");
    assert!(b.status < 300 || b.status == 503, "{b:?}");
    assert_eq!(ses.notices().await.len(), 1);
}

#[tokio::test]
async fn a_change_that_never_commits_sends_no_notice_and_says_so() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[("PENDING_NOTICE_TTL_SECS", "1")]).await;
    let request_id = fresh();
    assert_eq!(app.post(mobile_change(&request_id)).await.body, success());
    tokio::time::sleep(Duration::from_millis(1300)).await;
    // A commit event after the notice's time is up finds nothing, and the instance reports what expired.
    assert_eq!(
        deliver(&app, profile_updated(&fresh(), &["mobile"]))
            .await
            .status,
        204
    );
    assert!(ses.notices().await.is_empty());
    let event = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "wso2 event")
        .unwrap();
    assert_eq!(event["notice"], "no_pending_notice");
    // The sweep runs in the background, off every answer's path: its line comes within a second or two.
    let mut expired = None;
    for _ in 0..30 {
        expired = logs
            .audits()
            .into_iter()
            .find(|a| a["message"] == "pending notice expired");
        if expired.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired = expired.expect("an expiry line");
    assert_eq!(expired["request_id"], request_id.as_str());
    assert_eq!(expired["notice"], "expired_unsent");
}

#[tokio::test]
async fn forged_and_unrelated_deliveries_change_nothing() {
    let ses = SesScope::new().await;
    let app = commit_app(&ses, &[]).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    let forged = deliver_signed(
        &app,
        "x-hub-signature",
        "guessed",
        profile_updated(&fresh(), &["mobile"]),
    )
    .await;
    assert_eq!(forged.status, 401);
    let other_claims = profile_updated(&fresh(), &["mobile", "emailaddress"]);
    assert_eq!(
        deliver(&app, other_claims).await.status,
        204,
        "another change: not this notice"
    );
    assert!(ses.notices().await.is_empty());
    // The notice still waits for its own commit.
    assert_eq!(
        deliver(&app, profile_updated(&fresh(), &["mobile"]))
            .await
            .status,
        204
    );
    assert_eq!(ses.notices().await.len(), 1);
}

#[tokio::test]
async fn update_mode_keeps_todays_behaviour_and_ignores_commits() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("WSO2_WEBHOOK_SECRET", super::SECRET));
    let app = crate::support::TestApp::new(&vars).await;
    assert_eq!(app.post(mobile_change(&fresh())).await.body, success());
    assert_eq!(ses.notices().await.len(), 1, "sent at update time");
    assert_eq!(
        deliver(&app, profile_updated(&fresh(), &["mobile"]))
            .await
            .status,
        204
    );
    assert_eq!(
        ses.notices().await.len(),
        1,
        "the commit sends nothing more"
    );
}
