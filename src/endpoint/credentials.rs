//! The caller's credentials, checked as a layer in front of the action: a refused call gets nothing else done,
//! its body is never read.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::refusal::{Refusal, Refused};

pub(super) async fn require_credentials(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    match state.auth.check(request.headers()).await {
        Ok(()) => next.run(request).await,
        Err(failure) => Refusal::of(Refused::Credentials(failure), &request).into_response(),
    }
}
