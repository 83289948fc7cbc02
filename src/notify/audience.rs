//! Who hears of one change, worked out before anything is checked or sent, and the messages prepared for it: the
//! alert's report and the person's notice, not yet rendered.

use serde::{Deserialize, Serialize};

use super::messages::ChangeReport;
use super::messages::notice::{NoNotice, NoticeContext, NoticePlan};
use super::outcome::{DmOutcome, NoticeOutcome};
use crate::action::ActionRequest;
use crate::claims::EmailAddress;
use crate::policy::Change;

/// Who is to be told about one change, worked out before anything is checked or sent.
pub struct Audience<'a> {
    pub req: &'a ActionRequest,
    /// The sensitive changes: the security team's alert.
    pub sensitive: Vec<Change<'a>>,
    /// The changes the person is told about, and where the notice goes.
    pub watched: Vec<Change<'a>>,
    pub notice: Result<NoticePlan, NoNotice>,
}

impl Audience<'_> {
    /// Whether anything at all will be sent (only then is the change worth remembering).
    pub fn hears_anything(&self) -> bool {
        !self.sensitive.is_empty() || self.notice.is_ok()
    }
}

/// The alert of one change: its report, rendered for each channel when it is sent (by the consumer, when alerts
/// are queued).
pub struct PreparedAlert {
    pub(super) report: ChangeReport,
}

/// A notice ready to render and send on each configured channel, or why there is none.
pub type PreparedNotice = Result<NoticeDraft, NoticeOutcome>;

/// One notice, worked out but not yet rendered: what it says and where it goes. It can wait for the change to be
/// committed (`USER_NOTICE_WHEN=commit`), so it is plain data that survives a trip through the shared store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDraft {
    pub context: NoticeContext,
    /// The e-mail's recipients; empty when e-mail is not a notice channel.
    pub(super) to: Vec<EmailAddress>,
    pub(super) old_address: bool,
    /// Whom to find in Slack: the address the person had before the change; `None` when Slack is not a channel.
    pub(super) slack_to: Option<EmailAddress>,
}

impl NoticeDraft {
    /// What is still owed after `outcome`: the channels that failed in a way a later attempt can heal, without the
    /// ones that went out (so a retry never sends a message twice). `None` when nothing a retry could send is left.
    pub fn still_owed(&self, outcome: &NoticeOutcome) -> Option<NoticeDraft> {
        let (email_owed, slack_owed) = match outcome {
            NoticeOutcome::Channels { email, slack } => (
                email.as_deref().is_some_and(NoticeOutcome::worth_retrying),
                matches!(slack, DmOutcome::Failed(e) if e.kind.retryable()),
            ),
            single => (single.worth_retrying(), false),
        };
        if !email_owed && !slack_owed {
            return None;
        }
        let mut rest = self.clone();
        if !email_owed {
            rest.to.clear();
        }
        if !slack_owed {
            rest.slack_to = None;
        }
        Some(rest)
    }
}

/// The messages of one change.
pub struct Prepared {
    pub alert: Option<PreparedAlert>,
    pub notice: PreparedNotice,
}

impl PreparedAlert {
    /// The report alone, for the alert queue (the consumer renders each channel's message).
    pub fn into_report(self) -> ChangeReport {
        self.report
    }
}
