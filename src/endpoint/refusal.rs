//! Every refusal the edge makes, and the one place it becomes an answer: the JSON the identity server accepts and
//! the audit line. Credentials, content type, body, routing (404, 405), an answer the framework made on its own
//! and a panic all end here.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::action::{ActionResponse, Description, ErrorStatus, Reason};
use crate::audit::{Audit, CallInfo};
use crate::auth::AuthFailure;
use crate::policy;

use super::context::{arrival, call_info};
use super::{JSON, into_response};

/// Why the edge refused a call before (or instead of) the request pipeline deciding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    Credentials(AuthFailure),
    ContentType,
    /// Declared or found over the limit (bytes).
    BodyTooLarge {
        limit: usize,
    },
    /// The body broke off (the client went away, say).
    BodyUnreadable {
        limit: usize,
    },
    /// The body did not arrive in full within the call's deadline.
    BodyLate {
        deadline: Duration,
    },
    NotFound,
    MethodNotAllowed,
    /// The framework answered on its own, not in JSON, with this status.
    NotJson(StatusCode),
    Panic,
}

/// A refused call: why, and what the edge knows of it for the audit line.
#[derive(Debug)]
pub(super) struct Refusal {
    why: Refused,
    call: CallInfo,
    arrived: Instant,
}

impl Refusal {
    pub(super) fn new(why: Refused, call: CallInfo, arrived: Instant) -> Self {
        Refusal { why, call, arrived }
    }

    /// A refusal of `request`, before anything of it is read.
    pub(super) fn of(why: Refused, request: &Request) -> Self {
        Self::new(
            why,
            call_info(request.extensions()),
            arrival(request.extensions()),
        )
    }

    /// A refusal where nothing is known of the call any more (only its answer, or its panic, is at hand).
    fn detached(why: Refused) -> Self {
        Self::new(why, CallInfo::default(), Instant::now())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body_limit = |limit: usize| format!("body limit {limit} bytes");
        match self.why {
            Refused::Credentials(failure) => {
                let problem = failure.token_problem().map(|p| p.as_str());
                self.answer_with(policy::UNAUTHORIZED, failure.as_str(), problem)
            }
            Refused::ContentType => {
                self.answer(policy::UNSUPPORTED_CONTENT_TYPE, "content type is not JSON")
            }
            Refused::BodyTooLarge { limit } => {
                closing(self.answer(policy::BODY_TOO_LARGE, &body_limit(limit)))
            }
            Refused::BodyUnreadable { limit } => {
                closing(self.answer(policy::BODY_UNREADABLE, &body_limit(limit)))
            }
            Refused::BodyLate { deadline } => closing(self.answer(
                policy::BODY_UNREADABLE,
                &format!(
                    "body not received within the deadline of {} ms",
                    deadline.as_millis()
                ),
            )),
            Refused::NotJson(status) => self.answer(
                if status.is_server_error() {
                    policy::INTERNAL_ERROR
                } else {
                    REQUEST_UNREADABLE
                },
                &format!("a non-JSON answer with status {} replaced", status.as_u16()),
            ),
            Refused::NotFound => self.routing(Route::NOT_FOUND),
            Refused::MethodNotAllowed => {
                let mut response = self.routing(Route::METHOD_NOT_ALLOWED);
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("POST"));
                response
            }
            Refused::Panic => {
                tracing::error!(target: "profile_guard::audit", decision = "ERROR", reason = "server_error", "a request panicked");
                into_response(&policy::INTERNAL_ERROR)
            }
        }
    }
}

impl Refusal {
    /// One of the contract's answers, with the audit line every decision has.
    fn answer(&self, answer: ActionResponse, detail: &str) -> Response {
        self.answer_with(answer, detail, None)
    }

    /// As `answer`, with why a bearer token was refused.
    fn answer_with(
        &self,
        answer: ActionResponse,
        detail: &str,
        token_problem: Option<&'static str>,
    ) -> Response {
        let mut audit = Audit::new(self.call.fallback_request_id());
        audit.detail = Some(detail.to_owned());
        audit.token_problem = token_problem;
        audit.emit(&answer, self.arrived);
        into_response(&answer)
    }

    /// No action endpoint for this path or method. The audit line never has the path, query or method: they are
    /// the caller's input.
    fn routing(&self, route: Route) -> Response {
        tracing::info!(
            target: "profile_guard::audit",
            request_id = %self.call.fallback_request_id(),
            decision = "ERROR",
            reason = route.message,
            http_status = route.status.as_u16(),
            detail = route.detail,
            "decision"
        );
        let body = serde_json::json!({
            "actionStatus": "ERROR",
            "errorMessage": route.message,
            "errorDescription": route.description,
        });
        (
            route.status,
            [(header::CONTENT_TYPE, JSON.clone())],
            body.to_string(),
        )
            .into_response()
    }
}

