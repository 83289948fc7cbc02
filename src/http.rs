//! The endpoint: routes, body limits, JSON in, action answer out. Every answer is `application/json`: the routing
//! refusals (404, 405) are JSON too, and a last layer turns anything else the framework might answer on its own
//! into a JSON ERROR.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;

use lambda_http::request::RequestContext;

use crate::action::{ActionResponse, Description, ErrorStatus, Reason};
use crate::audit::{Audit, CallInfo};
use crate::auth::Authenticator;
use crate::pipeline::Pipeline;
use crate::policy;

/// The paths the action answers on.
pub const ACTION_PATHS: [&str; 2] = ["/pre-update-profile", "/"];

/// Shared state of the router.
pub struct AppState {
    pub pipeline: Pipeline,
    pub auth: Authenticator,
    pub max_body_bytes: usize,
}

/// The service's router, independent of how it is served (local socket or Lambda).
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for path in ACTION_PATHS {
        router = router.route(path, post(action));
    }
    router
        .route("/{stage}/pre-update-profile", post(staged_action))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(axum::middleware::map_response(only_json))
        .with_state(state)
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// An action answer as an HTTP response.
pub fn into_response(answer: &ActionResponse) -> Response {
    let status =
        StatusCode::from_u16(answer.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, JSON.clone())],
        answer.to_json(),
    )
        .into_response()
}

async fn action(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let call = call_info(&request);
    if let Some((answer, detail)) = refuse_before_body(&state, &request) {
        let mut audit = Audit::new(call.fallback_request_id());
        audit.detail = Some(detail.into());
        audit.emit(&answer, started);
        return into_response(&answer);
    }
    match read_body(&state, request, started).await {
        Ok(body) => into_response(&state.pipeline.handle_since(&body, &call, started).await),
        Err((answer, detail)) => {
            let mut audit = Audit::new(call.fallback_request_id());
            audit.detail = Some(detail);
            audit.emit(&answer, started);
            let mut response = into_response(&answer);
            // What is left of the body is never read: the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

fn call_info(request: &Request) -> CallInfo {
    CallInfo {
        invocation_id: request
            .extensions()
            .get::<lambda_http::Context>()
            .map(|c| c.request_id.clone()),
    }
}

/// Authentication first (an unauthenticated call gets nothing else done), then the content type.
fn refuse_before_body(
    state: &AppState,
    request: &Request,
) -> Option<(ActionResponse, &'static str)> {
    if let Err(failure) = state.auth.check(request.headers()) {
        return Some((policy::UNAUTHORIZED, failure.as_str()));
    }
    if !is_json(request.headers().get(header::CONTENT_TYPE)) {
        return Some((policy::UNSUPPORTED_CONTENT_TYPE, "content type is not JSON"));
    }
    None
}

/// The whole body, within the size limit and within the call's deadline (which started when the call arrived:
/// a client that stalls its body holds the request no longer than that).
async fn read_body(
    state: &AppState,
    request: Request,
    started: Instant,
) -> Result<Bytes, (ActionResponse, String)> {
    let limit = state.max_body_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err((policy::BODY_TOO_LARGE, format!("body limit {limit} bytes")));
    }
    let deadline = started + state.pipeline.deadline;
    match tokio::time::timeout_at(
        deadline.into(),
        axum::body::to_bytes(request.into_body(), limit),
    )
    .await
    {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) if is_length_limit(&e) => {
            Err((policy::BODY_TOO_LARGE, format!("body limit {limit} bytes")))
        }
        Ok(Err(_)) => Err((policy::BODY_UNREADABLE, format!("body limit {limit} bytes"))),
        Err(_) => Err((
            policy::BODY_UNREADABLE,
            format!(
                "body not received within the deadline of {} ms",
                state.pipeline.deadline.as_millis()
            ),
        )),
    }
}

/// A REST API (payload 1.0) puts the stage in the path (`/prod/pre-update-profile`). Accepted only when the
/// request really came through that API Gateway stage, so no other prefix opens a second endpoint. A stage that
/// does not decode (invalid UTF-8) is no stage at all: the same 404, never the extractor's plain-text refusal.
async fn staged_action(
    state: State<Arc<AppState>>,
    stage: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    let through_stage = stage.is_ok_and(|Path(stage)| {
        matches!(
            request.extensions().get::<RequestContext>(),
            Some(RequestContext::ApiGatewayV1(ctx)) if ctx.stage.as_deref() == Some(stage.as_str())
        )
    });
    if through_stage {
        action(state, request).await
    } else {
        not_found(request).await
    }
}

/// `application/json`, with parameters or a `+json` suffix, or no content type at all (lenient with hand-made
/// calls; the identity server always sends one).
fn is_json(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value else { return true };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

fn routing_error(status: StatusCode, message: &str, description: &str) -> Response {
    let body = serde_json::json!({
        "actionStatus": "ERROR",
        "errorMessage": message,
        "errorDescription": description,
    });
    (
        status,
        [(header::CONTENT_TYPE, JSON.clone())],
        body.to_string(),
    )
        .into_response()
}

/// The audit line of a refusal made before any action request is read. Never the path, query or method: they
/// are the caller's input.
fn audit_refusal(call: &CallInfo, reason: &str, status: StatusCode, detail: &str) {
    tracing::info!(
        target: "profile_guard::audit",
        request_id = %call.fallback_request_id(),
        decision = "ERROR",
        reason,
        http_status = status.as_u16(),
        detail,
        "decision"
    );
}

async fn not_found(request: Request) -> Response {
    let call = call_info(&request);
    audit_refusal(
        &call,
        "not_found",
        StatusCode::NOT_FOUND,
        "no action endpoint at this path",
    );
    routing_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "No action endpoint here. Send POST requests to the pre-update-profile path.",
    )
}

async fn method_not_allowed(request: Request) -> Response {
    let call = call_info(&request);
    audit_refusal(
        &call,
        "method_not_allowed",
        StatusCode::METHOD_NOT_ALLOWED,
        "the method is not POST",
    );
    let mut response = routing_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "The action endpoint accepts POST only.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    tracing::error!(target: "profile_guard::audit", decision = "ERROR", reason = "server_error", "a request panicked");
    into_response(&policy::INTERNAL_ERROR)
}

/// The answer to anything the framework would otherwise refuse in plain text on its own.
const REQUEST_UNREADABLE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request could not be read."),
);

