//! The person's notice as a Slack direct message, through the Slack Web API with a bot token (scopes
//! `users:read.email`, `im:write`, `chat:write`): find the person by e-mail address, open the DM, post the text.
//! The token is a secret: it travels only in a sensitive `Authorization` header and is never logged.
//!
//! Slack answers most errors as HTTP 200 with `{"ok":false,"error":"…"}` and rate limits as HTTP 429 with
//! `Retry-After`; both become a [`DeliveryError`]. A 429 is not retried: waiting could outlast the call's
//! deadline, and the notice never changes the answer.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::slack::transport_error;
use super::{DirectMessenger, DmDelivery};
use crate::claims::EmailAddress;
use crate::notify::settings::SlackApiUrl;
use crate::upstream::{self, DeliveryError, DeliveryErrorKind as Kind};

/// The most of an answer read: Slack's answers to these methods are a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The time a `chat.postMessage` is given at least before it is started.
const POST_BUDGET: Duration = Duration::from_millis(500);

pub struct SlackDm {
    client: reqwest::Client,
    api: SlackApiUrl,
    token: SecretString,
    timeout: Duration,
}

impl SlackDm {
    pub fn new(
        api: SlackApiUrl,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        Ok(SlackDm {
            client: upstream::client(timeout)?,
            api,
            token,
            timeout,
        })
    }

    /// One Web API call: the answer's JSON when Slack says `ok`, else why not.
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, SlackError> {
        let request = request.bearer_auth(self.token.expose_secret());
        let response = upstream::send(request, self.timeout)
            .await
            .map_err(|f| SlackError::Delivery(transport_error(f)))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = upstream::read_capped(response, MAX_ANSWER_BYTES)
            .await
            .map_err(|f| SlackError::Delivery(transport_error(f)))?;
        read_answer(status, retry_after, &body)
    }

    fn post_json(&self, method: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.api.method(method))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .body(body.to_string())
    }
}

#[async_trait]
impl DirectMessenger for SlackDm {
    async fn send_dm(
        &self,
        to: &EmailAddress,
        text: &str,
        until: Instant,
    ) -> Result<DmDelivery, DeliveryError> {
        let mut lookup = self.api.method("users.lookupByEmail");
        lookup.query_pairs_mut().append_pair("email", to.as_str());
        let user = match self.call(self.client.get(lookup)).await {
            Ok(answer) => id_at(&answer, "/user/id")?,
            Err(SlackError::NoSuchUser) => return Ok(DmDelivery::NoSuchUser),
            Err(e) => return Err(e.into()),
        };
        let opened = self
            .call(self.post_json("conversations.open", &json!({"users": user})))
            .await?;
        let channel = id_at(&opened, "/channel/id")?;
        // A post cut short by the deadline may still reach the person, and its retry would post again: it is
        // started only while it has time to finish.
        if Instant::now() + self.timeout.min(POST_BUDGET) > until {
            return Err(DeliveryError::new(
                Kind::Timeout,
                "too little time left to post: the message waits for a retry",
            ));
        }
        let message = json!({"channel": channel, "text": text});
        self.call(self.post_json("chat.postMessage", &message))
            .await?;
        Ok(DmDelivery::Sent)
    }
}

/// Why a Web API call did not do its job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackError {
    NoSuchUser,
    Delivery(DeliveryError),
}

impl From<SlackError> for DeliveryError {
    fn from(e: SlackError) -> Self {
        match e {
            // Only a lookup can meet it; anywhere else it is a refusal like any other.
            SlackError::NoSuchUser => DeliveryError::new(Kind::Rejected, "users_not_found"),
            SlackError::Delivery(e) => e,
        }
    }
}

/// Reads one Web API answer: Slack's errors come as HTTP 200 with `ok: false`, rate limits as 429.
pub fn read_answer(
    status: u16,
    retry_after: Option<u64>,
    body: &[u8],
) -> Result<Value, SlackError> {
    let fail = |kind, detail: String| Err(SlackError::Delivery(DeliveryError::new(kind, detail)));
    if status == 429 {
        let wait = retry_after.map_or(String::new(), |s| format!(" (retry after {s} s)"));
        return fail(Kind::Throttled, format!("ratelimited{wait}"));
    }
    if !(200..=299).contains(&status) {
        let kind = if status >= 500 {
            Kind::Service
        } else {
            Kind::Rejected
        };
        return fail(kind, format!("Slack answered {status}"));
    }
    let answer: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return fail(Kind::Service, "Slack's answer is not JSON".into()),
    };
    if answer["ok"] == Value::Bool(true) {
        return Ok(answer);
    }
    let code = error_code(answer["error"].as_str().unwrap_or("unknown_error"));
    match code.as_str() {
        "users_not_found" | "user_not_found" => Err(SlackError::NoSuchUser),
        _ => fail(error_kind(&code), code),
    }
}

