//! `REPORT_ACTION=lock` against loopback stubs that check each call as WSO2 and Okta document it and answer as they
//! do, errors included: the page says what was done, and a failed lock is said in the alert, which always goes.

use std::time::{Duration, SystemTime};

use profile_guard::notify::{ChangeSource, ChangedBy, LinkedChange};
use profile_guard::report::lock::wso2_scim::lock_request;
use profile_guard::report::token::LinkKey;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, fresh, press, report_app};
use crate::support::{SesScope, TestApp, capture};

const SCIM_TOKEN: &str = "scim-bearer-token-5d1e";
const OKTA_TOKEN: &str = "okta-ssws-token-77aa";

fn token(source: ChangeSource, user: &str) -> String {
    let change = LinkedChange {
        source,
        tenant: "testwso2".into(),
        user_id: user.into(),
        reference: fresh("rq"),
        at: SystemTime::now(),
        changed_by: ChangedBy::Administrator,
        lines: Vec::new(),
        more: 0,
    };
    let key = LinkKey::new(&SecretString::from(KEY)).unwrap();
    key.sign(&change, SystemTime::now() + Duration::from_secs(600))
        .unwrap()
}

fn scim_error(status: u16, detail: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": detail, "status": status.to_string()}))
}

/// WSO2's SCIM2 Users endpoint under `/t/testwso2`: the documented PATCH with the right token gets `answer`;
/// any other call is refused the way WSO2 refuses it, so a wrong call fails the test.
async fn scim(user: &str, answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {SCIM_TOKEN}");
    Mock::given(method("PATCH"))
        .and(path(format!("/t/testwso2/scim2/Users/{user}")))
        .and(header("authorization", bearer.as_str()))
        .and(header("content-type", "application/scim+json"))
        .and(body_json(lock_request()))
        .respond_with(answer)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(scim_error(400, "not the documented call"))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

fn locked_user(user: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:scim:wso2:schema"],
        "id": user, "userName": "DEFAULT/emily",
        "urn:scim:wso2:schema": {"accountLocked": "true"},
        "meta": {"resourceType": "User", "lastModified": "2026-11-26T09:31:00.000Z"}}))
}

async fn wso2_app(ses: &SesScope, server: &MockServer) -> TestApp {
    let url = format!("{}/t/{{tenant}}", server.uri());
    let extra = [
        ("REPORT_ACTION", "lock"),
        ("WSO2_SCIM_URL", url.as_str()),
        ("WSO2_SCIM_TOKEN", SCIM_TOKEN),
    ];
    report_app(ses, &extra).await
}

#[tokio::test]
async fn a_wso2_account_is_locked_through_scim2() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let user = fresh("u");
    let server = scim(&user, locked_user(&user)).await;
    let app = wso2_app(&ses, &server).await;
    let page = press(&app, &token(ChangeSource::Wso2, &user)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("Your account has been locked"),
        "{}",
        page.html
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let alert = ses.alerts().await.pop().expect("the alert");
    assert!(alert.body.contains("locked the account"), "{}", alert.body);
    let report = logs
        .audits()
        .into_iter()
        .find(|l| l["message"] == "report")
        .unwrap();
    assert_eq!(report["lock"], "lock:done");
    assert!(
        !logs.text().contains(SCIM_TOKEN),
        "the SCIM token reached the log"
    );
}

#[tokio::test]
async fn a_failed_scim2_lock_is_said_and_never_hides_the_alert() {
    let cases = [
        (
            scim_error(401, "Authentication required"),
            "credentials",
            "WSO2 SCIM2 answered 401",
        ),
        (
            scim_error(403, "Operation is not permitted"),
            "credentials",
            "WSO2 SCIM2 answered 403",
        ),
        (
            scim_error(
                404,
                "Specified resource (e.g., User) or its endpoint does not exist.",
            ),
            "rejected",
            "no such user",
        ),
        (
            scim_error(429, "Too many requests"),
            "throttled",
            "WSO2 SCIM2 answered 429",
        ),
        (
            ResponseTemplate::new(503),
            "service",
            "WSO2 SCIM2 answered 503",
        ),
    ];
    for (answer, kind, detail) in cases {
        let (logs, _guard) = capture();
        let ses = SesScope::new().await;
        let user = fresh("u");
        let server = scim(&user, answer).await;
        let app = wso2_app(&ses, &server).await;
        let page = press(&app, &token(ChangeSource::Wso2, &user)).await;
        assert_eq!(page.status, 200, "{kind}");
        assert!(
            page.html.contains("could not be locked automatically"),
            "{kind}: {}",
            page.html
        );
        let alert = ses
            .alerts()
            .await
            .pop()
            .expect("the alert goes all the same");
        assert!(
            alert.body.contains("could not be locked"),
            "{kind}: {}",
            alert.body
        );
        assert!(alert.body.contains(detail), "{kind}: {}", alert.body);
        let report = logs
            .audits()
            .into_iter()
            .find(|l| l["message"] == "report")
            .unwrap();
        let lock = report["lock"].as_str().unwrap().to_owned();
        assert!(lock.starts_with(&format!("lock:failed:{kind}:")), "{lock}");
        assert!(logs.text().contains("\"ReportLocksFailed\":1"));
    }
}

fn okta_error(status: u16, code: &str, summary: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "errorCode": code, "errorSummary": summary, "errorLink": code,
        "errorId": "oae8Fz4l1TQ2yg", "errorCauses": []}))
}

