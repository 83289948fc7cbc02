//! The catch-up from Okta's System Log against a loopback log that answers like Okta's, moto's SES for e-mail:
//! what the hook missed is sent once, what it delivered is not sent again (either way round), pages in any order,
//! a second poll sends nothing new, fresh events are left to the hook, rate limits are waited out or stop the run,
//! and a run cut short is resumed where it stopped.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::system_log::{Step, SystemLogStub, TOKEN, ago, rate_limited};
use super::{
    SLACK_TOKEN, admin, deliver, delivery, emily, fresh, okta_app, posted, profile_event, slack,
};
use crate::support::{Captured, SesScope, TestApp, capture};
use profile_guard::catchup::{OVERLAP, Outcome, RunReport};

/// The app with the hook on and the catch-up reading `stub`; `extra` adds or overrides variables.
pub async fn catchup_app(ses: &SesScope, stub: &SystemLogStub, extra: &[(&str, &str)]) -> TestApp {
    let uri = stub.uri();
    let mut vars = vec![
        ("OKTA_ORG_URL", uri.as_str()),
        ("OKTA_API_TOKEN", TOKEN),
        ("OKTA_CATCHUP_INTERVAL_SECS", "60"),
    ];
    vars.extend_from_slice(extra);
    okta_app(ses, &vars).await
}

/// One run with time to spare.
pub async fn run(app: &TestApp) -> RunReport {
    let catchup = app.catchup.as_ref().expect("the catch-up is on");
    catchup
        .run_once(Instant::now() + Duration::from_secs(30))
        .await
}

/// A profile change of Emily's by an administrator, logged `secs` ago.
pub fn logged(uuid: &str, secs: u64) -> Value {
    profile_event(uuid, &ago(secs), admin(), "mobilePhone")
}

