//! The call as the edge receives it: when it arrived, the platform's id for it, and its body, which must be JSON
//! by its content type, within the size limit, and in full before the call's deadline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use bytes::Bytes;

use crate::audit::CallInfo;

use super::AppState;
use super::context::{arrival, call_info};
use super::refusal::{Refusal, Refused};

/// An action call, read: its body is whole, within the limit, and was declared JSON (or not declared at all).
pub(super) struct ActionCall {
    pub info: CallInfo,
    pub arrived: Instant,
    pub body: Bytes,
}

impl FromRequest<Arc<AppState>> for ActionCall {
    type Rejection = Refusal;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, Refusal> {
        let info = call_info(request.extensions());
        let arrived = arrival(request.extensions());
        let (limit, deadline) = (state.max_body_bytes, state.pipeline.deadline);
        match read_body(request, limit, deadline, arrived).await {
            Ok(body) => Ok(ActionCall {
                info,
                arrived,
                body,
            }),
            Err(why) => Err(Refusal::new(why, info, arrived)),
        }
    }
}

/// The whole body, within the size limit and within the call's deadline (which started when the call arrived:
/// a client that stalls its body holds the request no longer than that).
pub(super) async fn read_body(
    request: Request,
    limit: usize,
    deadline: Duration,
    arrived: Instant,
) -> Result<Bytes, Refused> {
    if !is_json(request.headers().get(header::CONTENT_TYPE)) {
        return Err(Refused::ContentType);
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(Refused::BodyTooLarge { limit });
    }
    match tokio::time::timeout_at(
        (arrived + deadline).into(),
        axum::body::to_bytes(request.into_body(), limit),
    )
    .await
    {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) if is_length_limit(&e) => Err(Refused::BodyTooLarge { limit }),
        Ok(Err(_)) => Err(Refused::BodyUnreadable { limit }),
        Err(_) => Err(Refused::BodyLate { deadline }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_by_its_content_type_or_by_having_none() {
        let json = [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;charset=UTF-8",
            "application/scim+json",
        ];
        for text in json {
            assert!(is_json(Some(&HeaderValue::from_static(text))), "{text}");
        }
        assert!(is_json(None), "no content type");
        let other = [
            "text/plain",
            "application/xml",
            "text/json",
            "json",
            "",
            "+json",
        ];
        for text in other {
            assert!(!is_json(Some(&HeaderValue::from_static(text))), "{text}");
        }
        let not_text = HeaderValue::from_bytes(b"application/json\xff").unwrap();
        assert!(!is_json(Some(&not_text)));
    }
}
