//! The security alert in a Slack channel, through an incoming webhook. The webhook URL is the credential: it is
//! read as a secret and never logged.

use std::time::Duration;

use serde_json::{Value, json};

use async_trait::async_trait;

use super::ChatSender;
use crate::notify::messages::chat::{ChatAlert, FACT_CHARS, MAX_LINES};
use crate::notify::messages::name_summary;
use crate::notify::messages::slack_text::escape_slack;
use crate::notify::outcome::Channel;
use crate::notify::settings::WebhookUrl;
use crate::upstream::{self, DeliveryError, TransportFailure};

pub struct SlackWebhook {
    client: reqwest::Client,
    url: WebhookUrl,
    timeout: Duration,
}

impl SlackWebhook {
    pub fn new(url: WebhookUrl, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = upstream::client(timeout)?;
        Ok(SlackWebhook {
            client,
            url,
            timeout,
        })
    }
}

#[async_trait]
impl ChatSender for SlackWebhook {
    fn channel(&self) -> Channel {
        Channel::Slack
    }

    async fn post(&self, alert: &ChatAlert) -> Result<(), DeliveryError> {
        let request = self
            .client
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(payload(alert).to_string());
        let response = upstream::send(request, self.timeout)
            .await
            .map_err(transport_error)?;
        DeliveryError::of_status(response.status().as_u16(), "Slack")
    }
}

/// What a transport failure means for a message to Slack (webhook or Web API).
pub(super) fn transport_error(failure: TransportFailure) -> DeliveryError {
    DeliveryError::transport(failure, "Slack")
}

/// Slack's limits on a message (Block Kit reference): longer section text or more blocks are rejected with
/// `invalid_blocks`.
const MAX_BLOCKS: usize = 50;
const SECTION_CHARS: usize = 3000;
/// Characters of one attribute's name and of one value in a line, after escaping.
const NAME_CHARS: usize = 80;
const VALUE_CHARS: usize = 150;
/// About this many characters of attribute names in `text` (what notifications show).
const TEXT_NAMES_CHARS: usize = 150;
/// The longest attribute line: "• *name*: old → new".
const LINE_CHARS: usize = 3 + NAME_CHARS + 3 + VALUE_CHARS + 3 + VALUE_CHARS;

// Every line fits in a section, and the listed lines (plus the "…and N more" line) fit in the blocks left after
// the header and the facts, however long each is.
const _: () = assert!(LINE_CHARS <= SECTION_CHARS);
const _: () = assert!(2 + (MAX_LINES + 1).div_ceil(SECTION_CHARS / (LINE_CHARS + 1)) <= MAX_BLOCKS);

/// The message: a plain `text` (used in notifications) and blocks with the facts, within Slack's limits.
pub fn payload(alert: &ChatAlert) -> Value {
    let names = name_summary(alert.names.iter().map(String::as_str), TEXT_NAMES_CHARS);
    let text = format!(
        "{} ({}) {}",
        alert.title,
        escape_slack(&names, 2 * TEXT_NAMES_CHARS),
        escape_slack(&alert.about, 3 * FACT_CHARS)
    );
    let facts: Vec<String> = alert
        .facts
        .iter()
        .map(|(label, value)| format!("*{label}:* {}", escape_slack(value, FACT_CHARS)))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": alert.title}}),
        section(facts.join("\n")),
    ];
    blocks.extend(sections(&change_lines(alert)).into_iter().map(section));
    json!({"text": text, "blocks": blocks})
}

/// A section of our own mrkdwn. `verbatim`: Slack keeps the text as sent, so a value never becomes a link, a
/// channel name or a mention (`@channel`); the escaping of `&`, `<`, `>` keeps it from writing one itself.
fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": true}})
}

/// One line per attribute, the first `MAX_LINES` of them, then how many more there are.
fn change_lines(alert: &ChatAlert) -> Vec<String> {
    let mut lines: Vec<String> = alert
        .lines
        .iter()
        .take(MAX_LINES)
        .map(|line| {
            let name = escape_slack(&line.name, NAME_CHARS);
            match &line.change {
                Some((old, new)) => format!(
                    "• *{name}*: {} → {}",
                    escape_slack(old, VALUE_CHARS),
                    escape_slack(new, VALUE_CHARS)
                ),
                None => match &line.note {
                    Some(note) => format!("• *{name}*: {}", escape_slack(note, 2 * VALUE_CHARS)),
                    None => format!("• *{name}*"),
                },
            }
        })
        .collect();
    if alert.lines.len() > MAX_LINES {
        lines.push(format!("…and {} more", alert.lines.len() - MAX_LINES));
    }
    lines
}

