//! `/report`: the page a notice's "This wasn't me" link opens (`GET`, which only shows) and its button (`POST`, a
//! form carrying the token, which acts). Answers are HTML pages with headers that keep them out of frames, caches
//! and referrers; a link that cannot be used gets a plain 4xx page. Not configured, the path is a plain JSON 404
//! like any unknown one.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use lambda_http::request::RequestContext;

use crate::report::Reporter;
use crate::report::page::{self, CONTENT_SECURITY_POLICY, Page};

use super::context::arrival;
use super::refusal::{Refusal, Refused};
use super::{AppState, PlainTextOnPurpose};

pub const REPORT_PATH: &str = "/report";

/// A form holds one token: anything much larger is not one of ours.
const MAX_FORM_BYTES: usize = 4096;

pub(super) fn report_route() -> MethodRouter<Arc<AppState>> {
    get(show).post(act)
}

/// The value of `t` in a query or an `application/x-www-form-urlencoded` body (the same encoding).
fn token_in(encoded: &str) -> Option<String> {
    let url = reqwest::Url::parse(&format!("http://report/?{encoded}")).ok()?;
    url.query_pairs()
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

async fn show(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some(reports) = &state.report else {
        return Refusal::of(Refused::NotFound, &request).into_response();
    };
    let token = token_in(request.uri().query().unwrap_or(""));
    let page = reports.view(token.as_deref()).await;
    html(&page, reports.support())
}

async fn act(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some(reports) = &state.report else {
        return Refusal::of(Refused::NotFound, &request).into_response();
    };
    let arrived = arrival(request.extensions());
    let reporter = reporter_of(&request);
    let read = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES);
    let deadline = (arrived + reports.deadline).into();
    // A body that is too large, broken off or late holds no usable token: the same page as a bad link.
    let body = match tokio::time::timeout_at(deadline, read).await {
        Ok(Ok(body)) => body,
        _ => return html(&Page::Invalid, reports.support()),
    };
    let token = std::str::from_utf8(&body).ok().and_then(token_in);
    let page = reports.report(token.as_deref(), reporter, arrived).await;
    html(&page, reports.support())
}

/// Who pressed the button: the address API Gateway saw (or the local socket's peer), and the browser's user agent.
/// A forwarded-for header is not believed: anybody can send one.
fn reporter_of(request: &Request) -> Reporter {
    let extensions = request.extensions();
    let ip = match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string()),
    };
    Reporter {
        ip,
        user_agent: user_agent(request.headers()),
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .filter(|ua| !ua.trim().is_empty())
}

/// A page as an answer: HTML that no site may frame, no cache may keep and no link from it may refer back to.
fn html(page: &Page, support: Option<&str>) -> Response {
    let rendered = page::render(page, support);
    let status = StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::BAD_REQUEST);
    let csp = HeaderValue::from_str(&CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let mut response = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, max-age=0"),
            ),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        rendered.html,
    )
        .into_response();
    response.extensions_mut().insert(PlainTextOnPurpose);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_read_from_a_query_or_a_form() {
        assert_eq!(token_in("t=v1.a-b_c.d").as_deref(), Some("v1.a-b_c.d"));
        assert_eq!(token_in("x=1&t=v1.a%2Eb.c").as_deref(), Some("v1.a.b.c"));
        assert_eq!(token_in("t="), None);
        assert_eq!(token_in(""), None);
        assert_eq!(token_in("T=v1.a.b"), None);
    }
}
