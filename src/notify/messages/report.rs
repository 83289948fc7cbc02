//! The security team's urgent alert when a person reports a change as not made by them ("This wasn't me"): the
//! change as the signed link names it (values masked), who reported it from where, and what was done about it.

use std::time::SystemTime;

use serde::Serialize;

use super::chat::{ChatAlert, ChatLine, FACT_CHARS};
use super::templates::{RenderError, Templates};
use super::{Email, one_line, subject_line};
use crate::claims::EmailAddress;
use crate::notify::report_link::{ChangeSource, ChangedBy, LinkedChange, LinkedLine};

/// The longest user agent a message quotes: it is the reporter's own text.
const USER_AGENT_CHARS: usize = 200;
/// What a message says for a fact nobody gave.
const UNKNOWN: &str = "(unknown)";

/// One report, as the alert states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAlert {
    pub change: LinkedChange,
    pub reported_at: SystemTime,
    pub reporter_ip: Option<String>,
    pub user_agent: Option<String>,
    /// What was done besides this alert, in one sentence ("The account was locked through SCIM2.").
    pub action: String,
    /// An attempted lock failed: the alert says so first.
    pub action_failed: bool,
}

#[derive(Serialize)]
struct Line {
    name: String,
    value: Option<String>,
}

#[derive(Serialize)]
struct Context {
    source: &'static str,
    tenant: String,
    user_id: String,
    reference: String,
    changed_at: String,
    changed_by: &'static str,
    attributes: Vec<Line>,
    more: usize,
    reported_at: String,
    reporter_ip: String,
    user_agent: String,
    action: String,
    action_failed: bool,
}

fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

fn context(alert: &ReportAlert) -> Context {
    let change = &alert.change;
    Context {
        source: change.source.label(),
        tenant: one_line(&change.tenant, FACT_CHARS),
        user_id: one_line(&change.user_id, FACT_CHARS),
        reference: one_line(&change.reference, FACT_CHARS),
        changed_at: time(change.at),
        changed_by: change.changed_by.phrase(),
        attributes: change
            .lines
            .iter()
            .map(|l| Line {
                name: one_line(&l.name, FACT_CHARS),
                value: l.value.as_deref().map(|v| one_line(v, FACT_CHARS)),
            })
            .collect(),
        more: change.more,
        reported_at: time(alert.reported_at),
        reporter_ip: alert
            .reporter_ip
            .as_deref()
            .map_or_else(|| UNKNOWN.to_owned(), |ip| one_line(ip, 60)),
        user_agent: alert
            .user_agent
            .as_deref()
            .map_or_else(|| UNKNOWN.to_owned(), |ua| one_line(ua, USER_AGENT_CHARS)),
        action: one_line(&alert.action, FACT_CHARS),
        action_failed: alert.action_failed,
    }
}

/// The alert by e-mail, marked urgent.
pub fn report_alert(
    templates: &Templates,
    alert: &ReportAlert,
    recipients: &[EmailAddress],
) -> Result<Email, RenderError> {
    let context = context(alert);
    Ok(Email {
        to: recipients.to_vec(),
        subject: subject_line(&templates.render("report-alert.subject.txt", &context)?),
        text: templates.render("report-alert.txt", &context)?,
        html: templates.render("report-alert.html", &context)?,
        attachments: Vec::new(),
        high_priority: true,
    })
}

/// The alert in a chat channel.
pub fn report_chat_alert(alert: &ReportAlert) -> ChatAlert {
    let c = context(alert);
    ChatAlert {
        title: "URGENT: a change reported as not made by the person",
        names: c.attributes.iter().map(|a| a.name.clone()).collect(),
        about: format!(
            "for user {} in {} ({}). {}",
            c.user_id, c.tenant, c.source, c.action
        ),
        facts: vec![
            ("Source", c.source.to_owned()),
            ("Tenant", c.tenant),
            ("User id", c.user_id),
            ("Change reference", c.reference),
            ("Changed (UTC)", c.changed_at),
            ("Changed by", c.changed_by.to_owned()),
            ("Reported (UTC)", c.reported_at),
            ("Reporter IP", c.reporter_ip),
            ("Reporter's browser", c.user_agent),
            ("Action taken", c.action),
        ],
        lines: c
            .attributes
            .into_iter()
            .map(|a| ChatLine {
                name: a.name,
                change: None,
                note: a.value,
            })
            .collect(),
    }
}

