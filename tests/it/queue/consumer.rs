//! The consumer: single alerts up to the threshold, digests above it (split by each channel's limits, a CSV in
//! the e-mail), partial failures reported and never sent twice, pacing, throttling.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{SesScope, TestApp, success};
use profile_guard::consumer::Record;

use super::{change, drain, queued_app};

async fn post_all(app: &TestApp, tenant: &str, n: usize) {
    for i in 0..n {
        assert_eq!(app.post(change(tenant, i)).await.body, success());
    }
}

/// A Slack incoming webhook at `/hook` that takes every message (after any mock mounted before it with a higher
/// priority); its URL.
async fn slack_hook(slack: &MockServer) -> String {
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(slack)
        .await;
    format!("{}/hook", slack.uri())
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn up_to_the_threshold_each_change_is_its_own_alert_above_it_one_digest() {
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(&ses, &[("USER_NOTICE", "off")]).await;
    post_all(&app, "small", 3).await;
    post_all(&app, "big", 12).await;
    let records = drain(&queue).await;
    assert_eq!(records.len(), 15);
    let consumer = app.consumer.clone().expect("a consumer");
    let failed = consumer.handle(&records, deadline()).await;
    assert!(failed.is_empty(), "{failed:?}");
    let alerts = ses.alerts().await;
    assert_eq!(
        alerts.len(),
        4,
        "3 single alerts and 1 digest: {:#?}",
        alerts.iter().map(|a| &a.subject).collect::<Vec<_>>()
    );
    let digest = alerts
        .iter()
        .find(|a| {
            a.subject
                .contains("12 sensitive profile changes in big.example")
        })
        .expect("a digest");
    let (name, csv) = &digest.attachments[0];
    assert!(name.ends_with(".csv"), "{name}");
    let users: BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2))
        .collect();
    assert_eq!(users.len(), 12, "every change is in the CSV:\n{csv}");
    assert!(
        !csv.contains("+9477000000"),
        "values are masked in the CSV too"
    );
}

/// `n` queue records of one tenant, made from one the request path really queued (each its own user and id).
async fn records_like(app: &TestApp, queue: &str, n: usize) -> Vec<Record> {
    assert_eq!(app.post(change("reorg", 0)).await.body, success());
    let model: serde_json::Value = serde_json::from_str(&drain(queue).await[0].body).unwrap();
    (0..n)
        .map(|i| {
            let mut body = model.clone();
            body["report"]["user_id"] = serde_json::json!(format!("user-{i}"));
            body["report"]["request_id"] = serde_json::json!(format!("req-{i}"));
            Record {
                id: format!("msg-{}-{i}", uuid::Uuid::new_v4().simple()),
                body: body.to_string(),
            }
        })
        .collect()
}

#[tokio::test]
async fn a_big_digest_is_split_so_every_change_is_in_exactly_one_message_per_channel() {
    let slack = MockServer::start().await;
    let hook = slack_hook(&slack).await;
    let ses = SesScope::new().await;
    let vars = [
        ("USER_NOTICE", "off"),
        ("SLACK_WEBHOOK_URL", hook.as_str()),
        ("ALERT_SEND_RATE", "1000"),
    ];
    let (app, queue) = queued_app(&ses, &vars).await;
    let records = records_like(&app, &queue, 250).await;
    let before = slack.received_requests().await.unwrap_or_default().len();
    let consumer = app.consumer.clone().expect("a consumer");
    assert!(consumer.handle(&records, deadline()).await.is_empty());
    let alerts: Vec<_> = ses
        .alerts()
        .await
        .into_iter()
        .filter(|a| !a.attachments.is_empty())
        .collect();
    assert_eq!(alerts.len(), 2, "200 + 50 changes");
    let mut ids = BTreeSet::new();
    for a in &alerts {
        assert!(a.subject.contains(" of 2)"), "{}", a.subject);
        ids.extend(
            a.attachments[0]
                .1
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').nth(4))
                .map(str::to_owned),
        );
    }
    assert_eq!(ids.len(), 250, "every change in exactly one e-mail");
    let posts = slack.received_requests().await.unwrap_or_default();
    assert_eq!(posts.len() - before, 250_usize.div_ceil(40));
    let lines: usize = posts[before..]
        .iter()
        .map(|p| String::from_utf8_lossy(&p.body).matches("• *").count())
        .sum();
    assert_eq!(lines, 250, "one Slack line per change");
}