/// Packs whole lines into section texts of at most `SECTION_CHARS` characters each.
fn sections(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for line in lines {
        let n = line.chars().count();
        if used > 0 && used + 1 + n > SECTION_CHARS {
            out.push(std::mem::take(&mut current));
            used = 0;
        }
        if used > 0 {
            current.push('\n');
            used += 1;
        }
        current.push_str(line);
        used += n;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::messages::mask::ValueDisplay;
    use crate::notify::messages::{ChangeReport, ChangedAttribute};
    use crate::notify::settings::NotAWebhookUrl;
    use secrecy::SecretString;
    use std::time::UNIX_EPOCH;

    /// A report as large and as full of escaped characters as the limits let through.
    fn huge_report(attributes: usize) -> ChangeReport {
        let worst = "&<>".repeat(2000);
        ChangeReport {
            request_id: "r-1".into(),
            user_id: worst.clone(),
            shared_user_id: Some(worst.clone()),
            tenant: worst.clone(),
            organization: Some(worst.clone()),
            user_store: worst.clone(),
            initiator: None,
            at: UNIX_EPOCH,
            attributes: (0..attributes)
                .map(|i| ChangedAttribute {
                    name: format!("{i}{worst}"),
                    uri: format!("urn:{i}"),
                    old: Some(worst.clone()),
                    new: worst.clone(),
                })
                .collect(),
            values: ValueDisplay::Full,
        }
    }

    fn texts<'a>(payload: &'a Value, kind: &str) -> Vec<&'a str> {
        payload["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == kind)
            .map(|b| b["text"]["text"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn any_report_fits_slacks_limits() {
        for n in [1, 7, 40, 41, 100, 10_000] {
            let payload = payload(&ChatAlert::of_report(&huge_report(n)));
            assert!(payload["blocks"].as_array().unwrap().len() <= 50, "{n}");
            assert!(payload["text"].as_str().unwrap().chars().count() <= 40_000);
            for header in texts(&payload, "header") {
                assert!(header.chars().count() <= 150);
            }
            let sections = texts(&payload, "section");
            for section in &sections {
                assert!(
                    section.chars().count() <= 3000,
                    "{n}: {}",
                    section.chars().count()
                );
            }
            let last = sections.last().unwrap().lines().last().unwrap();
            if n > 40 {
                assert_eq!(last, format!("…and {} more", n - 40));
            } else {
                assert!(last.starts_with("• *"), "{last}");
            }
        }
    }

    #[test]
    fn a_webhook_url_is_https_or_loopback() {
        let parse = |url: &str| WebhookUrl::parse(SecretString::from(url.to_owned())).map(|_| ());
        assert_eq!(parse("https://hooks.slack.com/services/T/B/X"), Ok(()));
        for loopback in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:8/x",
        ] {
            assert_eq!(parse(loopback), Ok(()), "{loopback}");
        }
        assert_eq!(
            parse("http://hooks.slack.com/x"),
            Err(NotAWebhookUrl::NotHttps)
        );
        assert_eq!(parse("ftp://127.0.0.1/x"), Err(NotAWebhookUrl::NotHttps));
        assert_eq!(parse("hooks.slack.com/x"), Err(NotAWebhookUrl::NotAUrl));
        assert_eq!(
            NotAWebhookUrl::NotHttps.to_string(),
            "must be an https:// URL"
        );
    }

    #[test]
    fn every_section_is_verbatim() {
        let payload = payload(&ChatAlert::of_report(&huge_report(3)));
        let sections: Vec<&Value> = payload["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "section")
            .collect();
        assert_eq!(sections.len(), 2);
        for section in sections {
            assert_eq!(section["text"]["verbatim"], true, "{section}");
        }
    }

    #[test]
    fn a_cut_never_splits_an_escape() {
        let payload = payload(&ChatAlert::of_report(&huge_report(1)));
        let line = texts(&payload, "section")[1];
        assert!(line.ends_with("&gt;…") || line.ends_with("&amp;…") || line.ends_with("&lt;…"));
    }
}
