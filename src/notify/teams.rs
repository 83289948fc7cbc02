//! The security alert in a Microsoft Teams channel, through a Workflows webhook ("When a Teams webhook request is
//! received"), the replacement of the retired Office 365 connectors. It takes Adaptive Cards only, up to about
//! 28 KB per message, and answers 202 (or 200) before the flow runs. The URL is the credential: read as a secret,
//! never logged.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::chat::ChatAlert;
use super::outbox::DeliveryError;
use super::outcome::Channel;
use super::slack::{ChatSender, WebhookUrl};
use super::{name_summary, one_line};
use crate::upstream;

/// Teams' limit on a message is about 28 KB; the card stays under this many bytes of JSON.
pub const MAX_CARD_BYTES: usize = 27 * 1024;
/// A fact's value and an attribute line, in characters.
const FACT_CHARS: usize = 200;
const LINE_CHARS: usize = 400;

pub struct TeamsWebhook {
    client: reqwest::Client,
    url: WebhookUrl,
    timeout: Duration,
}

impl TeamsWebhook {
    pub fn new(url: WebhookUrl, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(TeamsWebhook {
            client: upstream::client(timeout)?,
            url,
            timeout,
        })
    }
}

#[async_trait]
impl ChatSender for TeamsWebhook {
    fn channel(&self) -> Channel {
        Channel::Teams
    }

    async fn post(&self, alert: &ChatAlert) -> Result<(), DeliveryError> {
        let request = self
            .client
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message(alert).to_string());
        let response = upstream::send(request, self.timeout)
            .await
            .map_err(|f| DeliveryError::transport(f, "Teams"))?;
        DeliveryError::of_status(response.status().as_u16(), "Teams")
    }
}

/// Text for a card: one line, with the characters of the card's Markdown subset (emphasis, links) escaped, so
/// that a value can neither make a link nor change the layout.
pub fn escape_card(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in one_line(s, max).chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The webhook's message: one Adaptive Card with the facts and a line per attribute, as many lines as fit
/// within [`MAX_CARD_BYTES`], the rest counted.
pub fn message(alert: &ChatAlert) -> Value {
    let lines: Vec<String> = alert
        .lines
        .iter()
        .map(|line| {
            let name = escape_card(&line.name, FACT_CHARS);
            match &line.change {
                Some((old, new)) => format!(
                    "**{name}**: {} → {}",
                    escape_card(old, FACT_CHARS),
                    escape_card(new, FACT_CHARS)
                ),
                None => match &line.note {
                    Some(note) => format!("**{name}**: {}", escape_card(note, 2 * FACT_CHARS)),
                    None => format!("**{name}**"),
                },
            }
        })
        .map(|l| one_line(&l, LINE_CHARS))
        .collect();
    let mut shown = lines.len();
    loop {
        let card = card(alert, &lines[..shown], lines.len() - shown);
        if card.to_string().len() <= MAX_CARD_BYTES || shown == 0 {
            return card;
        }
        shown = shown.saturating_sub((shown / 4).max(1));
    }
}

fn card(alert: &ChatAlert, lines: &[String], more: usize) -> Value {
    let names = name_summary(alert.names.iter().map(String::as_str), 150);
    let facts: Vec<Value> = alert
        .facts
        .iter()
        .map(|(label, value)| json!({"title": label, "value": escape_card(value, FACT_CHARS)}))
        .collect();
    let mut body = vec![
        json!({"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": escape_card(&format!("{names} {}", alert.about), 600), "wrap": true}),
        json!({"type": "FactSet", "facts": facts}),
    ];
    body.extend(
        lines
            .iter()
            .map(|l| json!({"type": "TextBlock", "text": l, "wrap": true, "spacing": "None"})),
    );
    if more > 0 {
        body.push(json!({"type": "TextBlock", "text": format!("…and {more} more"), "wrap": true}));
    }
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": null,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.2", "body": body}}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::chat::ChatLine;

    fn alert(lines: usize) -> ChatAlert {
        let worst = "[x](https://evil.example) **b** <at>".repeat(40);
        ChatAlert {
            title: "Sensitive profile change",
            names: (0..lines).map(|i| format!("{i}{worst}")).collect(),
            about: format!("for user {worst}"),
            facts: vec![("User id", worst.clone()), ("Tenant", worst.clone())],
            lines: (0..lines)
                .map(|i| ChatLine {
                    name: format!("{i}{worst}"),
                    change: Some((worst.clone(), worst.clone())),
                    note: None,
                })
                .collect(),
        }
    }

    #[test]
    fn any_alert_fits_in_one_card_and_counts_what_it_leaves_out() {
        for n in [0, 1, 10, 100, 5_000] {
            let m = message(&alert(n));
            assert!(m.to_string().len() <= MAX_CARD_BYTES, "{n}");
            assert_eq!(m["type"], "message");
            let content = &m["attachments"][0]["content"];
            assert_eq!(content["type"], "AdaptiveCard");
            let body = content["body"].as_array().unwrap();
            let last = body.last().unwrap()["text"].as_str().unwrap_or_default();
            // Title, summary and facts, then the lines, then perhaps the count of the rest.
            let (lines, more) = match last.strip_prefix("…and ") {
                Some(rest) => (
                    body.len() - 4,
                    rest.trim_end_matches(" more").parse().unwrap(),
                ),
                None => (body.len() - 3, 0),
            };
            assert_eq!(lines + more, n, "every attribute is shown or counted");
        }
    }

    #[test]
    fn values_cannot_make_links_or_markup() {
        let escaped = escape_card("[click](https://evil.example) **x**", 100);
        assert_eq!(escaped, r"\[click\](https://evil.example) \*\*x\*\*");
        let m = message(&alert(1)).to_string();
        assert!(!m.contains("[x](https"), "an unescaped link");
    }
}