#[tokio::test]
async fn a_failed_channel_is_reported_and_its_retry_sends_only_what_is_missing() {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&slack)
        .await;
    let hook = slack_hook(&slack).await;
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(
        &ses,
        &[("USER_NOTICE", "off"), ("SLACK_WEBHOOK_URL", hook.as_str())],
    )
    .await;
    post_all(&app, "t", 8).await;
    let records = drain(&queue).await;
    let consumer = app.consumer.clone().expect("a consumer");
    let failed = consumer.handle(&records, deadline()).await;
    assert_eq!(
        failed.len(),
        8,
        "the Slack digest failed: every record in it is redelivered"
    );
    assert_eq!(ses.alerts().await.len(), 1, "the e-mail digest went out");
    // SQS redelivers them: Slack gets them, e-mail does not get them again.
    let again = consumer.handle(&records, deadline()).await;
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(ses.alerts().await.len(), 1);
    assert_eq!(slack.received_requests().await.unwrap_or_default().len(), 2);
}

#[tokio::test]
async fn sends_are_paced_per_channel() {
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(&ses, &[("USER_NOTICE", "off"), ("ALERT_SEND_RATE", "5")]).await;
    for i in 0..5 {
        assert_eq!(
            app.post(change(&format!("tenant{i}"), i)).await.body,
            success()
        );
    }
    let records = drain(&queue).await;
    let consumer = app.consumer.clone().expect("a consumer");
    let started = Instant::now();
    assert!(consumer.handle(&records, deadline()).await.is_empty());
    let took = started.elapsed();
    assert_eq!(ses.alerts().await.len(), 5);
    assert!(
        took >= Duration::from_millis(750),
        "5 messages at 5 a second took {took:?}"
    );
}

#[tokio::test]
async fn ses_throttling_stops_the_channel_and_keeps_every_record() {
    let throttling = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-amzn-ErrorType", "TooManyRequestsException")
                .set_body_json(serde_json::json!({"message": "Maximum sending rate exceeded."})),
        )
        .mount(&throttling)
        .await;
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(&ses, &[("USER_NOTICE", "off")]).await;
    post_all(&app, "t", 3).await;
    let records = drain(&queue).await;
    // The consumer's SES is the throttling one (the request path used the real emulator).
    let endpoint = throttling.uri();
    let mut vars = ses.vars();
    vars.push(("AWS_ENDPOINT_URL_SESV2", endpoint.as_str()));
    vars.push(("USER_NOTICE", "off"));
    let consumer_app = TestApp::new(
        &[
            vars.as_slice(),
            &[("ALERT_QUEUE_URL", "http://127.0.0.1:9/1/q")],
        ]
        .concat(),
    )
    .await;
    let consumer = consumer_app.consumer.clone().expect("a consumer");
    let failed = consumer.handle(&records, deadline()).await;
    assert_eq!(failed.len(), 3, "all kept for redelivery");
    let attempts = throttling
        .received_requests()
        .await
        .unwrap_or_default()
        .len();
    assert!(
        attempts <= 3,
        "one message tried (with the SDK's retries), then the channel stopped: {attempts}"
    );
}

#[tokio::test]
async fn beside_the_local_server_the_consumer_drains_the_queue_and_reports_in_metrics() {
    let (logs, _guard) = crate::support::capture();
    let ses = SesScope::new().await;
    let (app, queue) = queued_app(&ses, &[("USER_NOTICE", "off")]).await;
    post_all(&app, "sync", 7).await;
    let (consumer, sqs) = (
        app.consumer.clone().expect("a consumer"),
        app.queue.clone().expect("a queue"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(profile_guard::consumer::local::run(consumer, sqs, async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    while ses.alerts().await.is_empty() && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = stop.send(());
    let _ = running.await;
    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), 1, "one digest of 7");
    assert!(
        alerts[0].subject.contains("7 sensitive profile changes"),
        "{}",
        alerts[0].subject
    );
    assert!(
        drain(&queue).await.is_empty(),
        "delivered messages are deleted"
    );
    let batch = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "alert batch")
        .expect("a batch line");
    assert_eq!(
        (batch["records"].as_u64(), batch["digests"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(batch["delivered"], "email:7");
    let metrics = logs
        .lines()
        .into_iter()
        .filter(|l| l["target"] == "profile_guard::metrics")
        .find(|l| l.get("QueueRecords").is_some())
        .expect("the batch's metric line");
    assert_eq!(
        (
            metrics["QueueRecords"].as_f64(),
            metrics["AlertsDeliveredEmail"].as_f64()
        ),
        (Some(7.0), Some(7.0))
    );
}
