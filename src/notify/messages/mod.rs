//! What messages say: the security team's alert, the person's notice, digests, the Okta texts and the chat
//! alert, rendered from plain data ([`ChangeReport`], values already shown as configured) through the templates.
//! Rendering is pure and tested on its own; the channels only move what it made.

pub mod alert;
pub mod chat;
pub mod digest;
pub mod mask;
pub mod notice;
pub mod okta;
pub mod report;
pub mod slack_text;
pub mod templates;

use std::time::SystemTime;

use crate::action::{ActionRequest, Initiator, WSO2_CLAIM_PREFIX};
use crate::claims::{EmailAddress, readable_name};
use crate::policy::Change;
use mask::ValueDisplay;

use templates::{TemplateError, Templates};

pub use crate::text::one_line;

/// One e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<EmailAddress>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Files sent with it (a digest's CSV); most messages have none.
    pub attachments: Vec<Attachment>,
    /// Marked urgent for mail clients (`Importance: high`): a change reported as not made by the person.
    pub high_priority: bool,
}

/// A file sent with an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

/// The facts a message states about one update, with values already shown as configured. It can wait on the
/// alert queue (`ALERT_QUEUE_URL`), so it is plain data that survives the trip.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeReport {
    pub request_id: String,
    pub user_id: String,
    pub shared_user_id: Option<String>,
    pub tenant: String,
    pub organization: Option<String>,
    pub user_store: String,
    pub initiator: Option<Initiator>,
    pub at: SystemTime,
    pub attributes: Vec<ChangedAttribute>,
    pub values: ValueDisplay,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangedAttribute {
    /// A readable name ("Mobile"), or the claim's short name.
    pub name: String,
    pub uri: String,
    /// `None` when the server did not send the current value.
    pub old: Option<String>,
    pub new: String,
}

/// What a message shows for a fact the server did not send (an old value the admin did not choose to send).
pub(crate) const NOT_SENT: &str = "(not sent)";

impl ChangeReport {
    pub fn new(
        req: &ActionRequest,
        request_id: &str,
        changes: &[Change<'_>],
        values: ValueDisplay,
        at: SystemTime,
    ) -> Self {
        let event = &req.event;
        let user = event.user.as_ref();
        let tenant = match event.tenant.as_ref() {
            Some(t) => match (&t.name, &t.id) {
                (Some(name), Some(id)) => format!("{name} ({id})"),
                (Some(name), None) => name.clone(),
                (None, Some(id)) => id.clone(),
                (None, None) => NOT_SENT.to_owned(),
            },
            None => NOT_SENT.to_owned(),
        };
        let organization = user
            .and_then(|u| u.organization.as_ref())
            .or(event.organization.as_ref())
            .and_then(|o| {
                o.name
                    .clone()
                    .or_else(|| o.org_handle.clone())
                    .or_else(|| o.id.clone())
            });
        ChangeReport {
            request_id: request_id.to_owned(),
            user_id: user
                .and_then(|u| u.id.clone())
                .unwrap_or_else(|| NOT_SENT.to_owned()),
            shared_user_id: user.and_then(|u| u.shared_user_id.clone()),
            tenant,
            organization,
            user_store: event
                .user_store
                .as_ref()
                .and_then(|s| s.name.clone())
                .unwrap_or_else(|| NOT_SENT.to_owned()),
            initiator: event.initiator_type.clone(),
            at,
            attributes: changes
                .iter()
                .map(|c| ChangedAttribute {
                    name: readable_name(c.uri),
                    uri: c.uri.to_owned(),
                    old: c.old.map(|v| mask::display(v, values)),
                    new: mask::display(c.new, values),
                })
                .collect(),
            values,
        }
    }
}

impl ChangeReport {
    /// A report for proving templates at start-up, by the same context code as real messages: every optional
    /// fact present (`full`) or every one missing.
    pub(crate) fn sample(full: bool, initiator: Option<Initiator>) -> Self {
        let optional = |s: &str| full.then(|| s.to_owned());
        let attribute = |short: &str, old: Option<String>, new: &str| ChangedAttribute {
            name: readable_name(&format!("{WSO2_CLAIM_PREFIX}{short}")),
            uri: format!("{WSO2_CLAIM_PREFIX}{short}"),
            old,
            new: new.to_owned(),
        };
        ChangeReport {
            request_id: "sample-request".into(),
            user_id: "sample-user".into(),
            shared_user_id: optional("sample-shared-user"),
            tenant: "sample.example (1)".into(),
            organization: optional("Sample"),
            user_store: "DEFAULT".into(),
            initiator,
            at: SystemTime::UNIX_EPOCH,
            attributes: vec![
                attribute("mobile", optional("+9477*****48"), "+9477*****49"),
                attribute("emailaddress", None, "(cleared)"),
            ],
            values: if full {
                ValueDisplay::Masked
            } else {
                ValueDisplay::Full
            },
        }
    }
}

/// The samples every template is proven with at start-up, made by the same code as real messages.
pub fn template_samples() -> templates::Samples {
    let (okta_notice, okta_alert) = okta::sample_contexts();
    templates::Samples {
        alert: alert::sample_contexts(),
        notice: notice::sample_contexts(),
        okta_alert,
        okta_notice,
        digest: digest::sample_contexts(),
        report_alert: report::sample_contexts(),
    }
}

/// The message templates: built in, or replaced from `dir` (`TEMPLATE_DIR`); compiled and proven.
pub fn load_templates(dir: Option<&std::path::Path>) -> Result<Templates, TemplateError> {
    Templates::load(dir, &template_samples())
}

/// "an administrator", "the user themself", …: who made the change, for a sentence.
pub fn initiator_phrase(initiator: Option<&Initiator>) -> &'static str {
    match initiator {
        Some(Initiator::User) => "the user themself (self-service)",
        Some(Initiator::Admin) => "an administrator",
        Some(Initiator::Application) => "an application",
        Some(Initiator::Other(_)) | None => "an unknown initiator",
    }
}