/// The `messages` of each `okta event` line that came through the catch-up, in order.
fn caught_up_messages(logs: &Captured) -> Vec<(String, String)> {
    logs.audits()
        .iter()
        .filter(|a| a["message"] == "okta event" && a["via"] == "catchup")
        .map(|a| {
            (
                a["event_id"].as_str().unwrap().to_owned(),
                a["messages"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn metric(logs: &Captured, name: &str) -> Vec<f64> {
    logs.lines()
        .iter()
        .filter_map(|l| l[name].as_f64())
        .collect()
}

#[tokio::test]
async fn what_the_hook_missed_is_sent_once_in_published_order_and_a_second_poll_sends_nothing() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(2).await;
    let (a, b, c) = (fresh(), fresh(), fresh());
    // Logged in any order; the log answers by `published`, two a page.
    stub.log([logged(&c, 300), logged(&a, 600), logged(&b, 450)]);
    let app = catchup_app(&ses, &stub, &[]).await;
    let first = run(&app).await;
    assert_eq!(first.outcome, Outcome::CaughtUp);
    assert_eq!(
        (first.pages, first.events_seen, first.events_sent),
        (3, 3, 3),
        "{first:?}"
    );
    assert_eq!(ses.notices().await.len(), 3);
    let order: Vec<String> = caught_up_messages(&logs)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, [a.clone(), b.clone(), c.clone()]);
    let line = logs
        .audits()
        .into_iter()
        .find(|l| l["message"] == "okta catchup")
        .unwrap();
    assert_eq!(
        (line["outcome"].as_str(), line["events_sent"].as_u64()),
        (Some("caught_up"), Some(3))
    );
    assert_eq!(metric(&logs, "CatchupEventsSent"), [3.0]);
    assert_eq!(metric(&logs, "CatchupEventsSeen"), [3.0]);
    assert_eq!(metric(&logs, "CatchupRunsFailed"), [0.0]);

    // The same poll again: every event is recognised as sent.
    let cursor = first.cursor.clone().expect("the run moved the cursor");
    logs.take_audits();
    let second = run(&app).await;
    assert_eq!(
        (second.outcome.clone(), second.events_sent),
        (Outcome::CaughtUp, 0)
    );
    assert_eq!(ses.notices().await.len(), 3);
    // It read from a little before where the first stopped.
    assert_eq!(second.since, Some(cursor.published - OVERLAP));
    let asked = humantime::format_rfc3339_millis(cursor.published - OVERLAP).to_string();
    assert_eq!(stub.sinces().await.last(), Some(&asked));
}

#[tokio::test]
async fn an_event_is_sent_once_whether_the_hook_or_the_catch_up_comes_first() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(100).await;
    let app = catchup_app(&ses, &stub, &[]).await;
    let (hooked, missed) = (fresh(), fresh());
    // The hook had it: the catch-up finds it sent.
    assert_eq!(
        deliver(&app, delivery(vec![logged(&hooked, 600)]))
            .await
            .status,
        204
    );
    stub.log([logged(&hooked, 600), logged(&missed, 500)]);
    let report = run(&app).await;
    assert_eq!(report.events_sent, 1, "only the missed one");
    assert_eq!(ses.notices().await.len(), 2);
    let messages = caught_up_messages(&logs);
    assert_eq!(
        messages[0],
        (hooked, "notice_email:already_sent".to_owned())
    );
    assert_eq!(
        messages[1],
        (missed.clone(), "notice_email:sent".to_owned())
    );
    // Okta's delivery comes late, after the catch-up sent it: nothing more.
    logs.take_audits();
    assert_eq!(
        deliver(&app, delivery(vec![logged(&missed, 500)]))
            .await
            .status,
        204
    );
    assert_eq!(ses.notices().await.len(), 2);
    let hook_line = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "okta event")
        .unwrap();
    assert_eq!(
        (hook_line["via"].as_str(), hook_line["messages"].as_str()),
        (Some("hook"), Some("notice_email:already_sent"))
    );
}

#[tokio::test]
async fn fresh_events_are_left_to_the_hook_and_what_asks_for_nothing_moves_the_cursor() {
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(100).await;
    let (old, other, recent) = (fresh(), fresh(), fresh());
    let mut unwatched = profile_event(&other, &ago(500), emily(), "lastName");
    unwatched["debugContext"]["debugData"]["changedAttributes"] = json!("lastName,nickName");
    stub.log([logged(&old, 600), unwatched, logged(&recent, 5)]);
    let app = catchup_app(&ses, &stub, &[]).await;
    let report = run(&app).await;
    assert_eq!(
        (
            report.events_seen,
            report.changes,
            report.events_sent,
            report.events_owed
        ),
        (3, 1, 1, 1)
    );
    assert_eq!(
        ses.notices().await.len(),
        1,
        "the recent one is the hook's for now"
    );
    let cursor = report.cursor.unwrap();
    let recent_at = humantime::parse_rfc3339_weak(&ago(5)).unwrap();
    assert!(
        cursor.published < recent_at - Duration::from_secs(60),
        "the cursor stays before it"
    );
    assert_eq!(
        deliver(&app, delivery(vec![logged(&recent, 5)]))
            .await
            .status,
        204
    );
    assert_eq!(ses.notices().await.len(), 2);
}

#[tokio::test]
async fn a_rate_limit_that_resets_soon_is_waited_out() {
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(1).await;
    stub.log([logged(&fresh(), 600), logged(&fresh(), 500)]);
    // A 429 first; then a page that uses the limit up.
    stub.script([
        Step::Fault(rate_limited(Duration::from_secs(1))),
        Step::Exhausted {
            reset_in: Duration::from_secs(1),
        },
    ]);
    let app = catchup_app(&ses, &stub, &[]).await;
    let started = Instant::now();
    let report = run(&app).await;
    assert_eq!(report.outcome, Outcome::CaughtUp, "{report:?}");
    assert_eq!(report.events_sent, 2);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "it waited, twice"
    );
    assert_eq!(
        stub.calls().await,
        1 + 3,
        "one refused call, then three pages: never a spin"
    );
}

