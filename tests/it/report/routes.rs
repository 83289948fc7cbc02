//! The page and its button through the real router: what `GET` shows (and that it changes nothing), what `POST`
//! does once, and the plain error page of every link that cannot be used.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use profile_guard::notify::{ChangeSource, ChangedBy, LinkedChange, LinkedLine};
use profile_guard::report::token::LinkKey;
use secrecy::SecretString;

use super::{EMILY, KEY, Page, fresh, notice_link, open, press, report_app, token_of};
use crate::support::{SesScope, TestApp, capture, closed_port};

fn assert_page_headers(page: &Page) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let csp = header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"));
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(header("cache-control").contains("no-store"));
    assert_eq!(header("x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn without_the_settings_the_route_is_a_json_404() {
    let app = TestApp::new(&[]).await;
    for page in [open(&app, "v1.a.b").await, press(&app, "v1.a.b").await] {
        assert_eq!(page.status, 404);
        assert_eq!(page.headers["content-type"], "application/json");
    }
}

#[tokio::test]
async fn the_page_shows_the_change_masked_and_changes_nothing() {
    let ses = SesScope::new().await;
    let app = report_app(&ses, &[]).await;
    let link = notice_link(&app, &ses, &fresh("u")).await;
    assert!(
        link.starts_with("https://guard.example.test/report?t=v1."),
        "{link}"
    );
    let alerts = ses.alerts().await.len();
    // Mail scanners and link previews fetch the link: nothing may follow from a GET.
    for _ in 0..3 {
        let page = open(&app, &token_of(&link)).await;
        assert_eq!(page.status, 200);
        assert_page_headers(&page);
        let html = &page.html;
        assert!(html.contains("Did you make this change?"), "{html}");
        assert!(
            html.contains("testwso2") && html.contains("by an administrator"),
            "{html}"
        );
        assert!(html.contains("Mobile number: +9477*****48"), "{html}");
        assert!(
            !html.contains("+94771223448") && !html.contains(EMILY),
            "{html}"
        );
        assert!(html.contains(r#"<form method="post" action="report">"#));
        assert!(!html.contains("<script"), "no script: {html}");
    }
    assert_eq!(ses.alerts().await.len(), alerts, "a GET sent something");
}

#[tokio::test]
async fn the_button_reports_once_to_every_alert_channel() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = report_app(&ses, &[]).await;
    let user = fresh("u");
    let link = notice_link(&app, &ses, &user).await;
    let token = token_of(&link);
    let before = ses.alerts().await.len();

    let first = press(&app, &token).await;
    assert_eq!(first.status, 200);
    assert_page_headers(&first);
    assert!(
        first.html.contains("the security team has been told"),
        "{}",
        first.html
    );
    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), before + 1);
    let alert = alerts.last().unwrap();
    assert!(alert.subject.contains("URGENT"), "{}", alert.subject);
    assert!(alert.subject.contains(&user), "{}", alert.subject);
    let body = alert.body.replace("&#x2f;", "/");
    for fact in [
        "198.51.100.23",
        "Mozilla/5.0 (ReportTest)",
        "+9477*****48",
        "Alert only",
    ] {
        assert!(body.contains(fact), "{fact} missing: {body}");
    }
    assert!(!alert.body.contains("+94771223448"));

    let second = press(&app, &token).await;
    assert_eq!(second.status, 200);
    assert!(second.html.contains("Already reported"), "{}", second.html);
    assert!(open(&app, &token).await.html.contains("Already reported"));
    assert_eq!(
        ses.alerts().await.len(),
        before + 1,
        "a second click alerted again"
    );

    let reports: Vec<_> = logs
        .audits()
        .into_iter()
        .filter(|l| l["message"] == "report")
        .collect();
    assert_eq!(reports.len(), 2, "{reports:#?}");
    assert_eq!(reports[0]["decision"], "reported");
    assert_eq!(reports[0]["user_id"], user.as_str());
    assert_eq!(reports[0]["reporter_ip"], "198.51.100.23");
    assert_eq!(reports[0]["lock"], "not_asked");
    assert!(
        reports[0]["alert"]
            .as_str()
            .unwrap()
            .starts_with("email:sent:")
    );
    assert_eq!(reports[1]["decision"], "already_reported");
    let metrics: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["ReportsReceived"] == 1.0)
        .collect();
    assert_eq!(metrics.len(), 1, "one ReportsReceived for the first click");
    let all = logs.text();
    assert!(!all.contains(&token), "the token reached the log");
    assert!(!all.contains(KEY) && !all.contains("+94771223448"));
}