/// What is left of the body is never read: the connection cannot carry another request.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A routing refusal: there is no action endpoint to answer it, so its answer is not one of the action's.
struct Route {
    status: StatusCode,
    message: &'static str,
    description: &'static str,
    detail: &'static str,
}

impl Route {
    const NOT_FOUND: Route = Route {
        status: StatusCode::NOT_FOUND,
        message: "not_found",
        description: "No action endpoint here. Send POST requests to the pre-update-profile path.",
        detail: "no action endpoint at this path",
    };
    const METHOD_NOT_ALLOWED: Route = Route {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: "method_not_allowed",
        description: "The action endpoint accepts POST only.",
        detail: "the method is not POST",
    };
}

/// The answer to anything the framework would otherwise refuse in plain text on its own.
const REQUEST_UNREADABLE: ActionResponse = ActionResponse::error(
    ErrorStatus::BadRequest,
    Reason::from_static("invalid_request"),
    Description::from_static("The request could not be read."),
);

/// The router's fallback: no route for this path.
pub(super) async fn not_found(request: Request) -> Refusal {
    Refusal::of(Refused::NotFound, &request)
}

/// The fallback of every route: the path is known, the method is not POST.
pub(super) async fn method_not_allowed(request: Request) -> Refusal {
    Refusal::of(Refused::MethodNotAllowed, &request)
}

pub(super) fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    Refusal::detached(Refused::Panic).into_response()
}

/// The last word on every answer: the identity server treats any content type but JSON as an error, so an answer
/// the framework made on its own (an extractor's rejection, say) becomes a JSON ERROR with its audit line.
pub(super) async fn only_json(response: Response) -> Response {
    // A 204 has no body at all (an event hook's answer); a WebSub challenge is plain text by its protocol, the
    // report page HTML.
    if response.headers().get(header::CONTENT_TYPE) == Some(&JSON)
        || response.status() == StatusCode::NO_CONTENT
        || response
            .extensions()
            .get::<super::PlainTextOnPurpose>()
            .is_some()
    {
        return response;
    }
    Refusal::detached(Refused::NotJson(response.status())).into_response()
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

    #[tokio::test]
    async fn every_refusal_answers_in_json_and_closes_only_an_unread_body() {
        let limit = 2048;
        let deadline = Duration::from_millis(800);
        let answers = [
            (
                Refused::Credentials(AuthFailure::Wrong),
                policy::UNAUTHORIZED,
                false,
            ),
            (
                Refused::ContentType,
                policy::UNSUPPORTED_CONTENT_TYPE,
                false,
            ),
            (
                Refused::BodyTooLarge { limit },
                policy::BODY_TOO_LARGE,
                true,
            ),
            (
                Refused::BodyUnreadable { limit },
                policy::BODY_UNREADABLE,
                true,
            ),
            (
                Refused::BodyLate { deadline },
                policy::BODY_UNREADABLE,
                true,
            ),
            (
                Refused::NotJson(StatusCode::BAD_GATEWAY),
                policy::INTERNAL_ERROR,
                false,
            ),
            (Refused::Panic, policy::INTERNAL_ERROR, false),
        ];
        for (why, expected, closes) in answers {
            let response = Refusal::detached(why).into_response();
            assert_eq!(
                response.status().as_u16(),
                expected.http_status(),
                "{why:?}"
            );
            assert_eq!(response.headers().get(header::CONTENT_TYPE), Some(&JSON));
            let close = response.headers().get(header::CONNECTION);
            assert_eq!(close.is_some_and(|v| v == "close"), closes, "{why:?}");
            assert_eq!(response.headers().get(header::ALLOW), None, "{why:?}");
            assert_eq!(bytes_of(response).await, expected.to_json(), "{why:?}");
        }
        let routing = [
            (Refused::NotFound, StatusCode::NOT_FOUND, None),
            (
                Refused::MethodNotAllowed,
                StatusCode::METHOD_NOT_ALLOWED,
                Some("POST"),
            ),
        ];
        for (why, status, allow) in routing {
            let response = Refusal::detached(why).into_response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers().get(header::CONTENT_TYPE), Some(&JSON));
            assert_eq!(response.headers().get(header::CONNECTION), None);
            let allowed = response.headers().get(header::ALLOW);
            assert_eq!(allowed.and_then(|v| v.to_str().ok()), allow);
            let body: serde_json::Value =
                serde_json::from_slice(&bytes_of(response).await).unwrap();
            assert_eq!(body["actionStatus"], "ERROR");
        }
    }
}
