//! The notifier: who hears of a change, and how. It owns the outbox, the chat channel, the recipients, the
//! templates, the channels and how values are shown; the pipeline hands it the changes and gets typed messages
//! and outcomes back.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::alert::AlertChannels;
use super::chat::ChatAlert;
use super::mask::ValueDisplay;
use super::notice::NoticeSettings;
use super::notice::{self, NoNotice, NoticeContext, NoticePlan};
use super::outcome::{Channel, ChannelOutcome, DmOutcome, NoticeOutcome, NoticeRecipients};
use super::slack::ChatSender;
use super::slack_dm::{DirectMessenger, DmDelivery};
use super::templates::{RenderError, Templates};
use super::{ChangeReport, Email, Outbox, alert};
use crate::action::ActionRequest;
use crate::claims::EmailAddress;
use crate::policy::{Change, Update};

pub struct Notifier {
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
    /// `ALERT_QUEUE_URL` is set: the request path queues alerts, the consumer renders and sends them.
    pub queued: bool,
}

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

/// The alert of one change, rendered before it may be sent.
pub struct PreparedAlert {
    report: ChangeReport,
    /// `None` when the e-mail channel is off.
    email: Option<Result<Email, RenderError>>,
}

/// A notice ready to render and send on each configured channel, or why there is none.
pub type PreparedNotice = Result<NoticeDraft, NoticeOutcome>;

/// One notice, worked out but not yet rendered: what it says and where it goes. It can wait for the change to be
/// committed (`USER_NOTICE_WHEN=commit`), so it is plain data that survives a trip through the shared store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeDraft {
    pub context: NoticeContext,
    /// The e-mail's recipients; empty when e-mail is not a notice channel.
    to: Vec<EmailAddress>,
    old_address: bool,
    /// Whom to find in Slack: the address the person had before the change; `None` when Slack is not a channel.
    slack_to: Option<EmailAddress>,
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

    /// Renders what may have to be sent.
    pub fn prepare(&self, audience: &Audience<'_>, request_id: &str, now: SystemTime) -> Prepared {
        let req = audience.req;
        let alert = (!audience.sensitive.is_empty()).then(|| {
            let report = ChangeReport::new(req, request_id, &audience.sensitive, self.values, now);
            // A queued alert is rendered by the consumer, per channel: nothing to render on the request path.
            let email = (self.channels.email && !self.queued)
                .then(|| alert::security_alert(&self.templates, &report, &self.recipients));
            PreparedAlert { report, email }
        });
        let notice = match &audience.notice {
            Err(why) => Err(NoticeOutcome::Skipped(*why)),
            Ok(plan) => {
                let report =
                    ChangeReport::new(req, request_id, &audience.watched, self.values, now);
                Ok(self.draft(req, &report, plan))
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

    /// Sends the alert on every configured channel at once.
    pub async fn send_alert(&self, alert: PreparedAlert) -> Vec<ChannelOutcome> {
        let email = async {
            Some(match alert.email? {
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
        let chat_alert = ChatAlert::of_report(&alert.report);
        let chats = futures_util::future::join_all(
            self.chats
                .iter()
                .map(|chat| post_chat(chat.as_ref(), &chat_alert)),
        );
        let (email, chats) = tokio::join!(email, chats);
        let outcomes: Vec<ChannelOutcome> = email.into_iter().chain(chats).collect();
        for failure in outcomes.iter().filter(|o| !o.is_sent()) {
            tracing::warn!(
                target: "profile_guard::alert",
                request_id = %alert.report.request_id,
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
                            DmOutcome::Failed(super::DeliveryError::new(
                                super::DeliveryErrorKind::Timeout,
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
        let Some(messenger) = self.dm.as_ref() else {
            // Start-up builds the messenger whenever slack is a notice channel; this only guards the type.
            return DmOutcome::Failed(super::DeliveryError::new(
                super::DeliveryErrorKind::Build,
                "no Slack bot token",
            ));
        };
        match messenger.send_dm(to, text, until).await {
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

/// The alert on one chat channel.
pub async fn post_chat(chat: &dyn ChatSender, alert: &ChatAlert) -> ChannelOutcome {
    let channel = chat.channel();
    match chat.post(alert).await {
        Ok(()) => ChannelOutcome::Sent {
            channel,
            message_id: None,
        },
        Err(error) => ChannelOutcome::Failed { channel, error },
    }
}