fn change(user: &str) -> LinkedChange {
    LinkedChange {
        source: ChangeSource::Wso2,
        tenant: "testwso2".into(),
        user_id: user.into(),
        reference: fresh("rq"),
        at: SystemTime::now(),
        changed_by: ChangedBy::Person,
        lines: vec![LinkedLine {
            name: "Mobile number".into(),
            value: Some("+9477*****48".into()),
        }],
        more: 0,
    }
}

fn sign(key: &str, change: &LinkedChange, expires: SystemTime) -> String {
    let key = LinkKey::new(&SecretString::from(key)).expect("a long key");
    key.sign(change, expires).expect("a token")
}

#[tokio::test]
async fn unusable_links_get_a_plain_error_page_and_nothing_is_sent() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = report_app(&ses, &[]).await;
    let later = SystemTime::now() + Duration::from_secs(3600);
    let good = sign(KEY, &change("u-1"), later);
    let mut tampered = good.clone().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let foreign = sign(
        "another-deployment-key-0123456789abcdef",
        &change("u-1"),
        later,
    );
    let expired = sign(
        KEY,
        &change("u-1"),
        SystemTime::now() - Duration::from_secs(1),
    );
    let cases = [
        (tampered.as_str(), 400),
        (foreign.as_str(), 400),
        (expired.as_str(), 410),
        ("v1.not-a-token", 400),
        ("%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400),
    ];
    for (token, status) in cases {
        for page in [open(&app, token).await, press(&app, token).await] {
            assert_eq!(page.status, status, "{token}: {}", page.html);
            assert_page_headers(&page);
            assert!(page.html.contains("<h1>This link"), "{}", page.html);
            assert!(!page.html.contains("panicked") && !page.html.contains("src/"));
            assert!(!page.html.contains("<script>"));
        }
    }
    let missing = Request::get("/report").body(Body::empty()).unwrap();
    assert_eq!(super::fetch(&app, missing).await.status, 400);
    assert!(ses.sent().await.is_empty(), "an unusable link sent mail");
    let decisions: Vec<String> = logs
        .audits()
        .iter()
        .map(|l| l["decision"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        decisions.contains(&"foreign_link".to_owned()),
        "{decisions:?}"
    );
    assert!(
        decisions.contains(&"expired_link".to_owned()),
        "{decisions:?}"
    );
    assert!(
        !logs.text().contains(&good[3..40]),
        "a token reached the log"
    );
}

#[tokio::test]
async fn a_report_nobody_could_be_told_of_can_be_pressed_again() {
    let (logs, _guard) = capture();
    let ses_down = format!("http://127.0.0.1:{}", closed_port());
    let mut vars = super::report_vars(&[]);
    vars.extend([
        ("ALERT_SENDER", "guard@example.com"),
        ("SECURITY_TEAM_EMAILS", "sec@example.com"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SESV2", ses_down.as_str()),
    ]);
    let app = TestApp::new(&vars).await;
    let token = sign(
        KEY,
        &change("u-2"),
        SystemTime::now() + Duration::from_secs(600),
    );
    for _ in 0..2 {
        let page = press(&app, &token).await;
        assert_eq!(page.status, 503, "{}", page.html);
        assert!(
            page.html.contains("could not be passed on"),
            "{}",
            page.html
        );
        assert!(
            page.html.contains(&format!("value=\"{token}\"")),
            "the button again"
        );
    }
    let reports: Vec<_> = logs
        .audits()
        .into_iter()
        .filter(|l| l["message"] == "report")
        .collect();
    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r["decision"] == "not_passed_on"));
    assert_eq!(reports[0]["level"], "WARN");
}
