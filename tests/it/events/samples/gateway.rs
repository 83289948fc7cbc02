//! API Gateway events: how Lambda receives a call through an HTTP API (payload 2.0) or a REST API (payload 1.0).

use base64::Engine;

use crate::events::json::{Json, object};

const DOMAIN: &str = "abc123.execute-api.eu-west-1.amazonaws.com";
const ACTION_PATH: &str = "/pre-update-profile";
const WSO2_AGENT: &str = "Apache-HttpClient/4.5.14 (Java/21.0.5)";
/// 2026-11-24T03:00:00Z, when every sample was sent.
pub(super) const SENT_MS: u64 = 1_795_489_200_000;

/// The headers of an action call, as WSO2 sends them through API Gateway.
fn action_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("host", DOMAIN),
        ("user-agent", WSO2_AGENT),
        ("x-wso2-api-version", "v1"),
        ("x-forwarded-for", "203.0.113.10"),
        ("x-forwarded-proto", "https"),
    ]
}

pub(super) fn action_http_event(name: &str, body: &str) -> Json {
    let headers = action_headers()
        .into_iter()
        .map(|(k, v)| (k, Json::from(v)));
    http_event(
        name,
        "POST",
        ACTION_PATH,
        "",
        Json::object(headers),
        WSO2_AGENT,
        Some(body),
    )
}

/// An HTTP API (payload 2.0) event; the body, when there is one, as given.
fn http_event(
    name: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: Json,
    agent: &str,
    body: Option<&str>,
) -> Json {
    let route = format!("{method} {path}");
    let mut event = object! {
        "version": "2.0",
        "routeKey": &route,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": object! {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": DOMAIN,
            "domainPrefix": "abc123",
            "http": object! {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": agent,
            },
            "requestId": format!("evt-{name}"),
            "routeKey": &route,
            "stage": "$default",
            "time": "24/Nov/2026:03:00:00 +0000",
            "timeEpoch": SENT_MS,
        },
    };
    if let Some(body) = body {
        event.set("body", body);
    }
    event.set("isBase64Encoded", false);
    if !query.is_empty() {
        let parameters = query.split('&').filter_map(|p| p.split_once('='));
        event.set(
            "queryStringParameters",
            Json::object(parameters.map(|(k, v)| (k, Json::from(v)))),
        );
    }
    event
}

/// A REST API (payload 1.0) event of an action call: the stage is part of the path the function sees, and the body
/// comes base64-encoded.
pub(super) fn rest_event(name: &str, body: &str) -> Json {
    let headers = action_headers();
    let path = format!("/prod{ACTION_PATH}");
    object! {
        "resource": ACTION_PATH,
        "path": &path,
        "httpMethod": "POST",
        "headers": Json::object(headers.iter().map(|(k, v)| (title_case(k), Json::from(*v)))),
        "multiValueHeaders": Json::object(
            headers.iter().map(|(k, v)| (title_case(k), Json::from(vec![Json::from(*v)]))),
        ),
        "queryStringParameters": Json::NULL,
        "multiValueQueryStringParameters": Json::NULL,
        "pathParameters": Json::NULL,
        "stageVariables": Json::NULL,
        "requestContext": object! {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": DOMAIN,
            "httpMethod": "POST",
            "identity": object! {"sourceIp": "203.0.113.10", "userAgent": WSO2_AGENT},
            "path": &path,
            "protocol": "HTTP/1.1",
            "requestId": format!("evt-{name}-rest"),
            "requestTimeEpoch": SENT_MS,
            "resourceId": "a1b2c3",
            "resourcePath": ACTION_PATH,
            "stage": "prod",
        },
        "body": base64::engine::general_purpose::STANDARD.encode(body),
        "isBase64Encoded": true,
    }
}

/// `content-type` → `Content-Type`: how the REST API samples spell header names.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A call to a hook route: the usual proxy headers, a content type when there is a body, then `extra`.
pub(super) fn hook_event(
    name: &str,
    path: &str,
    method: &str,
    query: &str,
    agent: &str,
    extra: &[(&str, String)],
    body: Option<&str>,
) -> Json {
    let mut headers = object! {
        "accept": "application/json",
        "host": DOMAIN,
        "user-agent": agent,
        "x-forwarded-for": "203.0.113.20",
        "x-forwarded-proto": "https",
    };
    if body.is_some() {
        headers.set("content-type", "application/json");
    }
    for (k, v) in extra {
        headers.set(k, v);
    }
    http_event(name, method, path, query, headers, agent, body)
}