/// The last word on every answer: the identity server treats any content type but JSON as an error, so an answer
/// the framework made on its own (an extractor's rejection, say) becomes a JSON ERROR with its audit line.
async fn only_json(response: Response) -> Response {
    if response.headers().get(header::CONTENT_TYPE) == Some(&JSON) {
        return response;
    }
    let status = response.status();
    let answer = if status.is_server_error() {
        policy::INTERNAL_ERROR
    } else {
        REQUEST_UNREADABLE
    };
    let mut audit = Audit::new(CallInfo::default().fallback_request_id());
    audit.detail = Some(format!(
        "a non-JSON answer with status {} replaced",
        status.as_u16()
    ));
    audit.emit(&answer, Instant::now());
    into_response(&answer)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    async fn bytes_of(response: Response) -> Vec<u8> {
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec()
    }

    #[tokio::test]
    async fn an_answer_the_framework_makes_in_plain_text_becomes_a_json_error() {
        let cases = [
            (StatusCode::BAD_REQUEST, REQUEST_UNREADABLE),
            (StatusCode::UNPROCESSABLE_ENTITY, REQUEST_UNREADABLE),
            (StatusCode::INTERNAL_SERVER_ERROR, policy::INTERNAL_ERROR),
        ];
        for (status, expected) in cases {
            let plain = (status, "Invalid URL: something the caller sent").into_response();
            let answer = only_json(plain).await;
            assert_eq!(answer.status().as_u16(), expected.http_status());
            assert_eq!(answer.headers().get(header::CONTENT_TYPE), Some(&JSON));
            assert_eq!(bytes_of(answer).await, expected.to_json());
        }
        let ours = only_json(into_response(&policy::NOT_JSON)).await;
        assert_eq!(ours.status(), StatusCode::BAD_REQUEST);
        assert_eq!(bytes_of(ours).await, policy::NOT_JSON.to_json());
    }
}
