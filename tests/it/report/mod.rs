//! "This wasn't me": the link in the notices (WSO2 and Okta; e-mail and Slack), the page and its button through
//! the real router, the once-per-change store across instances (moto's DynamoDB), both lock APIs through loopback
//! stubs that answer as WSO2's SCIM2 and Okta's Users API do, and a real headless Chromium clicking the button.

mod browser;
mod links;
mod lock;
mod once;
mod routes;
mod webdriver;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::support::{SesScope, TestApp};

/// The link key of these tests: 32 bytes and more.
pub const KEY: &str = "report-link-test-key-0123456789abcdef";
pub const BASE: &str = "https://guard.example.test";
pub const EMILY: &str = "emily.report@example.com";

/// The variables that turn reports on, and `extra`.
pub fn report_vars<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut vars = vec![("REPORT_URL_BASE", BASE), ("REPORT_LINK_SECRET", KEY)];
    vars.extend_from_slice(extra);
    vars
}

/// The app with reports on and SES for e-mail.
pub async fn report_app(ses: &SesScope, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = ses.vars();
    vars.extend(report_vars(extra));
    TestApp::new(&vars).await
}

/// An administrator changes the mobile number of `user` (whose address is [`EMILY`]): an alert and a notice.
pub fn change(user: &str, request_id: &str) -> String {
    serde_json::json!({"actionType": "PRE_UPDATE_PROFILE", "requestId": request_id, "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94771223448"}]},
        "tenant": {"id": "2210", "name": "testwso2"},
        "user": {"id": user, "claims": [
            {"uri": "http://wso2.org/claims/emailaddress", "value": EMILY},
            {"uri": "http://wso2.org/claims/mobile", "value": "+94770000001"}]},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}

/// A fresh id, so tests never share a record.
pub fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// The report link in a message: the first `…/report?t=…`, HTML entities decoded.
pub fn link_in(message: &str) -> Option<String> {
    let text = message.replace("&#x2f;", "/").replace("&amp;", "&");
    let start = text.find("/report?t=")?;
    let begin = text[..start].rfind("http")?;
    let end = text[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.:/?=".contains(c)))
        .map_or(text.len(), |n| start + n);
    Some(text[begin..end].to_owned())
}

/// The token of a link.
pub fn token_of(link: &str) -> String {
    link.split_once("?t=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

/// A page as the browser gets it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub html: String,
}

pub async fn fetch(app: &TestApp, request: Request<Body>) -> Page {
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("router answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    Page {
        status,
        headers,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// `GET /report?t=…`.
pub async fn open(app: &TestApp, token: &str) -> Page {
    let request = Request::get(format!("/report?t={token}")).body(Body::empty());
    fetch(app, request.expect("request builds")).await
}

/// The button: `POST /report` with the form, from `ip` with a browser's user agent.
pub async fn press(app: &TestApp, token: &str) -> Page {
    let mut request = Request::post("/report")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", "Mozilla/5.0 (ReportTest)")
        .body(Body::from(format!("t={token}")))
        .expect("request builds");
    let peer: std::net::SocketAddr = "198.51.100.23:50000".parse().expect("an address");
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    fetch(app, request).await
}

/// The notice's link for a fresh change of `user`, as sent by SES.
pub async fn notice_link(app: &TestApp, ses: &SesScope, user: &str) -> String {
    assert_eq!(app.post(change(user, &fresh("rq"))).await.status, 200);
    let notices = ses.notices().await;
    let notice = notices.last().expect("a notice was sent");
    link_in(&notice.body).expect("the notice has a report link")
}
