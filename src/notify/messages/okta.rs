//! Messages about an Okta profile change: the person's notice (e-mail, Slack direct message) and the security
//! team's alert (e-mail, chat). Okta reports which attributes changed, never their values, so the messages name
//! attributes only.

use std::time::SystemTime;

use serde::Serialize;

use super::chat::{ChatAlert, ChatLine, FACT_CHARS};
use super::templates::{RenderError, Templates};
use super::{Email, name_summary, one_line, subject_line};
use crate::claims::EmailAddress;
use crate::okta::{ChangedBy, OktaUser, ProfileChange};

/// About this many characters of attribute names in a subject; the rest are counted.
const SUBJECT_NAMES_CHARS: usize = 60;
/// One Okta change as the messages state it.
pub struct OktaReport<'a> {
    pub change: &'a ProfileChange,
    /// The org's host, or "Okta".
    pub org: &'a str,
    /// When Okta published the event (or when it arrived).
    pub at: SystemTime,
}

#[derive(Serialize)]
struct NoticeContext<'a> {
    name: Option<String>,
    changed_by: &'static str,
    org: String,
    attributes: Vec<String>,
    time: String,
    reference: String,
    support_contact: Option<&'a str>,
    /// The "This wasn't me" link, when reports are on.
    report_url: Option<String>,
}

#[derive(Serialize)]
struct AlertContext {
    user: String,
    user_id: String,
    org: String,
    changed_by_phrase: &'static str,
    actor: Option<String>,
    attributes: Vec<String>,
    attribute_names: String,
    event_id: String,
    time: String,
}

/// A readable name for an Okta attribute; a name this version does not know is shown as Okta spells it.
pub fn okta_attribute_name(name: &str) -> String {
    let known = match name {
        "email" => "Primary email",
        "secondEmail" => "Secondary email",
        "primaryPhone" => "Primary phone",
        "mobilePhone" => "Mobile phone",
        "manager" => "Manager",
        "managerId" => "Manager id",
        "login" => "Username",
        "firstName" => "First name",
        "lastName" => "Last name",
        "department" => "Department",
        "title" => "Title",
        other => return one_line(other, 100),
    };
    known.to_owned()
}

fn readable(names: &[String]) -> Vec<String> {
    names.iter().map(|n| okta_attribute_name(n)).collect()
}

/// "an administrator", …: who made the change, for the security team.
pub fn changed_by_phrase(by: ChangedBy) -> &'static str {
    match by {
        ChangedBy::Themselves => "the user themself",
        ChangedBy::AnotherUser => {
            "another user (an administrator, or an app using their API token)"
        }
        ChangedBy::Application => "an application or integration",
    }
}

fn time(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

fn notice_context<'a>(
    report: &OktaReport<'_>,
    support: Option<&'a str>,
    report_url: Option<String>,
) -> NoticeContext<'a> {
    NoticeContext {
        name: report.change.user.name.as_deref().map(|n| one_line(n, 100)),
        changed_by: report.change.changed_by.as_str(),
        org: one_line(report.org, FACT_CHARS),
        attributes: readable(&report.change.watched),
        time: time(report.at),
        reference: one_line(&report.change.event_id, FACT_CHARS),
        support_contact: support,
        report_url,
    }
}

/// The person's notice by e-mail, with the report link when reports are on.
pub fn okta_notice(
    templates: &Templates,
    report: &OktaReport<'_>,
    to: &EmailAddress,
    support: Option<&str>,
    report_url: Option<String>,
) -> Result<Email, RenderError> {
    let context = notice_context(report, support, report_url);
    Ok(Email {
        to: vec![to.clone()],
        subject: subject_line(&templates.render("okta-notice.subject.txt", &context)?),
        text: templates.render("okta-notice.txt", &context)?,
        html: templates.render("okta-notice.html", &context)?,
        attachments: Vec::new(),
        high_priority: false,
    })
}

/// The person's notice as a Slack direct message, with the report link when reports are on.
pub fn okta_notice_slack(
    templates: &Templates,
    report: &OktaReport<'_>,
    support: Option<&str>,
    report_url: Option<String>,
) -> Result<String, RenderError> {
    let context = notice_context(report, support, report_url);
    let text = templates.render("okta-notice.slack.txt", &context)?;
    Ok(super::slack_text::cap_text(
        text.trim(),
        super::slack_text::MAX_TEXT_CHARS,
    ))
}

