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

/// A topic as Asgardeo names it: `{rootOrgDomain}.{orgId}.schema.{profile}.{version}.event.{type}`.
const PROFILE_TOPIC: &str =
    "bar.com.05268edb-9a87-4656-87c0-0fb674dd03b1.schema.wso2.v1.event.userProfileUpdated";
/// The same event type as the event's URI.
const PROFILE_URI: &str =
    "https%3A%2F%2Fschemas.identity.wso2.org%2Fevents%2Fuser%2Fevent-type%2FuserProfileUpdated";

#[tokio::test]
async fn the_websub_challenge_is_answered_in_plain_text() {
    let ses = SesScope::new().await;
    let app = webhook_app(&ses).await;
    for topic in [PROFILE_TOPIC, PROFILE_URI] {
        let response = app
            .router
            .clone()
            .oneshot_text(websub(&format!(
                "hub.mode=subscribe&hub.topic={topic}&hub.challenge=c%2B7Hx9&hub.lease_seconds=86400"
            )))
            .await;
        assert_eq!(
            response,
            Plain {
                status: 200,
                content_type: "text/plain; charset=utf-8".to_owned(),
                nosniff: true,
                text: "c+7Hx9".to_owned()
            },
            "{topic}"
        );
    }
    let odd = app
        .request(websub(&format!(
            "hub.mode=publish&hub.topic={PROFILE_TOPIC}&hub.challenge=x"
        )))
        .await;
    assert_eq!(odd.status, 400);
    assert_eq!(odd.content_type.as_deref(), Some("application/json"));
    let no_challenge = app
        .request(websub(&format!(
            "hub.mode=subscribe&hub.topic={PROFILE_TOPIC}"
        )))
        .await;
    assert_eq!(no_challenge.status, 400);
}

#[tokio::test]
async fn a_topic_of_an_event_not_handled_here_is_refused() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = webhook_app(&ses).await;
    let refused = [
        "bar.com-userProfileUpdated",
        "bar.com.05268edb.schema.wso2.v1.event.userCreated",
        "bar.com.05268edb.schema.wso2.v1.event.userprofileupdated",
        "bar.com.05268edb.schema.wso2.v1.event.userProfileUpdated.extra",
        "bar.com.05268edb.event.userProfileUpdated",
        "https%3A%2F%2Fschemas.identity.wso2.org%2Fevents%2Fuser%2Fevent-type%2FuserCreated",
        "userProfileUpdated",
        "",
    ];
    for topic in refused {
        let answer = app
            .request(websub(&format!(
                "hub.mode=subscribe&hub.topic={topic}&hub.challenge=c-1"
            )))
            .await;
        assert_eq!(answer.status, 404, "{topic}");
        assert_eq!(answer.content_type.as_deref(), Some("application/json"));
        assert_eq!(answer.body["error"], "topic_not_handled", "{topic}");
    }
    let no_topic = app
        .request(websub("hub.mode=subscribe&hub.challenge=c-1"))
        .await;
    assert_eq!(no_topic.status, 404);
    let audits = logs.audits();
    let lines: Vec<_> = audits
        .iter()
        .filter(|a| a["message"] == "websub verification")
        .collect();
    assert_eq!(lines.len(), refused.len() + 1);
    for line in lines {
        assert_eq!(line["decision"], "refused", "{line}");
        assert_eq!(line["reason"], "topic_not_handled", "{line}");
    }
}

#[tokio::test]
async fn unsubscribing_is_confirmed_only_when_allowed() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let query = format!("hub.mode=unsubscribe&hub.topic={PROFILE_TOPIC}&hub.challenge=bye");
    let app = webhook_app(&ses).await;
    let refused = app.request(websub(&query)).await;
    assert_eq!(refused.status, 404);
    assert_eq!(refused.content_type.as_deref(), Some("application/json"));
    assert_eq!(refused.body["error"], "unsubscribe_not_allowed");
    let line = logs
        .audits()
        .into_iter()
        .find(|a| a["message"] == "websub verification")
        .expect("a verification line");
    assert_eq!(
        (line["decision"].as_str(), line["reason"].as_str()),
        (Some("refused"), Some("unsubscribe_not_allowed"))
    );

    let mut vars = ses.vars();
    vars.push(("WSO2_WEBHOOK_SECRET", SECRET));
    vars.push(("WSO2_WEBSUB_ALLOW_UNSUBSCRIBE", "true"));
    let allowed = TestApp::new(&vars).await;
    let answer = allowed.router.clone().oneshot_text(websub(&query)).await;
    assert_eq!((answer.status, answer.text.as_str()), (200, "bye"));
    assert!(answer.nosniff);
    let elsewhere = allowed
        .request(websub(
            "hub.mode=unsubscribe&hub.topic=bar.com-userProfileUpdated&hub.challenge=bye",
        ))
        .await;
    assert_eq!(elsewhere.status, 404, "the topic is checked all the same");
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

/// An answer that is not JSON, as a client sees it.
#[derive(Debug, PartialEq, Eq)]
struct Plain {
    status: u16,
    content_type: String,
    /// `X-Content-Type-Options: nosniff`: no browser reads the text as anything else.
    nosniff: bool,
    text: String,
}

trait OneshotText {
    async fn oneshot_text(self, request: Request<Body>) -> Plain;
}

impl OneshotText for axum::Router {
    async fn oneshot_text(self, request: Request<Body>) -> Plain {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let response = self.oneshot(request).await.expect("router answers");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let (content_type, nosniff) = (header("content-type"), header("x-content-type-options"));
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Plain {
            status,
            content_type,
            nosniff: nosniff == "nosniff",
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}
