//! The "This wasn't me" link a notice carries when reports are on (`REPORT_URL_BASE`). A notice only asks for the
//! link; how it is made and checked (a signed token) belongs to the report module, behind [`ReportLinks`]. What a
//! link names is [`LinkedChange`]: the change, never an address, and values only masked.

use std::time::SystemTime;

use super::messages::mask::{self, ValueDisplay};
use super::messages::okta::{OktaReport, okta_attribute_name};
use super::messages::{ChangeReport, one_line};
use crate::action::{ActionRequest, Initiator};
use crate::okta::ChangedBy as OktaChangedBy;
use crate::policy::Change;

/// Where a change was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// WSO2 Identity Server or Asgardeo (the pre-update action).
    Wso2,
    /// Okta (the event hook).
    Okta,
}

impl ChangeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSource::Wso2 => "wso2",
            ChangeSource::Okta => "okta",
        }
    }

    /// How messages name it.
    pub fn label(self) -> &'static str {
        match self {
            ChangeSource::Wso2 => "WSO2 / Asgardeo",
            ChangeSource::Okta => "Okta",
        }
    }
}

/// Who made the change, as far as the source says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// The person themself (self-service).
    Person,
    Administrator,
    /// Another Okta user: an administrator, or an app using their API token.
    AnotherUser,
    Application,
    Unknown,
}

impl ChangedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangedBy::Person => "person",
            ChangedBy::Administrator => "administrator",
            ChangedBy::AnotherUser => "another_user",
            ChangedBy::Application => "application",
            ChangedBy::Unknown => "unknown",
        }
    }

    /// Who made it, for the security team.
    pub fn phrase(self) -> &'static str {
        match self {
            ChangedBy::Person => "the person themself (self-service)",
            ChangedBy::Administrator => "an administrator",
            ChangedBy::AnotherUser => {
                "another user (an administrator, or an app using their API token)"
            }
            ChangedBy::Application => "an application or integration",
            ChangedBy::Unknown => "unknown",
        }
    }
}

/// One changed attribute as a link names it: its readable name, and its new value masked (none when values are
/// hidden, or the source never sends them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedLine {
    pub name: String,
    pub value: Option<String>,
}

/// The change a report link is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedChange {
    pub source: ChangeSource,
    /// The tenant's name (WSO2) or the org's host (Okta).
    pub tenant: String,
    /// The source's id of the person: what a lock acts on.
    pub user_id: String,
    /// The change's reference as the notice quotes it: WSO2's request id, Okta's event id.
    pub reference: String,
    pub at: SystemTime,
    pub changed_by: ChangedBy,
    pub lines: Vec<LinkedLine>,
    /// Lines left out (a link stays short).
    pub more: usize,
}

/// Makes the link a notice carries; built once at start-up when reports are on.
pub trait ReportLinks: Send + Sync {
    /// The whole URL, `{REPORT_URL_BASE}/report?t=<token>`; `None` when the change cannot be named in a link
    /// (an id far longer than any real one).
    fn link(&self, change: &LinkedChange) -> Option<String>;
}

/// The longest name or value a link carries, in characters.
const LINK_TEXT_CHARS: usize = 60;

impl LinkedChange {
    /// A WSO2 change: `watched` are the changes the notice tells, with their values as sent; a value is only ever
    /// masked here, whatever `ALERT_VALUES` shows in messages (a link can end up in places a message does not).
    /// `None` when the call names no user: such a report could name nobody to the security team.
    pub fn of_wso2(
        req: &ActionRequest,
        report: &ChangeReport,
        watched: &[Change<'_>],
        values: ValueDisplay,
    ) -> Option<Self> {
        let user_id = req.event.user.as_ref()?.id.clone()?;
        let tenant = req.event.tenant.as_ref().and_then(|t| t.name_or_id());
        let changed_by = match report.initiator {
            Some(Initiator::User) => ChangedBy::Person,
            Some(Initiator::Admin) => ChangedBy::Administrator,
            Some(Initiator::Application) => ChangedBy::Application,
            _ => ChangedBy::Unknown,
        };
        let lines = watched
            .iter()
            .zip(&report.attributes)
            .map(|(change, attribute)| LinkedLine {
                name: one_line(&attribute.name, LINK_TEXT_CHARS),
                value: (values != ValueDisplay::None).then(|| {
                    let masked = mask::display(change.new, ValueDisplay::Masked);
                    one_line(&masked, LINK_TEXT_CHARS)
                }),
            })
            .collect();
        Some(LinkedChange {
            source: ChangeSource::Wso2,
            tenant: one_line(tenant.unwrap_or("organization"), LINK_TEXT_CHARS),
            user_id,
            reference: report.request_id.clone(),
            at: report.at,
            changed_by,
            lines,
            more: 0,
        })
    }

    /// An Okta change: Okta names the changed attributes, never their values.
    pub fn of_okta(report: &OktaReport<'_>) -> Self {
        let change = report.change;
        LinkedChange {
            source: ChangeSource::Okta,
            tenant: one_line(report.org, LINK_TEXT_CHARS),
            user_id: change.user.id.clone(),
            reference: change.event_id.clone(),
            at: report.at,
            changed_by: match change.changed_by {
                OktaChangedBy::Themselves => ChangedBy::Person,
                OktaChangedBy::AnotherUser => ChangedBy::AnotherUser,
                OktaChangedBy::Application => ChangedBy::Application,
            },
            lines: change
                .watched
                .iter()
                .map(|name| LinkedLine {
                    name: one_line(&okta_attribute_name(name), LINK_TEXT_CHARS),
                    value: None,
                })
                .collect(),
            more: 0,
        }
    }
}
