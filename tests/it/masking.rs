//! Masked values through the whole router: what the security team and the person receive never carries more of a
//! value than the masked form allows, whatever the value looks like.

use serde_json::json;

use crate::support::{SesScope, TestApp, success};

#[tokio::test]
async fn free_text_with_an_at_sign_in_a_phone_claim_is_not_shown_in_the_alert() {
    let ses = SesScope::new().await;
    let app = TestApp::new(&ses.vars()).await;
    let body = json!({"actionType": "PRE_UPDATE_PROFILE", "requestId": "mask-1", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "x@URGENT call +15550100"}]},
        "tenant": {"id": "12402", "name": "bar.com"},
        "user": {"id": "u-mask", "claims": [
            {"uri": "http://wso2.org/claims/mobile", "value": "+94771223448",
             "updatingValue": "x@URGENT call +15550100"},
            {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"}]},
        "initiatorType": "ADMIN", "action": "UPDATE"}});
    assert_eq!(app.post(body.to_string()).await.body, success());

    let alerts = ses.alerts().await;
    assert_eq!(alerts.len(), 1, "one alert: {alerts:?}");
    let alert = &alerts[0];
    assert!(
        alert
            .body
            .contains("<td>Mobile number</td><td>+9477*****48</td><td>x***</td>"),
        "{}",
        alert.body
    );
    let notices = ses.notices().await;
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    for (what, text) in [
        ("alert subject", &alert.subject),
        ("alert body", &alert.body),
        ("notice body", &notices[0].body),
    ] {
        for secret in ["URGENT", "+15550100", " call "] {
            assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
        }
    }
}
