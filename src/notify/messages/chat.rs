//! The security alert as a chat channel shows it, whatever the channel: a title, a one-line summary for
//! notifications, the facts, and one line per attribute. Each channel (Slack, …) renders it within its own limits
//! and escaping; the values in it are already shown as configured.

use super::{ChangeReport, NOT_SENT, initiator_phrase};

/// A fact (user id, tenant, reference, …) in a chat message or a short text, in characters.
pub const FACT_CHARS: usize = 200;
/// Attribute lines a chat message lists at most: it stays readable; the e-mail alert lists every one.
pub const MAX_LINES: usize = 40;

/// One alert, ready for any chat channel. Texts are raw: each channel escapes them its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatAlert {
    pub title: &'static str,
    /// The names in the summary line, for notifications ("Mobile number, Email address …").
    pub names: Vec<String>,
    /// What the summary says after the names: "for user … in …, by …".
    pub about: String,
    pub facts: Vec<(&'static str, String)>,
    pub lines: Vec<ChatLine>,
}

/// One line: an attribute with its values when the source sends them, or (in a digest) one change with a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatLine {
    pub name: String,
    pub change: Option<(String, String)>,
    /// Shown after the name when there are no values: "Mobile number +9477*****48, Department H***".
    pub note: Option<String>,
}

impl ChatAlert {
    /// The pre-update action's alert: values before and after.
    pub fn of_report(report: &ChangeReport) -> Self {
        let by = initiator_phrase(report.initiator.as_ref());
        ChatAlert {
            title: "Sensitive profile change",
            names: report.attributes.iter().map(|a| a.name.clone()).collect(),
            about: format!("for user {} in {}, by {by}", report.user_id, report.tenant),
            facts: vec![
                ("User id", report.user_id.clone()),
                ("Tenant", report.tenant.clone()),
                ("User store", report.user_store.clone()),
                ("Changed by", by.to_owned()),
                ("Request id", report.request_id.clone()),
                (
                    "Time (UTC)",
                    humantime::format_rfc3339_seconds(report.at).to_string(),
                ),
            ],
            lines: report
                .attributes
                .iter()
                .map(|a| ChatLine {
                    name: a.name.clone(),
                    change: Some((
                        a.old.clone().unwrap_or_else(|| NOT_SENT.to_owned()),
                        a.new.clone(),
                    )),
                    note: None,
                })
                .collect(),
        }
    }
}
