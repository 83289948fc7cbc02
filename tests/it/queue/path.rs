//! The request path with `ALERT_QUEUE_URL`: SQS accepted → SUCCESS; SQS unreachable → the failure policy.

use crate::support::{SesScope, TestApp, capture, closed_port, success, tutorial};

use super::{drain, queued_app};

#[tokio::test]
async fn the_answer_waits_for_sqs_only_and_the_alert_is_on_the_queue() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(&ses, &[]).await;
    assert_eq!(app.post(tutorial()).await.body, success());
    assert!(
        ses.alerts().await.is_empty(),
        "nothing is sent on the request path"
    );
    assert_eq!(
        ses.notices().await.len(),
        1,
        "the person's notice is not queued"
    );
    let records = drain(&queue).await;
    assert_eq!(records.len(), 1);
    let queued: serde_json::Value = serde_json::from_str(&records[0].body).unwrap();
    assert_eq!(queued["tenant"], "testwso2 (2210)");
    assert!(
        !records[0].body.contains("+94771223448"),
        "values travel masked"
    );
    let decision = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "decision")
        .unwrap();
    assert_eq!(decision["alert"], format!("queue:queued:{}", records[0].id));
    let metrics = logs
        .lines()
        .into_iter()
        .find(|l| l["target"] == "profile_guard::metrics")
        .unwrap();
    assert_eq!(metrics["AlertsQueued"], 1.0);
    assert_eq!(metrics["SuccessAnswers"], 1.0);
    assert_eq!(
        metrics["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "ProfileGuard"
    );
}

#[tokio::test]
async fn an_unreachable_queue_follows_the_alert_undelivered_policy() {
    let ses = SesScope::new().await;
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let queue = format!("{closed}/123456789012/pg-alerts");
    let mut vars = ses.vars();
    vars.push(("ALERT_QUEUE_URL", queue.as_str()));
    vars.push(("AWS_ENDPOINT_URL_SQS", closed.as_str()));
    let blocked = TestApp::new(&vars).await.post(tutorial()).await;
    assert_eq!(blocked.body["actionStatus"], "FAILED", "{:?}", blocked.body);
    assert_eq!(blocked.body["failureReason"], "email_error");
    vars.push(("ALERT_UNDELIVERED", "allow"));
    assert_eq!(
        TestApp::new(&vars).await.post(tutorial()).await.body,
        success()
    );
}
