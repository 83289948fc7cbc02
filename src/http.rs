//! The endpoint: routes, body limits, JSON in, action answer out. Every answer is `application/json`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use lambda_http::request::RequestContext;

use crate::action::ActionResponse;
use crate::auth::Authenticator;
use crate::guard::{Audit, CallInfo, Guard};
use crate::policy;

/// The paths the action answers on.
pub const ACTION_PATHS: [&str; 2] = ["/pre-update-profile", "/"];

/// Shared state of the router.
pub struct AppState {
    pub guard: Guard,
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
    let call = CallInfo {
        invocation_id: request
            .extensions()
            .get::<lambda_http::Context>()
            .map(|c| c.request_id.clone()),
    };
    // Authentication first: an unauthenticated call gets nothing else done.
    if let Err(failure) = state.auth.check(request.headers()) {
        let mut audit = Audit::new(call.fallback_request_id());
        audit.detail = Some(failure.as_str().to_owned());
        audit.emit(&policy::UNAUTHORIZED, started);
        return into_response(&policy::UNAUTHORIZED);
    }
    if !is_json(request.headers().get(header::CONTENT_TYPE)) {
        let mut audit = Audit::new(call.fallback_request_id());
        audit.detail = Some("content type is not JSON".into());
        audit.emit(&policy::UNSUPPORTED_CONTENT_TYPE, started);
        return into_response(&policy::UNSUPPORTED_CONTENT_TYPE);
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let body = if declared.is_some_and(|n| n > state.max_body_bytes) {
        Err(policy::BODY_TOO_LARGE)
    } else {
        axum::body::to_bytes(request.into_body(), state.max_body_bytes)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    policy::BODY_TOO_LARGE
                } else {
                    policy::BODY_UNREADABLE
                }
            })
    };
    let answer = match body {
        Ok(body) => state.guard.handle(&body, &call).await,
        Err(answer) => {
            let mut audit = Audit::new(call.fallback_request_id());
            audit.detail = Some(format!("body limit {} bytes", state.max_body_bytes));
            audit.emit(&answer, started);
            answer
        }
    };
    into_response(&answer)
}

/// A REST API (payload 1.0) puts the stage in the path (`/prod/pre-update-profile`). Accepted only when the
/// request really came through that API Gateway stage, so no other prefix opens a second endpoint.
async fn staged_action(
    state: State<Arc<AppState>>,
    Path(stage): Path<String>,
    request: Request,
) -> Response {
    let through_stage = matches!(
        request.extensions().get::<RequestContext>(),
        Some(RequestContext::ApiGatewayV1(ctx)) if ctx.stage.as_deref() == Some(stage.as_str())
    );
    if through_stage {
        action(state, request).await
    } else {
        not_found().await
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

async fn not_found() -> Response {
    routing_error(
        StatusCode::NOT_FOUND,
        "not_found",
        "No action endpoint here. Send POST requests to the pre-update-profile path.",
    )
}

async fn method_not_allowed() -> Response {
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
