//! The notifier's share of "This wasn't me": the link in every notice when reports are on, and the urgent alert
//! a report raises.

use super::messages::okta::{self as okta_messages, OktaReport};
use super::messages::report::{self, ReportAlert};
use super::messages::templates::RenderError;
use super::messages::{ChangeReport, Email};
use super::notifier::Notifier;
use super::outcome::ChannelOutcome;
use super::report_link::LinkedChange;
use crate::action::ActionRequest;
use crate::claims::EmailAddress;
use crate::policy::Change;

impl Notifier {
    /// Whether notices carry a report link.
    pub fn reports_on(&self) -> bool {
        self.links.is_some()
    }

    /// The link for a WSO2 notice about `report` (the watched changes of `req`), when reports are on.
    pub(super) fn wso2_report_link(
        &self,
        req: &ActionRequest,
        report: &ChangeReport,
        watched: &[Change<'_>],
    ) -> Option<String> {
        let links = self.links.as_ref()?;
        let change = LinkedChange::of_wso2(req, report, watched, self.values)?;
        links.link(&change)
    }

    fn okta_report_link(&self, report: &OktaReport<'_>) -> Option<String> {
        let links = self.links.as_ref()?;
        links.link(&LinkedChange::of_okta(report))
    }

    /// The person's notice about an Okta change, by e-mail to `to`.
    pub fn okta_notice(
        &self,
        report: &OktaReport<'_>,
        to: &EmailAddress,
        support: Option<&str>,
    ) -> Result<Email, RenderError> {
        let link = self.okta_report_link(report);
        okta_messages::okta_notice(&self.templates, report, to, support, link)
    }

    /// The person's notice about an Okta change, as a Slack direct message.
    pub fn okta_notice_slack(
        &self,
        report: &OktaReport<'_>,
        support: Option<&str>,
    ) -> Result<String, RenderError> {
        let link = self.okta_report_link(report);
        okta_messages::okta_notice_slack(&self.templates, report, support, link)
    }

    /// The urgent alert of a report, on every configured alert channel at once (never queued: it is rare, and the
    /// reporter waits to see it went out).
    pub async fn send_report_alert(&self, alert: &ReportAlert) -> Vec<ChannelOutcome> {
        let email = || report::report_alert(&self.templates, alert, &self.recipients);
        let chat = report::report_chat_alert(alert);
        self.alert_everywhere(email, &chat, &alert.change.reference)
            .await
    }
}
