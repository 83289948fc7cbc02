//! Probes of the HTTP services profile-guard calls: the directory, the Slack Web API, Okta's API. Each asks one
//! read-only question; none posts a message.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{Finding, Status};
use crate::directory::{Directory, DirectoryError};
use crate::notify::settings::SlackApiUrl;
use crate::okta_users::OrgUrl;
use crate::policy::Membership;
use crate::upstream::{self, TransportFailure};

/// The scopes direct messages need (users.lookupByEmail, conversations.open, chat.postMessage).
const SLACK_DM_SCOPES: [&str; 3] = ["users:read.email", "im:write", "chat:write"];

/// The most of an answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A known department must be known, and a made-up one unknown: a directory that says yes to everything
/// guards nothing.
pub async fn directory(directory: &dyn Directory, known: &str) -> Finding {
    let tried = format!("lookup of {known:?} and of a made-up department");
    let made_up = format!("profile-guard-check-{}", uuid::Uuid::new_v4().simple());
    let (first, second) = tokio::join!(directory.lookup(known), directory.lookup(&made_up));
    let finding = |status, detail: String| Finding::new("directory", status, &tried, detail);
    match (first, second) {
        (Ok(Membership::Known), Ok(Membership::Unknown)) => finding(
            Status::Ok,
            format!("{known:?} is known, the made-up one is not ({})", directory.describe()),
        ),
        (Ok(Membership::Unknown), _) => finding(
            Status::Fail,
            format!("{known:?} is unknown: every change to it would be refused; set CHECK_DEPARTMENT to a real one, or fix the directory"),
        ),
        (Ok(Membership::Known), Ok(Membership::Known)) => finding(
            Status::Fail,
            "a made-up department is known too: the directory accepts anything, so it guards nothing (check DEPARTMENT_API_URL answers 404 for unknown departments)".to_owned(),
        ),
        (Err(e), _) | (_, Err(e)) => finding(Status::Fail, directory_advice(&e)),
    }
}

fn directory_advice(e: &DirectoryError) -> String {
    let advice = match e {
        DirectoryError::UnexpectedStatus(401 | 403) => {
            "the directory refused the credentials: check DEPARTMENT_API_TOKEN"
        }
        DirectoryError::Timeout(_) => {
            "no answer in time: check DEPARTMENT_API_URL and DEPARTMENT_API_TIMEOUT_MS"
        }
        DirectoryError::Unreachable => {
            "nothing answers at DEPARTMENT_API_URL: check the host and port"
        }
        DirectoryError::Tls => "the TLS connection failed: check the certificate",
        _ => {
            "the directory's answer was neither a yes nor a no (200 or 404): check DEPARTMENT_API_URL"
        }
    };
    format!("{e} ({advice})")
}

/// A webhook URL is the credential of its channel; posting to it would alert people, so only its shape is
/// checked (start-up has already parsed it).
pub fn webhook_shape(dependency: &str, var: &str, parsed: bool) -> Finding {
    match parsed {
        true => Finding::new(
            dependency,
            Status::Ok,
            format!("the shape of {var}"),
            "an https URL; not posted to (a post would alert people)",
        ),
        false => Finding::new(
            dependency,
            Status::Fail,
            format!("the shape of {var}"),
            "not set or unreadable although the channel is on",
        ),
    }
}

/// `auth.test` with the bot token: the token works, and its scopes cover direct messages.
pub async fn slack_bot_token(
    api: &SlackApiUrl,
    token: &SecretString,
    timeout: Duration,
) -> Finding {
    let tried = "auth.test with SLACK_BOT_TOKEN";
    let finding = |status, detail: String| Finding::new("slack bot token", status, tried, detail);
    let answer = match get(api.method("auth.test"), Auth::Bearer(token), timeout).await {
        Ok(answer) => answer,
        Err(detail) => return finding(Status::Fail, detail),
    };
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    if body["ok"] != Value::Bool(true) {
        let error = body["error"].as_str().unwrap_or("no ok in the answer");
        return finding(
            Status::Fail,
            format!("Slack answered {error}: check the bot token (xoxb-…)"),
        );
    }
    let team = body["team"].as_str().unwrap_or("the workspace");
    let Some(scopes) = answer.scopes else {
        return finding(
            Status::Warn,
            format!("the token works in {team}, but Slack did not list its scopes"),
        );
    };
    let missing: Vec<&str> = SLACK_DM_SCOPES
        .into_iter()
        .filter(|s| !scopes.split(',').any(|have| have.trim() == *s))
        .collect();
    match missing.is_empty() {
        true => finding(
            Status::Ok,
            format!("the token works in {team} with the scopes direct messages need"),
        ),
        false => finding(
            Status::Fail,
            format!(
                "the token lacks {}: add them under OAuth & Permissions and reinstall the app",
                missing.join(", ")
            ),
        ),
    }
}

