//! The link in every notice: the WSO2 notice by e-mail (SES) and by Slack direct message, the Okta notice, and the
//! log outbox `make run` writes; with reports off, no link anywhere.

use serde_json::json;
use wiremock::ResponseTemplate;

use super::{change, fresh, link_in, open, press, report_app, report_vars, token_of};
use crate::okta::{SLACK_TOKEN, admin, deliver, delivery, okta_app, posted, profile_event, slack};
use crate::support::{SesScope, TestApp, capture};

#[tokio::test]
async fn the_slack_notice_carries_the_same_link() {
    let ses = SesScope::new().await;
    let server = slack(ResponseTemplate::new(200).set_body_json(json!({"ok": true}))).await;
    let api = format!("{}/api", server.uri());
    let extra = [
        ("USER_NOTICE_CHANNELS", "email,slack"),
        ("SLACK_BOT_TOKEN", SLACK_TOKEN),
        ("SLACK_API_URL", api.as_str()),
    ];
    let app = report_app(&ses, &extra).await;
    assert_eq!(
        app.post(change(&fresh("u"), &fresh("rq"))).await.status,
        200
    );
    let texts = posted(&server).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    let in_slack = link_in(&texts[0]).expect("the Slack text has the link");
    assert!(texts[0].contains("Wasn't you?"), "{}", texts[0]);
    let notices = ses.notices().await;
    let in_email = link_in(&notices[0].body).expect("the e-mail has the link");
    assert_eq!(in_slack, in_email);
    assert!(
        notices[0].body.contains("This wasn't me</a>"),
        "{}",
        notices[0].body
    );
}

#[tokio::test]
async fn the_okta_notice_carries_a_link_to_its_change() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &report_vars(&[])).await;
    let id = crate::okta::fresh();
    let event = profile_event(&id, "2026-11-26T09:30:00.000Z", admin(), "mobilePhone");
    assert_eq!(deliver(&app, delivery(vec![event])).await.status, 204);
    let notices = ses.notices().await;
    let link = link_in(&notices[0].body).expect("the Okta notice has the link");
    let page = open(&app, &token_of(&link)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("your example.okta.com account"),
        "{}",
        page.html
    );
    assert!(page.html.contains("<li>Mobile phone</li>"), "{}", page.html);
    assert!(page.html.contains("2026-11-26 09:30 UTC"), "{}", page.html);
    let done = press(&app, &token_of(&link)).await;
    assert_eq!(done.status, 200);
    let alert = ses.alerts().await.pop().expect("the report's alert");
    assert!(alert.subject.contains("(Okta)"), "{}", alert.subject);
    assert!(alert.body.contains(&id), "the event id: {}", alert.body);
    assert!(alert.body.contains(crate::okta::EMILY), "{}", alert.body);
}

#[tokio::test]
async fn the_log_outbox_shows_a_link_a_newcomer_can_open() {
    let (logs, _guard) = capture();
    let app = TestApp::new(&report_vars(&[])).await;
    assert_eq!(
        app.post(change(&fresh("u"), &fresh("rq"))).await.status,
        200
    );
    let outbox: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l["target"] == "profile_guard::outbox")
        .map(|l| l["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    let notice = outbox
        .iter()
        .find(|t| t.contains("Wasn't you?"))
        .expect("the notice's text part has the link");
    let link = link_in(notice).expect("a link");
    assert_eq!(open(&app, &token_of(&link)).await.status, 200);
}

#[tokio::test]
async fn without_reports_no_notice_has_a_link() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    assert_eq!(
        app.post(change(&fresh("u"), &fresh("rq"))).await.status,
        200
    );
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(link_in(&notices[0].body), None);
    assert!(!notices[0].body.contains("Wasn't you"));
}