/// What kind of failure a Slack error code is.
fn error_kind(code: &str) -> Kind {
    match code {
        "invalid_auth"
        | "not_authed"
        | "missing_scope"
        | "account_inactive"
        | "token_revoked"
        | "token_expired"
        | "no_permission"
        | "not_allowed_token_type"
        | "ekm_access_denied"
        | "team_access_not_granted" => Kind::Credentials,
        "ratelimited" => Kind::Throttled,
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            Kind::Service
        }
        _ => Kind::Rejected,
    }
}

/// Slack's error code as it may appear in a log line: a short word of `[a-z0-9_.]`, nothing else it sent.
fn error_code(raw: &str) -> String {
    let code: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
        .take(60)
        .collect();
    if code.is_empty() {
        "unknown_error".into()
    } else {
        code.to_ascii_lowercase()
    }
}

/// The id at `pointer` of an `ok` answer (`/user/id`, `/channel/id`).
pub fn id_at(answer: &Value, pointer: &str) -> Result<String, SlackError> {
    match answer.pointer(pointer).and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(SlackError::Delivery(DeliveryError::new(
            Kind::Service,
            format!("Slack's answer has no {}", pointer.trim_start_matches('/')),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::settings::{DEFAULT_API_URL, NotAWebhookUrl};

    fn kind(result: Result<Value, SlackError>) -> Option<(Kind, String)> {
        match result {
            Err(SlackError::Delivery(e)) => Some((e.kind, e.detail)),
            _ => None,
        }
    }

    #[test]
    fn ok_answers_give_their_ids() {
        let user = read_answer(200, None, br#"{"ok":true,"user":{"id":"U123"}}"#).unwrap();
        assert_eq!(id_at(&user, "/user/id").unwrap(), "U123");
        let open = read_answer(200, None, br#"{"ok":true,"channel":{"id":"D123"}}"#).unwrap();
        assert_eq!(id_at(&open, "/channel/id").unwrap(), "D123");
        let empty = read_answer(200, None, br#"{"ok":true}"#).unwrap();
        assert_eq!(
            kind(id_at(&empty, "/channel/id").map(|_| Value::Null)),
            Some((Kind::Service, "Slack's answer has no channel/id".into()))
        );
    }

    #[test]
    fn both_spellings_of_no_such_user_are_a_skip() {
        for code in ["users_not_found", "user_not_found"] {
            let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
            assert_eq!(
                read_answer(200, None, body.as_bytes()),
                Err(SlackError::NoSuchUser)
            );
        }
    }

    #[test]
    fn slack_errors_are_typed_failures() {
        let err = |code: &str| {
            let body = json!({"ok": false, "error": code}).to_string();
            kind(read_answer(200, None, body.as_bytes()))
        };
        for code in [
            "invalid_auth",
            "not_authed",
            "missing_scope",
            "token_revoked",
        ] {
            assert_eq!(err(code), Some((Kind::Credentials, code.into())));
        }
        assert_eq!(
            err("channel_not_found"),
            Some((Kind::Rejected, "channel_not_found".into()))
        );
        assert_eq!(
            err("internal_error"),
            Some((Kind::Service, "internal_error".into()))
        );
        assert_eq!(
            err("<script>\"bad\nline"),
            Some((Kind::Rejected, "scriptbadline".into())),
            "only a code-like word reaches the log"
        );
        assert_eq!(
            kind(read_answer(200, None, br#"{"ok":false}"#)),
            Some((Kind::Rejected, "unknown_error".into()))
        );
    }

    #[test]
    fn statuses_and_rate_limits() {
        let limited = br#"{"ok":false,"error":"ratelimited"}"#;
        assert_eq!(
            kind(read_answer(429, Some(1), limited)),
            Some((Kind::Throttled, "ratelimited (retry after 1 s)".into()))
        );
        assert_eq!(
            kind(read_answer(429, None, b"")),
            Some((Kind::Throttled, "ratelimited".into()))
        );
        assert_eq!(
            kind(read_answer(200, None, limited)),
            Some((Kind::Throttled, "ratelimited".into()))
        );
        assert_eq!(
            kind(read_answer(503, None, b"down")),
            Some((Kind::Service, "Slack answered 503".into()))
        );
        assert_eq!(
            kind(read_answer(404, None, b"")),
            Some((Kind::Rejected, "Slack answered 404".into()))
        );
        assert_eq!(
            kind(read_answer(200, None, b"ok")),
            Some((Kind::Service, "Slack's answer is not JSON".into()))
        );
    }

    #[test]
    fn the_api_url_is_https_or_loopback_and_methods_join_it() {
        let api = SlackApiUrl::parse("http://127.0.0.1:9/api/").unwrap();
        assert_eq!(
            api.method("chat.postMessage").as_str(),
            "http://127.0.0.1:9/api/chat.postMessage"
        );
        assert_eq!(
            SlackApiUrl::parse(DEFAULT_API_URL)
                .unwrap()
                .method("users.lookupByEmail")
                .as_str(),
            "https://slack.com/api/users.lookupByEmail"
        );
        assert_eq!(
            SlackApiUrl::parse("http://slack.com/api"),
            Err(NotAWebhookUrl::NotHttps)
        );
        assert_eq!(SlackApiUrl::parse("slack"), Err(NotAWebhookUrl::NotAUrl));
    }
}
