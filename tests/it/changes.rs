//! What counts as a change and who is told: a department the person already has is not judged again, cleared
//! claims read the way WSO2 writes them, and an e-mail change always reaches the old address.

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{SesScope, TestApp, success};

pub const CLAIMS: &str = "http://wso2.org/claims/";

pub fn claim(name: &str, value: Value) -> Value {
    json!({"uri": format!("{CLAIMS}{name}"), "value": value})
}

/// A request body: `writes` and `current` are claim lists; `id` the optional `requestId`.
pub fn change(id: Option<&str>, initiator: &str, writes: Value, current: Value) -> String {
    let mut body = json!({
        "actionType": "PRE_UPDATE_PROFILE",
        "event": {
            "request": {"claims": writes},
            "tenant": {"id": "2210", "name": "testwso2"},
            "user": {"id": "u-1", "claims": current},
            "initiatorType": initiator,
            "action": "UPDATE"
        }
    });
    if let Some(id) = id {
        body["requestId"] = json!(id);
    }
    body.to_string()
}

/// A directory stub that must not be asked (it fails the test if it is), and its URL template.
async fn unasked_directory() -> (MockServer, String) {
    let directory = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .expect(0)
        .mount(&directory)
        .await;
    let url = format!("{}/departments/{{department}}", directory.uri());
    (directory, url)
}

#[tokio::test]
async fn a_department_the_person_already_has_is_not_judged_again() {
    let ses = SesScope::new().await;
    let (_directory, url) = unasked_directory().await;
    let mut vars = ses.vars();
    vars.push(("DEPARTMENT_API_URL", &url));
    let app = TestApp::new(&vars).await;
    // A SCIM PUT re-sends the whole profile: the department since retired from the directory comes along.
    let body = change(
        None,
        "APPLICATION",
        json!([
            claim("department", json!("Retired")),
            claim("mobile", json!("+15550199"))
        ]),
        json!([
            claim("department", json!("Retired")),
            claim("mobile", json!("+15550100"))
        ]),
    );
    assert_eq!(app.post(body).await.body, success());
    assert_eq!(
        ses.alerts().await.len(),
        1,
        "the phone change is still reported"
    );
}

#[tokio::test]
async fn cleared_claims_read_the_way_wso2_writes_them() {
    let ses = SesScope::new().await;
    let (_directory, url) = unasked_directory().await;
    let mut vars = ses.vars();
    vars.push(("DEPARTMENT_API_URL", &url));
    vars.push(("USER_NOTICE", "off"));
    let app = TestApp::new(&vars).await;
    let current = json!([
        claim("mobile", json!("+15550100")),
        claim("department", json!("HR"))
    ]);
    let cleared_mobile = change(
        None,
        "ADMIN",
        json!([{"uri": format!("{CLAIMS}mobile")}]),
        current.clone(),
    );
    let answer = app.post(cleared_mobile).await;
    assert_eq!((answer.status, answer.body), (200, success()));
    assert_eq!(
        ses.alerts().await.len(),
        1,
        "a cleared sensitive claim is a change"
    );

    let null_value = change(
        None,
        "ADMIN",
        json!([{"uri": format!("{CLAIMS}department"), "value": null}]),
        current,
    );
    for body in [
        null_value,
        r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":{"claims":null},"user":{"id":"u"}}}"#.into(),
        r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":null,"user":{"id":"u","claims":null}}}"#.into(),
    ] {
        let answer = app.post(body.clone()).await;
        assert_eq!((answer.status, answer.body), (200, success()), "{body}");
    }
}

#[tokio::test]
async fn a_self_service_email_change_is_told_to_the_old_address() {
    let ses = SesScope::new().await;
    let mut vars = ses.vars();
    vars.push(("USER_NOTICE", "others"));
    let app = TestApp::new(&vars).await;
    let body = change(
        None,
        "USER",
        json!([claim("emailaddress", json!("attacker@evil.example"))]),
        json!([claim("emailaddress", json!("emily@aol.com"))]),
    );
    assert_eq!(app.post(body).await.body, success());
    let notices = ses.notices().await;
    assert_eq!(
        notices.len(),
        1,
        "the takeover case is exactly the self-service one"
    );
    assert_eq!(notices[0].to, ["emily@aol.com"]);
    // Other self-service changes stay quiet with USER_NOTICE=others.
    let phone = change(
        None,
        "USER",
        json!([claim("mobile", json!("+15550199"))]),
        json!([claim("emailaddress", json!("emily@aol.com"))]),
    );
    assert_eq!(app.post(phone).await.body, success());
    assert_eq!(ses.notices().await.len(), 1);
}