fn user_label(user: &OktaUser) -> String {
    let label = match (&user.name, &user.login) {
        (Some(name), Some(login)) => format!("{name} <{login}>"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => user.id.clone(),
    };
    one_line(&label, FACT_CHARS)
}

fn alert_context(report: &OktaReport<'_>) -> AlertContext {
    let change = report.change;
    let attributes = readable(&change.alerted);
    AlertContext {
        user: user_label(&change.user),
        user_id: one_line(&change.user.id, FACT_CHARS),
        org: one_line(report.org, FACT_CHARS),
        changed_by_phrase: changed_by_phrase(change.changed_by),
        actor: change.actor.as_deref().map(|a| one_line(a, FACT_CHARS)),
        attribute_names: name_summary(attributes.iter().map(String::as_str), SUBJECT_NAMES_CHARS),
        attributes,
        event_id: one_line(&change.event_id, FACT_CHARS),
        time: time(report.at),
    }
}

/// The security team's alert by e-mail.
pub fn okta_alert(
    templates: &Templates,
    report: &OktaReport<'_>,
    recipients: &[EmailAddress],
) -> Result<Email, RenderError> {
    let context = alert_context(report);
    Ok(Email {
        to: recipients.to_vec(),
        subject: subject_line(&templates.render("okta-alert.subject.txt", &context)?),
        text: templates.render("okta-alert.txt", &context)?,
        html: templates.render("okta-alert.html", &context)?,
        attachments: Vec::new(),
        high_priority: false,
    })
}

/// The security team's alert in a chat channel.
pub fn okta_chat_alert(report: &OktaReport<'_>) -> ChatAlert {
    let context = alert_context(report);
    let by = match &context.actor {
        Some(actor) => format!("{} ({actor})", context.changed_by_phrase),
        None => context.changed_by_phrase.to_owned(),
    };
    ChatAlert {
        title: "Okta profile change",
        names: context.attributes.clone(),
        about: format!("for {} in {}, by {by}", context.user, context.org),
        facts: vec![
            ("User", context.user),
            ("User id", context.user_id),
            ("Okta org", context.org),
            ("Changed by", by),
            ("Okta event", context.event_id),
            ("Time (UTC)", context.time),
        ],
        lines: context
            .attributes
            .into_iter()
            .map(|name| ChatLine {
                name,
                change: None,
                note: None,
            })
            .collect(),
    }
}

/// A change for proving templates at start-up: each way of changing, each optional fact present and missing.
fn sample_changes() -> Vec<ProfileChange> {
    [
        ChangedBy::Themselves,
        ChangedBy::AnotherUser,
        ChangedBy::Application,
    ]
    .into_iter()
    .enumerate()
    .map(|(i, changed_by)| {
        let full = i != 1;
        ProfileChange {
            event_id: "sample-event".into(),
            published: None,
            user: OktaUser {
                id: "00usample".into(),
                login: full.then(|| "sample@example.com".into()),
                name: full.then(|| "Sample User".into()),
            },
            changed_by,
            actor: full.then(|| "admin@example.com".into()),
            watched: vec!["mobilePhone".into(), "customAttribute".into()],
            alerted: vec!["manager".into()],
        }
    })
    .collect()
}

/// Contexts that reach every part of the Okta templates: notices first, then alerts.
pub(super) fn sample_contexts() -> (Vec<minijinja::Value>, Vec<minijinja::Value>) {
    let changes = sample_changes();
    let reports: Vec<OktaReport<'_>> = changes
        .iter()
        .map(|change| OktaReport {
            change,
            org: "sample.okta.com",
            at: SystemTime::UNIX_EPOCH,
        })
        .collect();
    let notices = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let support = (i == 0).then_some("it@example.com");
            let link = (i == 0).then(|| "https://guard.example/report?t=sample".to_owned());
            minijinja::Value::from(minijinja::value::Serde(notice_context(r, support, link)))
        })
        .collect();
    let alerts = reports
        .iter()
        .map(|r| minijinja::Value::from(minijinja::value::Serde(alert_context(r))))
        .collect();
    (notices, alerts)
}
