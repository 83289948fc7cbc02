//! The route itself: off unless configured, Okta's verification, the authorization header, bodies that are not
//! deliveries.

use axum::body::Body;
use axum::http::Request;
use serde_json::json;

use super::{SECRET, admin, deliver, deliver_with, delivery, fresh, okta_app, profile_event};
use crate::support::{SesScope, TestApp, capture};

fn verification(challenge: Option<&str>) -> Request<Body> {
    let mut request = Request::get("/hooks/okta");
    if let Some(value) = challenge {
        request = request.header("x-okta-verification-challenge", value);
    }
    request.body(Body::empty()).expect("request builds")
}

#[tokio::test]
async fn without_a_secret_the_route_is_a_json_404() {
    let app = TestApp::new(&[]).await;
    let get = app.request(verification(Some("abc"))).await;
    assert_eq!(get.status, 404);
    assert_eq!(get.content_type.as_deref(), Some("application/json"));
    let post = deliver(&app, delivery(vec![])).await;
    assert_eq!(post.status, 404);
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
}

#[tokio::test]
async fn the_verification_challenge_is_echoed() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let answer = app.request(verification(Some("aZ9-challenge_value"))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(answer.body, json!({"verification": "aZ9-challenge_value"}));
    let missing = app.request(verification(None)).await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"], "no_challenge");
}

#[tokio::test]
async fn a_wrong_or_missing_secret_is_401_and_nothing_is_sent() {
    let (logs, _guard) = capture();
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let body = || {
        delivery(vec![profile_event(
            &fresh(),
            "2026-11-26T10:00:00.000Z",
            admin(),
            "email",
        )])
    };
    let wrong = deliver_with(&app, "authorization", "okta-hook-secret-7f3a9d", body()).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.content_type.as_deref(), Some("application/json"));
    let bearer = format!("Bearer {SECRET}");
    assert_eq!(
        deliver_with(&app, "authorization", &bearer, body())
            .await
            .status,
        401
    );
    assert_eq!(
        deliver_with(&app, "x-other", SECRET, body()).await.status,
        401
    );
    assert!(ses.sent().await.is_empty(), "a refused delivery sent mail");
    assert!(!logs.text().contains(SECRET), "the secret reached the logs");
    let refusals = logs.audits();
    assert_eq!(refusals.len(), 3, "{refusals:#?}");
}

#[tokio::test]
async fn the_header_name_is_configurable() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[("OKTA_HOOK_AUTH_HEADER", "X-Okta-Secret")]).await;
    let empty = || delivery(vec![]);
    assert_eq!(
        deliver_with(&app, "x-okta-secret", SECRET, empty())
            .await
            .status,
        204
    );
    assert_eq!(
        deliver(&app, empty()).await.status,
        401,
        "Authorization is no longer it"
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_delivery_is_400() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let answer = deliver(&app, r#"{"eventType":"com.okta.event_hook"}"#.to_owned()).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "not_a_delivery");
    let not_json = deliver(&app, "events".to_owned()).await;
    assert_eq!(not_json.status, 400);
}

#[tokio::test]
async fn a_delivery_is_answered_with_an_empty_204() {
    let ses = SesScope::new().await;
    let app = okta_app(&ses, &[]).await;
    let answer = app
        .request(
            Request::post("/hooks/okta")
                .header("content-type", "application/json")
                .header("authorization", SECRET)
                .body(Body::from(delivery(vec![])))
                .expect("request builds"),
        )
        .await;
    assert_eq!(answer.status, 204);
    assert_eq!(answer.body, serde_json::Value::Null);
}
