//! The HTTP edge: the router, in layers. Every request is stamped with its arrival; an action route checks the
//! stage (staged path only), then the credentials, then reads the call (content type, body limit, deadline)
//! before the request pipeline decides it. Every refusal on the way, and anything the framework or a panic would
//! answer on its own, becomes a JSON answer with its audit line in one place (`refusal`).

mod call;
mod context;
mod credentials;
mod hooks;
mod refusal;
mod report;
mod server;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use lambda_http::request::RequestContext;
use tower_http::catch_panic::CatchPanicLayer;

use crate::action::ActionResponse;
use crate::auth::CallerAuth;
use crate::pipeline::Pipeline;
use crate::report::Reports;

use call::ActionCall;
use refusal::{Refusal, Refused};

pub use hooks::{HOOK_MAX_BODY_BYTES, OKTA_PATH, OktaRoute, WSO2_PATH, Wso2Route};
pub use report::REPORT_PATH;
pub use server::{ServeLimits, serve, shutdown_signal};

/// The paths the action answers on.
pub const ACTION_PATHS: [&str; 2] = ["/pre-update-profile", "/"];

/// The path of the action behind a REST API (payload 1.0) stage.
const STAGED_PATH: &str = "/{stage}/pre-update-profile";

/// Shared state of the router.
pub struct AppState {
    pub pipeline: Pipeline,
    pub auth: CallerAuth,
    pub max_body_bytes: usize,
    /// `/hooks/okta`, when `OKTA_HOOK_AUTH` is set.
    pub okta: Option<OktaRoute>,
    /// `/hooks/wso2`, when `WSO2_WEBHOOK_SECRET` is set.
    pub wso2: Option<Wso2Route>,
    /// `/report`, when `REPORT_URL_BASE` and `REPORT_LINK_SECRET` are set.
    pub report: Option<Reports>,
}

/// The service's router, independent of how it is served (local socket or Lambda).
pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for path in ACTION_PATHS {
        router = router.route(path, action_route(&state));
    }
    router
        .route(OKTA_PATH, hooks::okta_route())
        .route(WSO2_PATH, hooks::wso2_route())
        .route(REPORT_PATH, report::report_route())
        .route(
            STAGED_PATH,
            action_route(&state).route_layer(middleware::from_fn(only_through_stage)),
        )
        .fallback(refusal::not_found)
        .method_not_allowed_fallback(refusal::method_not_allowed)
        .layer(middleware::map_request(context::stamp_arrival))
        .layer(CatchPanicLayer::custom(refusal::on_panic))
        .layer(middleware::map_response(refusal::only_json))
        .with_state(state)
}

/// POST to the action, behind the credentials check. A route layer, so a wrong method is refused (405) without
/// asking for credentials.
fn action_route(state: &Arc<AppState>) -> MethodRouter<Arc<AppState>> {
    post(action).route_layer(middleware::from_fn_with_state(
        Arc::clone(state),
        credentials::require_credentials,
    ))
}

static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Marks a response that is not JSON on purpose (a WebSub challenge, the report page), so the JSON guard lets it
/// through.
#[derive(Debug, Clone, Copy)]
struct PlainTextOnPurpose;

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

/// The action itself: by the time it runs, the caller is authenticated and the body is read.
async fn action(State(state): State<Arc<AppState>>, call: ActionCall) -> Response {
    into_response(
        &state
            .pipeline
            .handle_since(&call.body, &call.info, call.arrived)
            .await,
    )
}

/// A REST API (payload 1.0) puts the stage in the path (`/prod/pre-update-profile`). Accepted only when the
/// request really came through that API Gateway stage, so no other prefix opens a second endpoint. A stage that
/// does not decode (invalid UTF-8) is no stage at all: the same 404, never the extractor's plain-text refusal.
async fn only_through_stage(
    stage: Result<Path<String>, PathRejection>,
    request: Request,
    next: Next,
) -> Response {
    let through_stage = stage.is_ok_and(|Path(stage)| {
        matches!(
            request.extensions().get::<RequestContext>(),
            Some(RequestContext::ApiGatewayV1(ctx)) if ctx.stage.as_deref() == Some(stage.as_str())
        )
    });
    if through_stage {
        next.run(request).await
    } else {
        Refusal::of(Refused::NotFound, &request).into_response()
    }
}
