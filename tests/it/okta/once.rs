//! At least once in, once out: duplicates within a delivery and across deliveries (and instances) send nothing
//! twice; a batch is taken in `published` order; a failure a retry can fix is answered 5xx and only what did not
//! go out is sent on the retry.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::{
    SLACK_TOKEN, admin, deliver, delivery, emily, fresh, okta_app, posted, profile_event, slack,
    slack_app,
};
use crate::idempotency::shared_table;
use crate::support::{SesScope, capture};

#[tokio::test]
async fn a_batch_is_taken_in_published_order_and_each_uuid_once() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let (first, second, third) = (fresh(), fresh(), fresh());
    let body = delivery(vec![
        profile_event(&third, "2026-11-26T09:00:03.000Z", admin(), "email"),
        profile_event(&first, "2026-11-26T09:00:01.000Z", emily(), "mobilePhone"),
        profile_event(&third, "2026-11-26T09:00:03.000Z", admin(), "email"),
        profile_event(&second, "2026-11-26T09:00:02.000Z", admin(), "primaryPhone"),
    ]);
    assert_eq!(deliver(&app, body.clone()).await.status, 204);
    assert_eq!(ses.notices().await.len(), 3, "one notice per uuid");
    let audits = logs.take_audits();
    let order: Vec<&str> = audits
        .iter()
        .filter(|a| a["message"] == "okta event")
        .filter_map(|a| a["event_id"].as_str())
        .collect();
    assert_eq!(order, [first.as_str(), second.as_str(), third.as_str()]);
    let line = audits
        .iter()
        .find(|a| a["message"] == "okta delivery")
        .unwrap();
    assert_eq!(line["skipped"], "duplicate_in_batch:1");

    // Okta delivers the same events again: nothing more is sent.
    assert_eq!(deliver(&app, body).await.status, 204);
    assert_eq!(ses.notices().await.len(), 3);
    for event in logs
        .audits()
        .iter()
        .filter(|a| a["message"] == "okta event")
    {
        assert_eq!(event["messages"], "notice_email:already_sent");
    }
}

#[tokio::test]
async fn a_throttled_slack_message_asks_for_a_retry_that_sends_only_it() {
    let server =
        slack(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"}))).await;
    // Slack's rate limit, once: the first chat.postMessage is refused the way Slack refuses it.
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let ses = SesScope::new().await;
    let app = slack_app(&ses, &server, "email,slack").await;
    let body = delivery(vec![profile_event(
        &fresh(),
        "2026-11-26T09:00:00Z",
        admin(),
        "email",
    )]);
    let first = deliver(&app, body.clone()).await;
    assert_eq!(first.status, 503, "{:?}", first.body);
    assert_eq!(first.body["error"], "retry");
    assert_eq!(ses.notices().await.len(), 1, "the e-mail went out");
    assert!(posted(&server).await.len() == 1, "one refused post");

    // Okta's one retry: the DM goes out, the e-mail is not sent again.
    assert_eq!(deliver(&app, body).await.status, 204);
    assert_eq!(ses.notices().await.len(), 1);
    assert_eq!(posted(&server).await.len(), 2);
}

#[tokio::test]
async fn another_instance_sharing_the_table_sends_nothing_again() {
    let ses = SesScope::new().await;
    let shared = shared_table().await;
    let vars = shared.vars();
    let one = okta_app(&ses, &vars).await;
    let two = okta_app(&ses, &vars).await;
    let body = delivery(vec![profile_event(
        &fresh(),
        "2026-11-26T09:00:00Z",
        admin(),
        "email,manager",
    )]);
    assert_eq!(deliver(&one, body.clone()).await.status, 204);
    assert_eq!(deliver(&two, body).await.status, 204);
    assert_eq!(ses.notices().await.len(), 1);
}

#[tokio::test]
async fn a_stalled_channel_never_holds_the_answer_past_the_deadline() {
    let (logs, _guard) = capture();
    let stalled = ResponseTemplate::new(200)
        .set_body_json(json!({"ok": true, "ts": "1.1"}))
        .set_delay(std::time::Duration::from_secs(10));
    let server = slack(stalled).await;
    let ses = SesScope::new().await;
    let api = format!("{}/api", server.uri());
    let vars = [
        ("USER_NOTICE_CHANNELS", "slack"),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_TIMEOUT_MS", "5000"),
        ("DEADLINE_MS", "800"),
    ];
    let app = okta_app(&ses, &vars).await;
    let events = (0..6)
        .map(|i| {
            profile_event(
                &fresh(),
                &format!("2026-11-26T09:00:0{i}Z"),
                admin(),
                "email",
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let answer = deliver(&app, delivery(events)).await;
    let took = started.elapsed();
    assert_eq!(answer.status, 503, "{:?}", answer.body);
    assert!(
        took < std::time::Duration::from_millis(1500),
        "answered after {took:?}"
    );
    let lines = logs.audits();
    let outcomes: Vec<&str> = lines
        .iter()
        .filter(|a| a["message"] == "okta event")
        .filter_map(|a| a["messages"].as_str())
        .collect();
    assert_eq!(outcomes.len(), 6);
    assert!(
        outcomes
            .iter()
            .all(|m| *m == "notice_slack:failed:deadline"),
        "{outcomes:?}"
    );
}