/// Contexts that reach every part of the report alert templates: every fact given, and every optional one missing.
pub(super) fn sample_contexts() -> Vec<minijinja::Value> {
    let full = ReportAlert {
        change: LinkedChange {
            source: ChangeSource::Wso2,
            tenant: "sample.example".into(),
            user_id: "sample-user".into(),
            reference: "sample-request".into(),
            at: SystemTime::UNIX_EPOCH,
            changed_by: ChangedBy::Administrator,
            lines: vec![
                LinkedLine {
                    name: "Mobile number".into(),
                    value: Some("+9477*****48".into()),
                },
                LinkedLine {
                    name: "Department".into(),
                    value: None,
                },
            ],
            more: 2,
        },
        reported_at: SystemTime::UNIX_EPOCH,
        reporter_ip: Some("203.0.113.10".into()),
        user_agent: Some("Mozilla/5.0".into()),
        action: "The account could not be locked: SCIM2 answered 403.".into(),
        action_failed: true,
    };
    let bare = ReportAlert {
        change: LinkedChange {
            source: ChangeSource::Okta,
            lines: Vec::new(),
            more: 0,
            changed_by: ChangedBy::Unknown,
            ..full.change.clone()
        },
        reporter_ip: None,
        user_agent: None,
        action: "Alert only (REPORT_ACTION=alert).".into(),
        action_failed: false,
        ..full.clone()
    };
    [full, bare]
        .iter()
        .map(|a| minijinja::Value::from(minijinja::value::Serde(context(a))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> ReportAlert {
        ReportAlert {
            change: LinkedChange {
                source: ChangeSource::Wso2,
                tenant: "testwso2".into(),
                user_id: "57b22cbf".into(),
                reference: "6783a180".into(),
                at: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000),
                changed_by: ChangedBy::Administrator,
                lines: vec![LinkedLine {
                    name: "Mobile number".into(),
                    value: Some("+9477*****48".into()),
                }],
                more: 0,
            },
            reported_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_600),
            reporter_ip: Some("198.51.100.23".into()),
            user_agent: Some("<script>alert(1)</script>\nX-Injected: 1".into()),
            action: "The account was locked through SCIM2.".into(),
            action_failed: false,
        }
    }

    #[test]
    fn the_email_is_urgent_and_states_the_report() {
        let templates = crate::notify::load_templates(None).unwrap();
        let to = [EmailAddress::parse("sec@example.com").unwrap()];
        let email = report_alert(&templates, &alert(), &to).unwrap();
        assert!(email.high_priority);
        assert!(email.subject.contains("URGENT"), "{}", email.subject);
        assert!(email.subject.contains("57b22cbf"), "{}", email.subject);
        for fact in [
            "testwso2",
            "6783a180",
            "Mobile number: +9477*****48",
            "198.51.100.23",
            "The account was locked through SCIM2.",
            "2025-11-24T16:00:00Z",
        ] {
            assert!(email.text.contains(fact), "{fact} missing:\n{}", email.text);
        }
        assert!(!email.html.contains("<script>"), "{}", email.html);
        assert!(!email.text.contains("\nX-Injected"), "{}", email.text);
    }

    #[test]
    fn the_chat_alert_names_the_reporter_and_the_action() {
        let chat = report_chat_alert(&alert());
        assert!(chat.title.starts_with("URGENT"));
        assert_eq!(chat.names, ["Mobile number"]);
        let facts: Vec<&str> = chat.facts.iter().map(|(k, _)| *k).collect();
        assert!(facts.contains(&"Reporter IP") && facts.contains(&"Action taken"));
        assert_eq!(chat.lines[0].note.as_deref(), Some("+9477*****48"));
    }
}
