//! Digests: many changes of one tenant in few messages, for bulk changes (an HR sync, a reorg). One e-mail lists
//! every change and carries them as CSV; a chat digest lists one line per change. A digest that would pass a
//! channel's limits is split into parts, so every change is in exactly one message of each channel.

use serde::Serialize;

use super::chat::{ChatAlert, ChatLine};
use super::mask::ValueDisplay;
use super::templates::{RenderError, Templates};
use super::{Attachment, ChangeReport, Email, NOT_SENT, initiator_phrase, one_line, subject_line};
use crate::claims::EmailAddress;

/// Changes in one e-mail digest: the HTML stays readable, the CSV holds them all.
pub const EMAIL_PART_CHANGES: usize = 200;
/// Changes in one chat digest: one line each, within what Slack and Teams show of a message.
pub const CHAT_PART_CHANGES: usize = super::chat::MAX_LINES;

#[derive(Serialize)]
struct DigestContext {
    tenant: String,
    count: usize,
    part: usize,
    parts: usize,
    first_time: String,
    last_time: String,
    changes: Vec<DigestChange>,
    values_note: &'static str,
}

#[derive(Serialize)]
struct DigestChange {
    time: String,
    user_id: String,
    initiator_phrase: &'static str,
    request_id: String,
    attributes: Vec<DigestAttribute>,
}

#[derive(Serialize)]
struct DigestAttribute {
    name: String,
    old: String,
    new: String,
}

fn time(report: &ChangeReport) -> String {
    humantime::format_rfc3339_seconds(report.at).to_string()
}

fn change_of(report: &ChangeReport) -> DigestChange {
    DigestChange {
        time: time(report),
        user_id: one_line(&report.user_id, 200),
        initiator_phrase: initiator_phrase(report.initiator.as_ref()),
        request_id: one_line(&report.request_id, 200),
        attributes: report
            .attributes
            .iter()
            .map(|a| DigestAttribute {
                name: one_line(&a.name, 120),
                old: one_line(a.old.as_deref().unwrap_or(NOT_SENT), 300),
                new: one_line(&a.new, 300),
            })
            .collect(),
    }
}

fn context(reports: &[ChangeReport], part: usize, parts: usize) -> DigestContext {
    let times: Vec<String> = reports.iter().map(time).collect();
    DigestContext {
        tenant: reports
            .first()
            .map(|r| one_line(&r.tenant, 200))
            .unwrap_or_default(),
        count: reports.len(),
        part,
        parts,
        first_time: times.iter().min().cloned().unwrap_or_default(),
        last_time: times.iter().max().cloned().unwrap_or_default(),
        changes: reports.iter().map(change_of).collect(),
        values_note: match reports.first().map(|r| r.values) {
            Some(ValueDisplay::Full) => "Values are shown in full (ALERT_VALUES=full).",
            Some(ValueDisplay::None) => "Values are hidden (ALERT_VALUES=none).",
            _ => "Values are masked (ALERT_VALUES=masked).",
        },
    }
}

/// One part of an e-mail digest (`part` of `parts`), with its changes as CSV.
pub fn digest_email(
    templates: &Templates,
    reports: &[ChangeReport],
    (part, parts): (usize, usize),
    recipients: &[EmailAddress],
) -> Result<Email, RenderError> {
    let context = context(reports, part, parts);
    let stamp = context.first_time.replace([':', '-'], "");
    Ok(Email {
        to: recipients.to_vec(),
        subject: subject_line(&templates.render("digest.subject.txt", &context)?),
        text: templates.render("digest.txt", &context)?,
        html: templates.render("digest.html", &context)?,
        attachments: vec![Attachment {
            filename: format!("profile-changes-{stamp}-part{part}.csv"),
            content_type: "text/csv; charset=utf-8",
            data: csv(reports).into_bytes(),
        }],
        high_priority: false,
    })
}

/// One row per changed attribute. A cell a spreadsheet would read as a formula is prefixed with `'`.
pub fn csv(reports: &[ChangeReport]) -> String {
    let mut out =
        String::from("time_utc,tenant,user_id,changed_by,request_id,attribute,before,after\r\n");
    for r in reports {
        let by = r.initiator.as_ref().map(|i| i.as_str()).unwrap_or(NOT_SENT);
        for a in &r.attributes {
            let old = a.old.as_deref().unwrap_or(NOT_SENT);
            let row = [
                &time(r),
                &r.tenant,
                &r.user_id,
                by,
                &r.request_id,
                &a.name,
                old,
                &a.new,
            ];
            let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

fn csv_cell(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One part of a chat digest: a line per change, its attributes and new values as the note.
pub fn digest_chat(reports: &[ChangeReport], (part, parts): (usize, usize)) -> ChatAlert {
    let context = context(reports, part, parts);
    let of = match parts {
        1 => String::new(),
        _ => format!(" (part {part} of {parts})"),
    };
    let mut names: Vec<String> = Vec::new();
    for a in reports.iter().flat_map(|r| &r.attributes) {
        if !names.contains(&a.name) {
            names.push(a.name.clone());
        }
    }
    ChatAlert {
        title: "Sensitive profile changes (digest)",
        names,
        about: format!("{} changes in {}{of}", context.count, context.tenant),
        facts: vec![
            ("Tenant", context.tenant.clone()),
            ("Changes", format!("{}{of}", context.count)),
            ("From (UTC)", context.first_time.clone()),
            ("To (UTC)", context.last_time.clone()),
        ],
        lines: context.changes.into_iter().map(chat_line).collect(),
    }
}

fn chat_line(c: DigestChange) -> ChatLine {
    let note = c
        .attributes
        .iter()
        .map(|a| format!("{} {}", a.name, a.new))
        .collect::<Vec<_>>()
        .join(", ");
    ChatLine {
        name: format!("{} {}, by {}", c.time, c.user_id, c.initiator_phrase),
        change: None,
        note: Some(note),
    }
}

/// Digest contexts for proving the digest templates at start-up: one part and several, every optional fact.
pub(super) fn sample_contexts() -> Vec<minijinja::Value> {
    let reports = vec![
        ChangeReport::sample(true, Some(crate::action::Initiator::Admin)),
        ChangeReport::sample(false, None),
    ];
    [(1, 1), (2, 3)]
        .into_iter()
        .map(|(part, parts)| {
            minijinja::Value::from(minijinja::value::Serde(context(&reports, part, parts)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_cell_never_becomes_a_formula_and_always_stays_one_cell() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+94771234567"), "'+94771234567");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn every_attribute_is_a_row_and_every_change_a_chat_line() {
        let reports = vec![
            ChangeReport::sample(true, Some(crate::action::Initiator::Admin)),
            ChangeReport::sample(false, None),
        ];
        let rows = csv(&reports);
        assert_eq!(rows.lines().count(), 1 + 4, "{rows}");
        let chat = digest_chat(&reports, (2, 3));
        assert_eq!(chat.lines.len(), 2);
        assert!(chat.about.ends_with("(part 2 of 3)"), "{}", chat.about);
        let templates = crate::notify::load_templates(None).unwrap();
        let email = digest_email(&templates, &reports, (1, 1), &[]).unwrap();
        assert_eq!(
            email.subject,
            "[profile-guard] 2 sensitive profile changes in sample.example (1)"
        );
        assert_eq!(email.attachments.len(), 1);
        assert!(email.attachments[0].filename.ends_with("-part1.csv"));
    }
}
