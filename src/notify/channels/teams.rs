//! The security alert in a Microsoft Teams channel, through a Workflows webhook ("When a Teams webhook request is
//! received"), the replacement of the retired Office 365 connectors. It takes Adaptive Cards only, up to about
//! 28 KB per message, and answers 202 (or 200) before the flow runs. The URL is the credential: read as a secret,
//! never logged.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::ChatSender;
use crate::notify::messages::chat::{ChatAlert, ChatLine, FACT_CHARS};
use crate::notify::messages::name_summary;
use crate::notify::outcome::Channel;
use crate::notify::settings::WebhookUrl;
use crate::text::one_line;
use crate::upstream::{self, DeliveryError};

/// Teams' limit on a message is about 28 KB; the card stays under this many bytes of JSON.
pub const MAX_CARD_BYTES: usize = 27 * 1024;
/// A fact's value and each part of an attribute line, in characters.
const NOTE_CHARS: usize = 400;
const SUMMARY_CHARS: usize = 600;

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

/// A value as a card shows it: a `TextRun`, which has no Markdown, so a value can neither make a link nor change
/// the layout in any client. Backslash escapes in a `TextBlock` are not enough: Teams mobile ignores them.
fn run(text: &str, max: usize) -> Value {
    json!({"type": "TextRun", "text": one_line(text, max)})
}

/// A label of our own, in bold: also a `TextRun`, since an attribute's name comes from the profile too.
fn bold(text: &str, max: usize) -> Value {
    json!({"type": "TextRun", "text": one_line(text, max), "weight": "Bolder"})
}

fn rich(inlines: Vec<Value>) -> Value {
    json!({"type": "RichTextBlock", "inlines": inlines})
}

/// One attribute: its name, then its values or its note.
fn line_block(line: &ChatLine) -> Value {
    let mut inlines = vec![bold(&line.name, FACT_CHARS)];
    match (&line.change, &line.note) {
        (Some((old, new)), _) => inlines.extend([
            run(": ", 2),
            run(old, FACT_CHARS),
            run(" → ", 3),
            run(new, FACT_CHARS),
        ]),
        (None, Some(note)) => inlines.extend([run(": ", 2), run(note, NOTE_CHARS)]),
        (None, None) => {}
    }
    let mut block = rich(inlines);
    block["spacing"] = json!("None");
    block
}

/// The webhook's message: one Adaptive Card with the facts and a line per attribute, as many lines as fit
/// within [`MAX_CARD_BYTES`], the rest counted.
pub fn message(alert: &ChatAlert) -> Value {
    let lines: Vec<Value> = alert.lines.iter().map(line_block).collect();
    let mut shown = lines.len();
    loop {
        let card = card(alert, &lines[..shown], lines.len() - shown);
        if card.to_string().len() <= MAX_CARD_BYTES || shown == 0 {
            return card;
        }
        shown = shown.saturating_sub((shown / 4).max(1));
    }
}

fn card(alert: &ChatAlert, lines: &[Value], more: usize) -> Value {
    let names = name_summary(alert.names.iter().map(String::as_str), 150);
    let facts: Vec<Value> = alert
        .facts
        .iter()
        .map(|(label, value)| {
            rich(vec![
                bold(&format!("{label}: "), 40),
                run(value, FACT_CHARS),
            ])
        })
        .collect();
    let mut body = vec![
        json!({"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": true}),
        rich(vec![run(
            &format!("{names} {}", alert.about),
            SUMMARY_CHARS,
        )]),
        json!({"type": "Container", "items": facts}),
    ];
    body.extend_from_slice(lines);
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
    use crate::notify::messages::chat::ChatLine;

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

    /// Every string of `v` that holds `needle`, with the type of the object that holds it and its key.
    fn holders(v: &Value, needle: &str, kind: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(map) => {
                let kind = map.get("type").and_then(Value::as_str).unwrap_or(kind);
                for (key, value) in map {
                    if value.as_str().is_some_and(|s| s.contains(needle)) {
                        out.push((kind.to_owned(), key.clone()));
                    }
                    holders(value, needle, kind, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| holders(i, needle, kind, out)),
            _ => {}
        }
    }

    #[test]
    fn values_are_only_ever_text_runs() {
        let m = message(&alert(3));
        let mut found = Vec::new();
        holders(&m, "[x](https://evil.example)", "", &mut found);
        assert!(found.len() > 3, "{found:?}");
        for (kind, key) in found {
            assert_eq!((kind.as_str(), key.as_str()), ("TextRun", "text"));
        }
        assert!(
            m.to_string()
                .contains(r#""text":"0[x](https://evil.example) **b** <at>"#)
        );
    }
}
