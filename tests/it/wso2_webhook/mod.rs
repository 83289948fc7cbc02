//! WSO2 IS / Asgardeo webhooks through the real router: signed Security Event Tokens shaped like the documented
//! `userProfileUpdated` payload, WebSub verification, notices after commit with moto's SES and DynamoDB.

mod changes;
mod commit;
mod route;

use axum::body::Body;
use axum::http::Request;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Answer, SesScope, TestApp};

pub const SECRET: &str = "wso2-webhook-secret-5d1e";
pub const TENANT_ID: &str = "12402";
pub const USER: &str = "u-emily";

/// `sha256=<hex HMAC-SHA256(secret, body)>`, as both WSO2 IS and Asgardeo's hub sign.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// A `userProfileUpdated` event for Emily, changing `updated` claims (short names), with its `jti`.
pub fn profile_updated(jti: &str, updated: &[&str]) -> String {
    let claims: Vec<Value> = updated
        .iter()
        .map(|c| json!({"uri": format!("http://wso2.org/claims/{c}"), "value": "(new)"}))
        .collect();
    json!({"iss": "https://localhost:9443/t/bar.com", "jti": jti, "iat": now_ms(),
        "rci": "05268edb-9a87-4656-87c0-0fb674dd03b1",
        "events": {"https://schemas.identity.wso2.org/events/user/event-type/userProfileUpdated": {
            "initiatorType": "ADMIN", "initiatorIpAddress": "203.0.113.10",
            "user": {"id": USER, "ref": format!("https://localhost:9443/t/bar.com/scim2/Users/{USER}"),
                "addedClaims": [], "updatedClaims": claims, "removedClaims": []},
            "tenant": {"id": TENANT_ID, "name": "bar.com"},
            "userStore": {"id": "UFJJTUFSWQ==", "name": "PRIMARY"}, "action": "UPDATE"}}})
    .to_string()
}

/// POSTs `body` signed the WSO2 IS way with `secret`.
pub async fn deliver_signed(app: &TestApp, header: &str, secret: &str, body: String) -> Answer {
    let signed = signature(secret, &body);
    app.request(
        Request::post("/hooks/wso2")
            .header("content-type", "application/json")
            .header(header, signed)
            .body(Body::from(body))
            .expect("request builds"),
    )
    .await
}

pub async fn deliver(app: &TestApp, body: String) -> Answer {
    deliver_signed(app, "x-wso2-event-signature", SECRET, body).await
}

/// The app with the webhook on, notices after commit and SES for e-mail; `extra` adds or overrides variables.
pub async fn commit_app(ses: &SesScope, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = ses.vars();
    vars.push(("WSO2_WEBHOOK_SECRET", SECRET));
    vars.push(("USER_NOTICE_WHEN", "commit"));
    vars.extend_from_slice(extra);
    TestApp::new(&vars).await
}

/// A pre-update call: an administrator changes Emily's mobile number.
pub fn mobile_change(request_id: &str) -> String {
    json!({"requestId": request_id, "actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": "+94771234567"}]},
        "tenant": {"id": TENANT_ID, "name": "bar.com"},
        "user": {"id": USER, "claims": [
            {"uri": "http://wso2.org/claims/emailaddress", "value": "emily@aol.com"},
            {"uri": "http://wso2.org/claims/givenname", "value": "Emily"},
            {"uri": "http://wso2.org/claims/mobile", "value": "+94770000001"}]},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"},
        "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}

/// This moment in epoch milliseconds, as WSO2 writes `iat`.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

pub fn fresh() -> String {
    uuid::Uuid::new_v4().to_string()
}
