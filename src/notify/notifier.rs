//! The front door of `notify`: the one place that knows which channels are on and how each message leaves. Its
//! parts are private; the request pipeline, the hooks and the consumer ask it.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::audience::{Audience, NoticeDraft, Prepared, PreparedAlert, PreparedNotice};
use super::channels::{ChatSender, Delivery, DirectMessenger, DmDelivery, Outbox};
use super::messages::chat::ChatAlert;
use super::messages::notice::{self, NoticePlan};
use super::messages::templates::{RenderError, Templates};
use super::messages::{ChangeReport, Email, alert};
use super::outcome::{Channel, ChannelOutcome, DmOutcome, NoticeOutcome, NoticeRecipients};
use super::report_link::ReportLinks;
use super::settings::{AlertChannels, NoticeSettings, ValueDisplay};
use crate::action::ActionRequest;
use crate::claims::EmailAddress;
use crate::policy::{Change, Update};
use crate::upstream::{DeliveryError, DeliveryErrorKind};

/// Who hears of a change, and how: built once at start-up.
pub struct Notifier {
    email: Arc<dyn Outbox>,
    chats: Vec<Arc<dyn ChatSender>>,
    dm: Option<Arc<dyn DirectMessenger>>,
    pub(super) channels: AlertChannels,
    pub(super) recipients: Vec<EmailAddress>,
    pub(super) values: ValueDisplay,
    pub(super) notice: NoticeSettings,
    pub(super) templates: Arc<Templates>,
    pub(super) links: Option<Arc<dyn ReportLinks>>,
}

/// What a notifier is built from (start-up fills it from the configuration and the secrets).
pub struct NotifierParts {
    /// Where e-mail goes (SES or the log outbox): alerts and notices.
    pub email: Arc<dyn Outbox>,
    /// The chat channels the alert goes to (Slack, Teams), each on when configured.
    pub chats: Vec<Arc<dyn ChatSender>>,
    /// Slack direct messages for the person's notice, when `USER_NOTICE_CHANNELS` names slack.
    pub dm: Option<Arc<dyn DirectMessenger>>,
    pub channels: AlertChannels,
    /// The security team.
    pub recipients: Vec<EmailAddress>,
    pub values: ValueDisplay,
    pub notice: NoticeSettings,
    pub templates: Arc<Templates>,
    /// The "This wasn't me" link in every notice, when reports are on (`REPORT_URL_BASE`).
    pub links: Option<Arc<dyn ReportLinks>>,
}

impl Notifier {
    pub fn new(p: NotifierParts) -> Self {
        Notifier {
            email: p.email,
            chats: p.chats,
            dm: p.dm,
            channels: p.channels,
            recipients: p.recipients,
            values: p.values,
            notice: p.notice,
            templates: p.templates,
            links: p.links,
        }
    }

    /// The channels that carry the security alert: e-mail when it is on, then each chat channel.
    pub fn alert_channels(&self) -> Vec<Channel> {
        let email = self.channels.email.then_some(Channel::Email);
        email
            .into_iter()
            .chain(self.chats.iter().map(|c| c.channel()))
            .collect()
    }

    /// The sender of one chat channel, when it is on.
    pub fn chat(&self, channel: Channel) -> Option<&dyn ChatSender> {
        self.chats
            .iter()
            .find(|c| c.channel() == channel)
            .map(|c| c.as_ref())
    }