/// The longest subject a message gets, in characters.
pub const SUBJECT_CHARS: usize = 200;

/// A rendered subject as sent: one line, at most [`SUBJECT_CHARS`] characters with the mark of a cut.
pub fn subject_line(rendered: &str) -> String {
    one_line(rendered.trim(), SUBJECT_CHARS - 1)
}

/// At most this many characters of one name in a list of names.
const LISTED_NAME_CHARS: usize = 40;

/// Attribute names for one line: joined with ", " while they fit in about `budget` characters, the others
/// counted ("Mobile number, Email address …and 3 more"). The first name is always shown.
pub fn name_summary<'a>(names: impl ExactSizeIterator<Item = &'a str>, budget: usize) -> String {
    let total = names.len();
    let mut out = String::new();
    let mut used = 0;
    for (i, name) in names.enumerate() {
        let name = one_line(name, LISTED_NAME_CHARS);
        let len = name.chars().count();
        if i > 0 {
            if used + 2 + len > budget {
                return format!("{out} …and {} more", total - i);
            }
            out.push_str(", ");
            used += 2;
        }
        out.push_str(&name);
        used += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_strips_line_breaks() {
        assert_eq!(one_line("a\r\nBcc: x@y", 100), "a  Bcc: x@y");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn name_lists_are_cut_and_counted() {
        let names = ["Mobile number", "Email address", "Department"];
        assert_eq!(
            name_summary(names.iter().copied(), 60),
            "Mobile number, Email address, Department"
        );
        assert_eq!(
            name_summary(names.iter().copied(), 30),
            "Mobile number, Email address …and 1 more"
        );
        let long = "n".repeat(500);
        assert_eq!(
            name_summary([long.as_str(), "x"].into_iter(), 10),
            format!("{}… …and 1 more", "n".repeat(40))
        );
        assert_eq!(name_summary(std::iter::empty(), 10), "");
    }

    #[test]
    fn subjects_are_capped() {
        let s = subject_line(&format!(" {}\n", "s".repeat(500)));
        assert_eq!(s.chars().count(), SUBJECT_CHARS);
        assert!(s.ends_with('…'));
        assert_eq!(subject_line(" Short\n"), "Short");
    }
}
