//! What the platform tells about a call before its body is read: when it arrived and the platform's id for it.

use std::time::Instant;

use axum::extract::Request;
use axum::http::Extensions;

use crate::audit::CallInfo;

/// When the call arrived: its deadline counts from here, the body read included.
#[derive(Debug, Clone, Copy)]
pub(super) struct Arrival(Instant);

/// Stamps the request with its arrival, before anything else is done with it.
pub(super) async fn stamp_arrival(mut request: Request) -> Request {
    request.extensions_mut().insert(Arrival(Instant::now()));
    request
}

/// The arrival stamped on the request (now, for a request that somehow has none).
pub(super) fn arrival(extensions: &Extensions) -> Instant {
    extensions
        .get::<Arrival>()
        .map_or_else(Instant::now, |a| a.0)
}

/// What the platform says about the call: Lambda's id for the invocation, when there is one.
pub(super) fn call_info(extensions: &Extensions) -> CallInfo {
    CallInfo {
        invocation_id: extensions
            .get::<lambda_http::Context>()
            .map(|c| c.request_id.clone()),
    }
}
