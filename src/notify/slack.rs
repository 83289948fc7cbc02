//! The security alert in a Slack channel, through an incoming webhook. The webhook URL is the credential: it is
//! read as a secret and never logged.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::outbox::DeliveryError;
use super::{ChangeReport, initiator_phrase, one_line};

pub struct SlackWebhook {
    client: reqwest::Client,
    url: SecretString,
    timeout: Duration,
}

impl SlackWebhook {
    pub fn new(url: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = crate::upstream_client(timeout)?;
        Ok(SlackWebhook {
            client,
            url,
            timeout,
        })
    }

    pub async fn post(&self, report: &ChangeReport) -> Result<(), DeliveryError> {
        let body = payload(report).to_string();
        let sent = self
            .client
            .post(self.url.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send();
        let response =
            match tokio::time::timeout(self.timeout + Duration::from_millis(50), sent).await {
                Err(_) => return Err(fail("timeout", "Slack did not answer in time")),
                Ok(Err(e)) if e.is_timeout() => {
                    return Err(fail("timeout", "Slack did not answer in time"));
                }
                Ok(Err(e)) if e.is_connect() => {
                    return Err(fail("unreachable", "Slack could not be reached"));
                }
                Ok(Err(_)) => return Err(fail("transport", "the request to Slack failed")),
                Ok(Ok(r)) => r,
            };
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.as_u16() == 429 {
            Err(fail("throttled", "Slack answered 429"))
        } else if status.is_client_error() {
            Err(fail(
                "rejected",
                &format!("Slack answered {}", status.as_u16()),
            ))
        } else {
            Err(fail(
                "service",
                &format!("Slack answered {}", status.as_u16()),
            ))
        }
    }
}

fn fail(kind: &'static str, detail: &str) -> DeliveryError {
    DeliveryError {
        kind,
        detail: detail.to_owned(),
    }
}

/// Slack's own escaping for text: only `&`, `<` and `>` are special (they start links and mentions).
pub fn escape_slack(s: &str) -> String {
    one_line(s, 300)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message: a plain `text` (used in notifications) and blocks with the facts.
pub fn payload(report: &ChangeReport) -> Value {
    let names: Vec<String> = report
        .attributes
        .iter()
        .map(|a| escape_slack(&a.name))
        .collect();
    let text = format!(
        "Sensitive profile change ({}) for user {} in {}, by {}",
        names.join(", "),
        escape_slack(&report.user_id),
        escape_slack(&report.tenant),
        initiator_phrase(report.initiator.as_ref())
    );
    let changes: Vec<String> = report
        .attributes
        .iter()
        .map(|a| {
            format!(
                "• *{}*: {} → {}",
                escape_slack(&a.name),
                escape_slack(a.old.as_deref().unwrap_or("(not sent)")),
                escape_slack(&a.new)
            )
        })
        .collect();
    let facts = format!(
        "*User id:* {}\n*Tenant:* {}\n*User store:* {}\n*Changed by:* {}\n*Request id:* {}\n*Time (UTC):* {}",
        escape_slack(&report.user_id),
        escape_slack(&report.tenant),
        escape_slack(&report.user_store),
        initiator_phrase(report.initiator.as_ref()),
        escape_slack(&report.request_id),
        humantime::format_rfc3339_seconds(report.at)
    );
    json!({
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Sensitive profile change"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": facts}},
            {"type": "section", "text": {"type": "mrkdwn", "text": changes.join("\n")}},
        ]
    })
}
