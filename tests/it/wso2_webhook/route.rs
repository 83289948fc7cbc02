//! The route itself: off unless configured, WebSub verification, signatures in both forms, unknown events.

use axum::body::Body;
use axum::http::Request;

use super::{SECRET, deliver, deliver_signed, fresh, profile_updated};
use crate::support::{SesScope, TestApp, capture};

fn websub(query: &str) -> Request<Body> {
    Request::get(format!("/hooks/wso2?{query}"))
        .body(Body::empty())
        .expect("request builds")
}

async fn webhook_app(ses: &SesScope) -> TestApp {
    let mut vars = ses.vars();
    vars.push(("WSO2_WEBHOOK_SECRET", SECRET));
    TestApp::new(&vars).await
}

#[tokio::test]
async fn without_a_secret_the_route_is_a_json_404() {
    let app = TestApp::new(&[]).await;
    let get = app
        .request(websub("hub.mode=subscribe&hub.challenge=x"))
        .await;
    assert_eq!(get.status, 404);
    assert_eq!(get.content_type.as_deref(), Some("application/json"));
    let post = deliver(&app, profile_updated(&fresh(), &["mobile"])).await;
    assert_eq!(post.status, 404);
}

#[tokio::test]
async fn the_websub_challenge_is_answered_in_plain_text() {
    let ses = SesScope::new().await;
    let app = webhook_app(&ses).await;
    let response = app
        .router
        .clone()
        .oneshot_text(websub(
            "hub.mode=subscribe&hub.topic=bar.com-userProfileUpdated&hub.challenge=c%2B7Hx9&hub.lease_seconds=86400",
        ))
        .await;
    assert_eq!(
        response,
        (
            200,
            "text/plain; charset=utf-8".to_owned(),
            "c+7Hx9".to_owned()
        )
    );
    let unsubscribe = app
        .router
        .clone()
        .oneshot_text(websub("hub.mode=unsubscribe&hub.challenge=bye"))
        .await;
    assert_eq!(unsubscribe.2, "bye");
    let odd = app
        .request(websub("hub.mode=publish&hub.challenge=x"))
        .await;
    assert_eq!(odd.status, 400);
    assert_eq!(odd.content_type.as_deref(), Some("application/json"));
    assert_eq!(app.request(websub("hub.mode=subscribe")).await.status, 400);
}

#[tokio::test]
async fn both_signature_forms_are_accepted_and_anything_else_is_401() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = webhook_app(&ses).await;
    let body = || profile_updated(&fresh(), &["mobile"]);
    assert_eq!(deliver(&app, body()).await.status, 204);
    assert_eq!(
        deliver_signed(&app, "x-hub-signature", SECRET, body())
            .await
            .status,
        204
    );
    let forged = deliver_signed(&app, "x-wso2-event-signature", "not-the-secret", body()).await;
    assert_eq!(forged.status, 401);
    assert_eq!(forged.content_type.as_deref(), Some("application/json"));
    let unsigned = app
        .request(
            Request::post("/hooks/wso2")
                .header("content-type", "application/json")
                .body(Body::from(body()))
                .expect("request builds"),
        )
        .await;
    assert_eq!(unsigned.status, 401);
    assert!(!logs.text().contains(SECRET), "the secret reached the logs");
}

#[tokio::test]
async fn unknown_events_and_fields_are_accepted_and_ignored() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = webhook_app(&ses).await;
    let body = serde_json::json!({"jti": fresh(), "iat": super::now_ms(), "somethingNew": true,
        "events": {"https://schemas.identity.wso2.org/events/user/event-type/userCreated": {"user": {"id": "u"}}}})
    .to_string();
    assert_eq!(deliver(&app, body).await.status, 204);
    let audits = logs.audits();
    let line = audits
        .iter()
        .find(|a| a["message"] == "wso2 event")
        .expect("an event line");
    assert_eq!(line["decision"], "ignored");
    assert!(
        line["event"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/userCreated")
    );
    assert_eq!(
        deliver(&app, "{}".to_owned()).await.status,
        400,
        "not a Security Event Token"
    );
}

/// The status, content type and text of an answer that is not JSON.
trait OneshotText {
    async fn oneshot_text(self, request: Request<Body>) -> (u16, String, String);
}

impl OneshotText for axum::Router {
    async fn oneshot_text(self, request: Request<Body>) -> (u16, String, String) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let response = self.oneshot(request).await.expect("router answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }
}