/// `GET /api/v1/users/me` with the API token: the token is valid (reading users also needs `okta.users.read`).
pub async fn okta_token(org: &OrgUrl, token: &SecretString, timeout: Duration) -> Finding {
    let tried = format!(
        "GET https://{}/api/v1/users/me with OKTA_API_TOKEN",
        org.host()
    );
    let finding = |status, detail: &str| Finding::new("okta api token", status, &tried, detail);
    let url = org.join("/api/v1/users/me");
    match get(url, Auth::Ssws(token), timeout).await {
        Ok(answer) if (200..300).contains(&answer.status) => finding(
            Status::Ok,
            "the token is valid (user e-mail lookups need it to read users)",
        ),
        Ok(answer) if answer.status == 401 => finding(
            Status::Fail,
            "Okta refused the token (401): create a new API token and store it in OKTA_API_TOKEN",
        ),
        Ok(answer) if answer.status == 403 => finding(
            Status::Fail,
            "the token may not read users (403): give its admin a role that can",
        ),
        Ok(answer) if answer.status == 429 => finding(
            Status::Warn,
            "rate-limited (429): the token works, but the org is near its limit",
        ),
        Ok(_) => finding(
            Status::Fail,
            "Okta answered with an error: check OKTA_ORG_URL",
        ),
        Err(detail) => finding(Status::Fail, &detail),
    }
}

/// The identity server's signing keys can be read and hold at least one key profile-guard accepts.
pub async fn jwks(url: &reqwest::Url, timeout: Duration) -> Finding {
    let tried = format!("GET {} (AUTH_JWKS_URL)", without_query(url));
    let finding = |status, detail: String| Finding::new("jwks", status, &tried, detail);
    let answer = match get(url.clone(), Auth::None, timeout).await {
        Ok(answer) if answer.status == 200 => answer,
        Ok(answer) => {
            return finding(
                Status::Fail,
                format!("answered {}: check AUTH_JWKS_URL", answer.status),
            );
        }
        Err(detail) => return finding(Status::Fail, detail),
    };
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    let usable = (body["keys"].as_array().into_iter().flatten())
        .filter(|k| {
            matches!(k["kty"].as_str(), Some("RSA" | "EC")) && k["use"].as_str() != Some("enc")
        })
        .count();
    match usable {
        0 => finding(
            Status::Fail,
            "no RSA or EC signing key in the answer: is it the JWKS endpoint?".into(),
        ),
        n => finding(Status::Ok, format!("{n} signing key(s)")),
    }
}

/// The SCIM2 token can read users. The lock itself (a PATCH) is not tried: it would change an account.
pub async fn scim(users: Option<String>, token: &SecretString, timeout: Duration) -> Finding {
    let Some(users) = users.and_then(|u| reqwest::Url::parse(&u).ok()) else {
        return Finding::new(
            "wso2 scim",
            Status::Warn,
            "WSO2_SCIM_URL",
            "holds {tenant}: it can only be tried with a reported change's tenant",
        );
    };
    let tried = format!("GET {} with WSO2_SCIM_TOKEN", without_query(&users));
    let finding = |status, detail: &str| Finding::new("wso2 scim", status, &tried, detail);
    match get(users, Auth::Bearer(token), timeout).await {
        Ok(a) if a.status == 200 => finding(
            Status::Ok,
            "the token can read users (the lock's PATCH is not tried: it would change an account)",
        ),
        Ok(a) if a.status == 401 => finding(
            Status::Fail,
            "the server refused the token (401): store a valid one in WSO2_SCIM_TOKEN",
        ),
        Ok(a) if a.status == 403 => finding(
            Status::Warn,
            "the token may not read users (403); locking needs internal_user_mgt_update",
        ),
        Ok(_) => finding(
            Status::Fail,
            "the server answered with an error: check WSO2_SCIM_URL",
        ),
        Err(detail) => finding(Status::Fail, &detail),
    }
}

fn without_query(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

enum Auth<'a> {
    None,
    Bearer(&'a SecretString),
    Ssws(&'a SecretString),
}

struct Answer {
    status: u16,
    body: Vec<u8>,
    /// Slack's `x-oauth-scopes`.
    scopes: Option<String>,
}

async fn get(url: reqwest::Url, auth: Auth<'_>, timeout: Duration) -> Result<Answer, String> {
    let client = upstream::client(timeout).map_err(|e| format!("no HTTP client: {e}"))?;
    let request = match auth {
        Auth::None => client.get(url),
        Auth::Bearer(token) => client.get(url).bearer_auth(token.expose_secret()),
        Auth::Ssws(token) => {
            let value = format!("SSWS {}", token.expose_secret());
            client
                .get(url)
                .header(reqwest::header::AUTHORIZATION, value)
        }
    };
    let response = upstream::send(request, timeout).await.map_err(transport)?;
    let status = response.status().as_u16();
    let scopes = (response.headers().get("x-oauth-scopes"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = upstream::read_capped(response, MAX_ANSWER_BYTES)
        .await
        .map_err(transport)?;
    Ok(Answer {
        status,
        body,
        scopes,
    })
}

fn transport(failure: TransportFailure) -> String {
    match failure {
        TransportFailure::Timeout => "no answer in time".into(),
        TransportFailure::Unreachable => {
            "could not connect: check the URL and the network path".into()
        }
        TransportFailure::Tls => {
            "the TLS connection failed: check the certificate and the URL".into()
        }
        TransportFailure::Broken => "the exchange broke off".into(),
    }
}