    /// The security team's addresses.
    pub fn recipients(&self) -> &[EmailAddress] {
        &self.recipients
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Who is told, on which channels, with which support contact.
    pub fn notice_settings(&self) -> &NoticeSettings {
        &self.notice
    }

    /// Where e-mail goes, for the start-up line.
    pub fn describe_email(&self) -> String {
        self.email.describe()
    }

    /// One e-mail, rendered by the caller (an Okta message, a digest).
    pub async fn send_email(&self, email: &Email) -> Result<Delivery, DeliveryError> {
        self.email.send(email).await
    }

    /// One Slack direct message, posted only if it can be before `until`.
    pub async fn send_dm(
        &self,
        to: &EmailAddress,
        text: &str,
        until: Instant,
    ) -> Result<DmDelivery, DeliveryError> {
        match self.dm.as_ref() {
            Some(dm) => dm.send_dm(to, text, until).await,
            // Start-up builds the messenger whenever slack is a notice channel; this only guards the type.
            None => Err(DeliveryError::new(
                DeliveryErrorKind::Build,
                "no Slack bot token",
            )),
        }
    }

    /// Sends the alert on every configured channel at once.
    pub async fn send_alert(&self, alert: PreparedAlert) -> Vec<ChannelOutcome> {
        let report = &alert.report;
        let email = || alert::security_alert(&self.templates, report, &self.recipients);
        let chat = ChatAlert::of_report(report);
        self.alert_everywhere(email, &chat, &report.request_id)
            .await
    }

    /// One alert on every configured channel at once: the e-mail (rendered only when e-mail is on) and the chat
    /// message. `reference` names the change in the warning a failed channel writes.
    pub(super) async fn alert_everywhere(
        &self,
        render_email: impl FnOnce() -> Result<Email, RenderError>,
        chat_alert: &ChatAlert,
        reference: &str,
    ) -> Vec<ChannelOutcome> {
        let email = async {
            if !self.channels.email {
                return None;
            }
            Some(match render_email() {
                Ok(message) => match self.email.send(&message).await {
                    Ok(d) => ChannelOutcome::Sent {
                        channel: Channel::Email,
                        message_id: Some(d.message_id),
                    },
                    Err(error) => ChannelOutcome::Failed {
                        channel: Channel::Email,
                        error,
                    },
                },
                Err(e) => ChannelOutcome::NotRendered {
                    channel: Channel::Email,
                    template: e.name,
                },
            })
        };
        let chats = futures_util::future::join_all(
            self.chats
                .iter()
                .map(|chat| post_chat(chat.as_ref(), chat_alert)),
        );
        let (email, chats) = tokio::join!(email, chats);
        let outcomes: Vec<ChannelOutcome> = email.into_iter().chain(chats).collect();
        for failure in outcomes.iter().filter(|o| !o.is_sent()) {
            tracing::warn!(
                target: "profile_guard::alert",
                request_id = %reference,
                channel_failure = %failure,
                "a security alert channel did not take the alert"
            );
        }
        outcomes
    }

    /// Tells the person on each configured channel at once; a failure on one never stops the other, and never
    /// changes the answer. Each channel stops at `until` on its own, so the outcome says which one went out before
    /// the deadline. With e-mail alone the outcome reads as it always did.
    pub async fn send_notice(&self, notice: PreparedNotice, until: Instant) -> NoticeOutcome {
        let draft = match notice {
            Ok(draft) => draft,
            Err(outcome) => return outcome,
        };
        let email = async {
            if draft.to.is_empty() {
                return None;
            }
            let recipients = match draft.old_address {
                true => NoticeRecipients::OldAddress,
                false => NoticeRecipients::CurrentAddress,
            };
            Some(
                match notice::render_email(&self.templates, &draft.context, draft.to.clone()) {
                    Ok(message) => {
                        let sent = self.send_notice_email(message, recipients);
                        (tokio::time::timeout_at(until.into(), sent).await)
                            .unwrap_or(NoticeOutcome::OutOfTime)
                    }
                    Err(e) => NoticeOutcome::NotRendered { template: e.name },
                },
            )
        };
        let slack = async {
            let to = draft.slack_to.as_ref()?;
            Some(
                match notice::render_slack(&self.templates, &draft.context) {
                    Ok(text) => {
                        let sent = self.send_notice_dm(to, &text, until);
                        (tokio::time::timeout_at(until.into(), sent).await).unwrap_or_else(|_| {
                            DmOutcome::Failed(DeliveryError::new(
                                DeliveryErrorKind::Timeout,
                                "the deadline came first",
                            ))
                        })
                    }
                    Err(e) => DmOutcome::NotRendered { template: e.name },
                },
            )
        };
        match tokio::join!(email, slack) {
            (email, Some(slack)) => NoticeOutcome::Channels {
                email: email.map(Box::new),
                slack,
            },
            (Some(email), None) => email,
            // Only when a Slack-only notice had nobody to look up (a plan always has an address).
            (None, None) => NoticeOutcome::Skipped(notice::NoNotice::NoAddress),
        }
    }

    async fn send_notice_email(
        &self,
        message: Email,
        recipients: NoticeRecipients,
    ) -> NoticeOutcome {
        match self.email.send(&message).await {
            Ok(d) => NoticeOutcome::Sent {
                message_id: d.message_id,
                recipients,
            },
            Err(e) => {
                tracing::warn!(
                    target: "profile_guard::notice",
                    error_kind = %e.kind,
                    error = %e.detail,
                    "the user notice could not be delivered; the update goes ahead"
                );
                NoticeOutcome::Failed(e)
            }
        }
    }

    async fn send_notice_dm(&self, to: &EmailAddress, text: &str, until: Instant) -> DmOutcome {
        match self.send_dm(to, text, until).await {
            Ok(DmDelivery::Sent) => DmOutcome::Sent,
            Ok(DmDelivery::NoSuchUser) => DmOutcome::NoSlackUser,
            Err(e) => {
                tracing::warn!(
                    target: "profile_guard::notice",
                    channel = "slack",
                    error_kind = %e.kind,
                    error = %e.detail,
                    "the user notice could not be sent as a Slack message; the update goes ahead"
                );
                DmOutcome::Failed(e)
            }
        }
    }
}

impl Notifier {
    /// Who hears of `update`, given its sensitive changes.
    pub fn audience<'a>(
        &self,
        req: &'a ActionRequest,
        update: &Update<'a>,
        sensitive: Vec<Change<'a>>,
    ) -> Audience<'a> {
        let watched = update.notice_changes(&self.notice.claims);
        let notice = notice::plan(req, &watched, &self.notice);
        Audience {
            req,
            sensitive,
            watched,
            notice,
        }
    }

    /// What may have to be sent: the alert's report and the notice, not yet rendered.
    pub fn prepare(&self, audience: &Audience<'_>, request_id: &str, now: SystemTime) -> Prepared {
        let req = audience.req;
        let alert = (!audience.sensitive.is_empty()).then(|| {
            let report = ChangeReport::new(req, request_id, &audience.sensitive, self.values, now);
            PreparedAlert { report }
        });
        let notice = match &audience.notice {
            Err(why) => Err(NoticeOutcome::Skipped(*why)),
            Ok(plan) => {
                let report =
                    ChangeReport::new(req, request_id, &audience.watched, self.values, now);
                let mut draft = self.draft(req, &report, plan);
                draft.context.report_url = self.wso2_report_link(req, &report, &audience.watched);
                Ok(draft)
            }
        };
        Prepared { alert, notice }
    }

    /// The notice for the configured channels, not yet rendered.
    fn draft(&self, req: &ActionRequest, report: &ChangeReport, plan: &NoticePlan) -> NoticeDraft {
        let support = self.notice.support_contact.as_deref();
        let channels = self.notice.channels;
        NoticeDraft {
            context: notice::context_of(req, report, plan, support),
            to: if channels.email {
                plan.to.clone()
            } else {
                Vec::new()
            },
            old_address: plan.email_changed,
            // The person is found by the address the notice goes to: the one they had before any change.
            slack_to: plan.to.first().filter(|_| channels.slack).cloned(),
        }
    }
}

/// The alert on one chat channel.
async fn post_chat(chat: &dyn ChatSender, alert: &ChatAlert) -> ChannelOutcome {
    let channel = chat.channel();
    match chat.post(alert).await {
        Ok(()) => ChannelOutcome::Sent {
            channel,
            message_id: None,
        },
        Err(error) => ChannelOutcome::Failed { channel, error },
    }
}