#[tokio::test]
async fn a_run_stopped_by_a_late_rate_limit_is_resumed_where_it_stopped() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(2).await;
    let ids: Vec<String> = (0..4).map(|_| fresh()).collect();
    stub.log(
        ids.iter()
            .enumerate()
            .map(|(i, id)| logged(id, 900 - 150 * i as u64)),
    );
    stub.script([
        Step::Delayed(Duration::ZERO),
        Step::Fault(rate_limited(Duration::from_secs(3600))),
    ]);
    let app = catchup_app(&ses, &stub, &[]).await;
    let first = run(&app).await;
    assert!(
        matches!(first.outcome, Outcome::RateLimited { reset: Some(_) }),
        "{first:?}"
    );
    assert_eq!(first.events_sent, 2);
    assert_eq!(
        first.cursor.as_ref().map(|c| c.uuid.as_str()),
        Some(ids[1].as_str())
    );
    assert_eq!(
        metric(&logs, "CatchupRunsFailed"),
        [0.0],
        "stopped, not failed"
    );

    let second = run(&app).await;
    assert_eq!(second.outcome, Outcome::CaughtUp);
    assert_eq!(second.events_sent, 2);
    assert_eq!(ses.notices().await.len(), 4, "each event once");
}

#[tokio::test]
async fn okta_refusing_the_token_or_failing_fails_the_run_visibly_and_sends_nothing() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(100).await;
    stub.log([logged(&fresh(), 600)]);
    let wrong = catchup_app(&ses, &stub, &[("OKTA_API_TOKEN", "00revoked")]).await;
    let refused = run(&wrong).await;
    match &refused.outcome {
        Outcome::Failed(e) => assert!(e.detail.contains("401 (E0000011)"), "{e:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(refused.cursor, None);
    let line = logs
        .audits()
        .into_iter()
        .find(|l| l["message"] == "okta catchup")
        .unwrap();
    assert_eq!(line["outcome"], "failed:credentials");
    assert!(
        !logs.text().contains("00revoked"),
        "the token is never logged"
    );
    assert_eq!(metric(&logs, "CatchupRunsFailed"), [1.0]);

    let app = catchup_app(&ses, &stub, &[]).await;
    stub.script([Step::Fault(
        ResponseTemplate::new(500).set_body_json(json!({"errorCode": "E0000009"})),
    )]);
    let failed = run(&app).await;
    assert_eq!(failed.outcome.as_str(), "failed:service");
    assert_eq!(ses.notices().await.len(), 0);
    assert_eq!(run(&app).await.events_sent, 1, "the next run does it");
}

#[tokio::test]
async fn a_message_that_failed_for_a_passing_reason_is_owed_to_the_next_run() {
    let server =
        slack(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1.1"}))).await;
    // Slack's rate limit, once.
    let limited = json!({"ok": false, "error": "ratelimited"});
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_json(limited),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let ses = SesScope::new().await;
    let stub = SystemLogStub::start(100).await;
    let throttled = fresh();
    stub.log([logged(&throttled, 600)]);
    let api = format!("{}/api", server.uri());
    let vars = [
        ("USER_NOTICE_CHANNELS", "slack"),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ("SLACK_API_URL", api.as_str()),
    ];
    let app = catchup_app(&ses, &stub, &vars).await;
    let first = run(&app).await;
    assert_eq!((first.events_sent, first.events_owed), (0, 1), "{first:?}");
    assert_eq!(first.cursor, None, "the cursor stays before the owed event");
    let second = run(&app).await;
    assert_eq!((second.events_sent, second.events_owed), (1, 0));
    assert_eq!(second.cursor.map(|c| c.uuid), Some(throttled));
    assert_eq!(posted(&server).await.len(), 2, "refused once, then sent");
}

#[test]
fn the_scheduled_event_sample_is_a_trigger() {
    use profile_guard::catchup::trigger;
    let sample: Value = serde_json::from_str(&crate::support::repo_file(
        "events/scheduled/okta-catchup.json",
    ))
    .unwrap();
    assert_eq!(trigger::read(&sample), Ok(trigger::Trigger::Schedule));
}