/// Okta's Users API: the suspension and the sessions of `user`, each answered as given when called as documented
/// (the SSWS token, JSON), anything else refused as Okta refuses a bad token.
async fn okta(user: &str, suspend: ResponseTemplate, sessions: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let ssws = format!("SSWS {OKTA_TOKEN}");
    Mock::given(method("POST"))
        .and(path(format!("/api/v1/users/{user}/lifecycle/suspend")))
        .and(header("authorization", ssws.as_str()))
        .and(header("accept", "application/json"))
        .respond_with(suspend)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/api/v1/users/{user}/sessions")))
        .and(query_param("oauthTokens", "true"))
        .and(header("authorization", ssws.as_str()))
        .respond_with(sessions)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(okta_error(401, "E0000011", "Invalid token provided"))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

async fn okta_app(ses: &SesScope, server: &MockServer) -> TestApp {
    let org = server.uri();
    let extra = [
        ("REPORT_ACTION", "lock"),
        ("OKTA_HOOK_AUTH", "okta-hook-secret"),
        ("OKTA_ORG_URL", org.as_str()),
        ("OKTA_API_TOKEN", OKTA_TOKEN),
    ];
    report_app(ses, &extra).await
}

fn calls(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test]
async fn an_okta_user_is_suspended_then_signed_out() {
    let ses = SesScope::new().await;
    let user = "00u1report".to_owned() + &fresh("x")[2..8];
    let server = okta(
        &user,
        ResponseTemplate::new(200).set_body_json(json!({})),
        ResponseTemplate::new(204),
    )
    .await;
    let app = okta_app(&ses, &server).await;
    let page = press(&app, &token(ChangeSource::Okta, &user)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains("suspended and signed out everywhere"),
        "{}",
        page.html
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        calls(&requests),
        [
            format!("POST /api/v1/users/{user}/lifecycle/suspend"),
            format!("DELETE /api/v1/users/{user}/sessions"),
        ],
        "suspended first"
    );
    let alert = ses.alerts().await.pop().unwrap();
    assert!(
        alert
            .body
            .contains("Done: suspended the user, ended their sessions"),
        "{}",
        alert.body
    );
}

#[tokio::test]
async fn okta_errors_are_said_on_the_page_and_in_the_alert() {
    let ok = || ResponseTemplate::new(204);
    let not_active = okta_error(400, "E0000001", "Api validation failed: suspendUser")
        .set_body_json(json!({
        "errorCode": "E0000001", "errorSummary": "Api validation failed: suspendUser",
        "errorCauses": [{"errorSummary": "Cannot suspend a user that is not active"}]}));
    let limited = okta_error(
        429,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
    )
    .insert_header("x-rate-limit-limit", "600")
    .insert_header("x-rate-limit-remaining", "0")
    .insert_header("x-rate-limit-reset", "1764150000");
    let cases: Vec<(ResponseTemplate, ResponseTemplate, &str, &str)> = vec![
        (
            okta_error(
                403,
                "E0000006",
                "You do not have permission to perform the requested action",
            ),
            okta_error(
                403,
                "E0000006",
                "You do not have permission to perform the requested action",
            ),
            "could not be locked",
            "Okta answered 403 E0000006",
        ),
        (
            okta_error(404, "E0000007", "Not found: Resource not found: 00u (User)"),
            okta_error(404, "E0000007", "Not found: Resource not found: 00u (User)"),
            "could not be locked",
            "Okta answered 404 E0000007",
        ),
        (
            limited.clone(),
            limited,
            "could not be locked",
            "Okta answered 429 E0000047",
        ),
        (
            okta_error(500, "E0000009", "Internal Server Error"),
            ResponseTemplate::new(502),
            "could not be locked",
            "Okta answered 500 E0000009",
        ),
        (
            not_active,
            ok(),
            "only partly",
            "Cannot suspend a user that is not active",
        ),
    ];
    for (suspend, sessions, page_says, alert_says) in cases {
        let ses = SesScope::new().await;
        let user = format!("00u{}", &fresh("x")[2..12]);
        let server = okta(&user, suspend, sessions).await;
        let app = okta_app(&ses, &server).await;
        let page = press(&app, &token(ChangeSource::Okta, &user)).await;
        assert_eq!(page.status, 200);
        assert!(page.html.contains(page_says), "{alert_says}: {}", page.html);
        let alert = ses
            .alerts()
            .await
            .pop()
            .expect("the alert goes all the same");
        assert!(
            alert.body.contains(alert_says),
            "{alert_says}: {}",
            alert.body
        );
        assert!(alert.body.contains("NOT"), "{}", alert.body);
    }
}

#[tokio::test]
async fn a_wrong_token_is_refused_like_okta_refuses_it() {
    let ses = SesScope::new().await;
    let server = okta(
        "00u-other",
        ResponseTemplate::new(200),
        ResponseTemplate::new(204),
    )
    .await;
    let app = okta_app(&ses, &server).await;
    let page = press(&app, &token(ChangeSource::Okta, "00u1someone")).await;
    assert!(page.html.contains("could not be locked"), "{}", page.html);
    let alert: Value = json!(ses.alerts().await.pop().unwrap().body);
    assert!(
        alert
            .as_str()
            .unwrap()
            .contains("Okta answered 401 E0000011"),
        "{alert}"
    );
}
