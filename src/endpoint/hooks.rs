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
    /// `WSO2_WEBSUB_ALLOW_UNSUBSCRIBE`: whether the hub's unsubscription check is confirmed.
    pub allow_unsubscribe: bool,
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
/// `hub.challenge`, answered with the challenge as plain text. Only a topic of an event this service handles is
/// confirmed, and an unsubscription only when allowed: a confirmed unsubscription would stop the commit events.
async fn websub_verify(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some(wso2) = &state.wso2 else {
        return Refusal::of(Refused::NotFound, &request).into_response();
    };
    let check = WebSubCheck::of(request.uri().query().unwrap_or(""));
    let verdict = check.verdict(wso2.allow_unsubscribe);
    tracing::info!(
        target: "profile_guard::audit",
        source = "wso2_webhook",
        mode = check.mode.as_deref().map(|m| crate::text::one_line(m, 20)),
        topic = check.topic.as_deref().map(|t| crate::text::one_line(t, 200)),
        decision = if verdict.is_ok() { "verified" } else { "refused" },
        reason = verdict.as_ref().err().map(|refusal| refusal.reason()),
        "websub verification"
    );
    match verdict {
        Ok(challenge) => challenge_answer(challenge),
        Err(refusal) => refusal.answer(),
    }
}

/// The one event type `/hooks/wso2` subscribes to, spelled (and compared) as WSO2 spells it.
const HANDLED_EVENT_TYPE: &str = "userProfileUpdated";

/// The query of a WebSub verification.
struct WebSubCheck {
    mode: Option<String>,
    topic: Option<String>,
    challenge: Option<String>,
}

/// Why a verification is not confirmed.
enum NotConfirmed {
    NotAVerification,
    Unsubscribe,
    Topic,
}

impl WebSubCheck {
    fn of(query: &str) -> Self {
        let url = reqwest::Url::parse(&format!("http://hub/?{query}")).ok();
        let param = |name: &str| {
            url.as_ref()?
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        WebSubCheck {
            mode: param("hub.mode"),
            topic: param("hub.topic"),
            challenge: param("hub.challenge")
                .filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE_BYTES),
        }
    }

    /// The challenge to echo, or why not.
    fn verdict(&self, allow_unsubscribe: bool) -> Result<&str, NotConfirmed> {
        let unsubscribe = match self.mode.as_deref() {
            Some("subscribe") => false,
            Some("unsubscribe") => true,
            _ => return Err(NotConfirmed::NotAVerification),
        };
        let challenge = self
            .challenge
            .as_deref()
            .ok_or(NotConfirmed::NotAVerification)?;
        if unsubscribe && !allow_unsubscribe {
            return Err(NotConfirmed::Unsubscribe);
        }
        match self.topic.as_deref().and_then(topic_event_type) {
            Some(HANDLED_EVENT_TYPE) => Ok(challenge),
            _ => Err(NotConfirmed::Topic),
        }
    }
}

/// The event type a topic names: what follows the last `/event-type/` of a URI
/// (`https://schemas.identity.wso2.org/events/user/event-type/userProfileUpdated`), or the last `.event.` of
/// Asgardeo's `{rootOrgDomain}.{orgId}.schema.{profile}.{version}.event.{type}`. Anything else names none.
fn topic_event_type(topic: &str) -> Option<&str> {
    if topic.starts_with("https://") || topic.starts_with("http://") {
        return topic.rsplit_once("/event-type/").map(|(_, t)| t);
    }
    let (head, event_type) = topic.rsplit_once(".event.")?;
    head.contains(".schema.").then_some(event_type)
}

impl NotConfirmed {
    /// The audit line's `reason`, also the answer's `error`.
    fn reason(&self) -> &'static str {
        match self {
            NotConfirmed::NotAVerification => "not_a_verification",
            NotConfirmed::Unsubscribe => "unsubscribe_not_allowed",
            NotConfirmed::Topic => "topic_not_handled",
        }
    }

    fn answer(&self) -> Response {
        let (status, message) = match self {
            NotConfirmed::NotAVerification => (
                StatusCode::BAD_REQUEST,
                "a GET here is a WebSub verification: hub.mode (subscribe or unsubscribe) and hub.challenge",
            ),
            NotConfirmed::Unsubscribe => (
                StatusCode::NOT_FOUND,
                "unsubscriptions are not confirmed here",
            ),
            NotConfirmed::Topic => (
                StatusCode::NOT_FOUND,
                "only subscriptions to userProfileUpdated events are confirmed here",
            ),
        };
        answer(status, self.reason(), message)
    }
}

/// The challenge, echoed as plain text that no browser may read as anything else.
fn challenge_answer(challenge: &str) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        challenge.to_owned(),
    )
        .into_response();
    response.extensions_mut().insert(PlainTextOnPurpose);
    response
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
