//! The event hook routes. `/hooks/okta`: Okta's one-time verification (`GET` with
//! `X-Okta-Verification-Challenge`) and its deliveries (`POST`, with the configured authorization header).
//! `/hooks/wso2`: Asgardeo's WebSub verification (`GET` with `hub.challenge`, answered in plain text) and signed
//! deliveries from WSO2 IS or Asgardeo (`POST`). A route that is not configured is a plain 404, the same as any
//! unknown path.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde_json::json;

use crate::auth::{Authenticator, WebhookSignature};
use crate::hooks::{HookAnswer, OktaHook, Wso2Hook};

use super::call::read_body;
use super::context::{arrival, call_info};
use super::refusal::{Refusal, Refused};
use super::{AppState, JSON, PlainTextOnPurpose};

pub const OKTA_PATH: &str = "/hooks/okta";
pub const WSO2_PATH: &str = "/hooks/wso2";

/// A delivery larger than this is refused (413). Okta does not document a batch's size; a profile event is about
/// 2 KB, so this holds hundreds.
pub const HOOK_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest verification challenge echoed back (Okta's are short tokens).
const MAX_CHALLENGE_BYTES: usize = 1024;

static CHALLENGE: HeaderName = HeaderName::from_static("x-okta-verification-challenge");

/// The Okta route, when configured.
pub struct OktaRoute {
    pub hook: OktaHook,
    /// Checks the header Okta sends with every call (`authScheme`), verbatim, in constant time.
    pub auth: Authenticator,
}

/// The WSO2 / Asgardeo webhook route, when configured.
pub struct Wso2Route {
    pub hook: Wso2Hook,
    /// Checks each delivery's HMAC signature on the raw body, in constant time.
    pub signature: WebhookSignature,
}

pub(super) fn okta_route() -> MethodRouter<Arc<AppState>> {
    get(okta_verify).post(okta_deliver)
}

pub(super) fn wso2_route() -> MethodRouter<Arc<AppState>> {
    get(websub_verify).post(wso2_deliver)
}

/// A hook's own answer: a small JSON body with a machine word and a sentence.
fn answer(status: StatusCode, error: &str, message: &str) -> Response {
    let body = json!({"error": error, "message": message}).to_string();
    (status, [(header::CONTENT_TYPE, JSON.clone())], body).into_response()
}

async fn okta_verify(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if state.okta.is_none() {
        return Refusal::of(Refused::NotFound, &request).into_response();
    }
    let challenge = request
        .headers()
        .get(&CHALLENGE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= MAX_CHALLENGE_BYTES);
    let verified = challenge.is_some();
    tracing::info!(
        target: "profile_guard::audit",
        source = "okta",
        decision = if verified { "verified" } else { "no_challenge" },
        "okta verification"
    );
    match challenge {
        Some(value) => (
            [(header::CONTENT_TYPE, JSON.clone())],
            json!({ "verification": value }).to_string(),
        )
            .into_response(),
        None => answer(
            StatusCode::BAD_REQUEST,
            "no_challenge",
            "a GET here is Okta's verification and carries X-Okta-Verification-Challenge",
        ),
    }
}

async fn okta_deliver(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some(okta) = &state.okta else {
        return Refusal::of(Refused::NotFound, &request).into_response();
    };
    if let Err(failure) = okta.auth.check(request.headers()) {
        return Refusal::of(Refused::Credentials(failure), &request).into_response();
    }
    let (info, arrived) = (
        call_info(request.extensions()),
        arrival(request.extensions()),
    );
    let body = match read_body(request, HOOK_MAX_BODY_BYTES, okta.hook.deadline, arrived).await {
        Ok(body) => body,
        Err(why) => return Refusal::new(why, info, arrived).into_response(),
    };
    hook_answer(okta.hook.handle(&body, arrived).await)
}

fn hook_answer(outcome: HookAnswer) -> Response {
    match outcome {
        HookAnswer::Done => StatusCode::NO_CONTENT.into_response(),
        HookAnswer::Retry { messages } => answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "retry",
            &format!("{messages} messages could not be sent yet; a new delivery sends only those"),
        ),
        HookAnswer::NotADelivery(why) => answer(StatusCode::BAD_REQUEST, "not_a_delivery", &why),
        HookAnswer::Stale(why) => answer(StatusCode::BAD_REQUEST, "stale_delivery", &why),
    }
}

/// Asgardeo's WebSub hub checks the subscription: `hub.mode` (subscribe or unsubscribe), `hub.topic` and
/// `hub.challenge`, answered with the challenge as plain text.
async fn websub_verify(State(state): State<Arc<AppState>>, request: Request) -> Response {
    if state.wso2.is_none() {
        return Refusal::of(Refused::NotFound, &request).into_response();
    }
    let query = request.uri().query().unwrap_or("");
    let url = reqwest::Url::parse(&format!("http://hub/?{query}")).ok();
    let param = |name: &str| {
        url.as_ref()?
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let mode = param("hub.mode");
    let challenge =
        param("hub.challenge").filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE_BYTES);
    let known_mode = matches!(mode.as_deref(), Some("subscribe" | "unsubscribe"));
    tracing::info!(
        target: "profile_guard::audit",
        source = "wso2_webhook",
        mode = mode.as_deref().map(|m| crate::text::one_line(m, 20)),
        topic = param("hub.topic").map(|t| crate::text::one_line(&t, 200)),
        decision = if known_mode && challenge.is_some() { "verified" } else { "refused" },
        "websub verification"
    );
    match (known_mode, challenge) {
        (true, Some(challenge)) => {
            let mut response = (
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                challenge,
            )
                .into_response();
            response.extensions_mut().insert(PlainTextOnPurpose);
            response
        }
        _ => answer(
            StatusCode::BAD_REQUEST,
            "not_a_verification",
            "a GET here is a WebSub verification: hub.mode (subscribe or unsubscribe) and hub.challenge",
        ),
    }
}

/// A signed delivery: the body is read whole, then its signature checked, before anything of it is used.
async fn wso2_deliver(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some(wso2) = &state.wso2 else {
        return Refusal::of(Refused::NotFound, &request).into_response();
    };
    let (info, arrived) = (
        call_info(request.extensions()),
        arrival(request.extensions()),
    );
    let headers = request.headers().clone();
    let body = match read_body(request, HOOK_MAX_BODY_BYTES, wso2.hook.deadline, arrived).await {
        Ok(body) => body,
        Err(why) => return Refusal::new(why, info, arrived).into_response(),
    };
    if let Err(failure) = wso2.signature.check(&headers, &body) {
        return Refusal::new(Refused::Credentials(failure), info, arrived).into_response();
    }
    hook_answer(wso2.hook.handle(&body, arrived).await)
}
