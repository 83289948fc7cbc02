//! An Okta Event Hook delivery through its steps: read the events, keep the profile changes worth a message in
//! `published` order (each `uuid` once), then for each change send every message not sent before, a few changes
//! at a time, all within the deadline. One audit line per event and one per delivery.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;

use super::HookAnswer;
use super::sent::{Destination, Sent};
use crate::claims::EmailAddress;
use crate::idempotency::{Begin, ChangeKey, Idempotency};
use crate::notify::Notifier;
use crate::notify::channels::DmDelivery;
use crate::notify::messages::okta::{self as messages, OktaReport};
use crate::notify::outcome::Channel;
use crate::notify::settings::NoticeMode;
use crate::okta::{AttributeList, ChangedBy, ProfileChange, Skip, parse_delivery, plan_batch};
use crate::okta_users::OktaUsers;
use crate::upstream::{DeliveryError, DeliveryErrorKind};

/// Changes of one delivery handled at the same time: enough to finish a batch within Okta's 3 s, few enough not
/// to meet Slack's and SES's rate limits all at once.
const CONCURRENT_CHANGES: usize = 4;

/// Everything the Okta route needs, built once at start-up.
pub struct OktaHook {
    pub notifier: Arc<Notifier>,
    pub idempotency: Idempotency,
    /// Okta's Users API, for users whose login is not an address (`OKTA_ORG_URL` + `OKTA_API_TOKEN`).
    pub users: Option<Arc<dyn OktaUsers>>,
    pub watched: AttributeList,
    pub alerted: AttributeList,
    /// The org's host, to name it in messages (`OKTA_ORG_URL`; else the delivery's `source`).
    pub org: Option<String>,
    pub deadline: Duration,
}

/// How an event reached profile-guard: its audit line says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Okta delivered it to the hook.
    Hook,
    /// A catch-up run read it from the System Log.
    Catchup,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Hook => "hook",
            Via::Catchup => "catchup",
        }
    }
}

/// What one change came to: each message's fate.
pub struct ChangeOutcome {
    pub sent: Vec<(Destination, Sent)>,
    took: Duration,
}

impl ChangeOutcome {
    /// Messages a later delivery (or catch-up run) could still get out.
    pub fn retryable(&self) -> usize {
        self.sent.iter().filter(|(_, s)| s.retryable()).count()
    }

    /// Whether this change sent a message now (not only found them sent before).
    pub fn sent_any(&self) -> bool {
        self.sent.iter().any(|(_, s)| *s == Sent::Sent)
    }
}

impl OktaHook {
    /// Handles one delivery that arrived at `started`.
    pub async fn handle(&self, body: &[u8], started: Instant) -> HookAnswer {
        let deadline = started + self.deadline;
        let delivery = match parse_delivery(body) {
            Ok(delivery) => delivery,
            Err(e) => {
                let answer = HookAnswer::NotADelivery(e.to_string());
                log_delivery(&answer, 0, &[], 0, started);
                return answer;
            }
        };
        let total = delivery.events.len();
        let (changes, skipped) = plan_batch(delivery.events, &self.watched, &self.alerted);
        let org = self
            .org
            .as_deref()
            .or(delivery.org.as_deref())
            .unwrap_or("Okta");
        let outcomes = self.send_changes(&changes, org, deadline, Via::Hook).await;
        let retry: usize = outcomes.iter().map(ChangeOutcome::retryable).sum();
        let answer = match retry {
            0 => HookAnswer::Done,
            messages => HookAnswer::Retry { messages },
        };
        log_delivery(&answer, total, &skipped, changes.len(), started);
        answer
    }

    /// Every message of `changes` not sent before, within the deadline: started in the order given (`published`),
    /// a few at a time, each remembered per event `uuid` and destination however the event arrived; one audit line
    /// per change.
    pub async fn send_changes(
        &self,
        changes: &[ProfileChange],
        org: &str,
        deadline: Instant,
        via: Via,
    ) -> Vec<ChangeOutcome> {
        let work: Vec<_> = changes
            .iter()
            .map(|change| self.process(change, org, deadline))
            .collect();
        let outcomes: Vec<ChangeOutcome> = futures_util::stream::iter(work)
            .buffered(CONCURRENT_CHANGES)
            .collect()
            .await;
        for (change, outcome) in changes.iter().zip(&outcomes) {
            log_change(change, outcome, via);
        }
        outcomes
    }

    /// Every message of one change not sent before, within the deadline.
    async fn process(&self, change: &ProfileChange, org: &str, deadline: Instant) -> ChangeOutcome {
        let t = Instant::now();
        let report = OktaReport {
            change,
            org,
            at: change.published.unwrap_or_else(SystemTime::now),
        };
        let mut address = None;
        let mut sent = Vec::new();
        for destination in self.destinations(change) {
            let one = self.once(destination, &report, &mut address, deadline);
            let outcome = tokio::time::timeout_at(deadline.into(), one)
                .await
                .unwrap_or(Sent::OutOfTime);
            sent.push((destination, outcome));
        }
        ChangeOutcome {
            sent,
            took: t.elapsed(),
        }
    }

    /// The messages a change asks for, as configured.
    fn destinations(&self, change: &ProfileChange) -> Vec<Destination> {
        let settings = self.notifier.notice_settings();
        let notice = !change.watched.is_empty()
            && match settings.mode {
                NoticeMode::Off => false,
                NoticeMode::Others => change.changed_by != ChangedBy::Themselves,
                NoticeMode::All => true,
            };
        let alert = !change.alerted.is_empty();
        let notices = [
            (settings.channels.email, Destination::NoticeEmail),
            (settings.channels.slack, Destination::NoticeSlack),
        ]
        .into_iter()
        .filter_map(|(on, d)| (notice && on).then_some(d));
        let alerts = self.notifier.alert_channels().into_iter().map(|c| match c {
            Channel::Email => Destination::AlertEmail,
            chat => Destination::AlertChat(chat),
        });
        notices.chain(alerts.filter(|_| alert)).collect()
    }

    /// Sends one message unless an earlier delivery did; remembers it as sent unless a retry could still help.
    async fn once(
        &self,
        destination: Destination,
        report: &OktaReport<'_>,
        address: &mut Option<Result<Option<EmailAddress>, DeliveryError>>,
        deadline: Instant,
    ) -> Sent {
        let key = ChangeKey::of_event("okta", &report.change.event_id, destination.as_str());
        let ticket = match self.idempotency.begin(&key, deadline).await {
            Begin::Owner(ticket) => ticket,
            Begin::Replay { .. } => return Sent::AlreadySent,
            Begin::StillInProgress => return Sent::InProgress,
        };
        let sent = self.send(destination, report, address, deadline).await;
        ticket.settle_event(sent.retryable()).await;
        sent
    }

    async fn send(
        &self,
        destination: Destination,
        report: &OktaReport<'_>,
        address: &mut Option<Result<Option<EmailAddress>, DeliveryError>>,
        deadline: Instant,
    ) -> Sent {
        let n = &self.notifier;
        let support = n.notice_settings().support_contact.as_deref();
        match destination {
            Destination::AlertEmail => {
                match messages::okta_alert(n.templates(), report, n.recipients()) {
                    Ok(email) => delivered(n.send_email(&email).await.map(|_| ())),
                    Err(e) => not_rendered(e.name),
                }
            }
            Destination::AlertChat(channel) => match n.chat(channel) {
                Some(chat) => delivered(chat.post(&messages::okta_chat_alert(report)).await),
                None => Sent::Skipped("no_chat_channel"),
            },
            Destination::NoticeEmail | Destination::NoticeSlack => {
                if address.is_none() {
                    *address = Some(self.address_of(report.change).await);
                }
                let to = match address.as_ref() {
                    Some(Ok(Some(to))) => to.clone(),
                    Some(Err(e)) => return Sent::Failed(e.clone()),
                    _ => return Sent::Skipped("no_address"),
                };
                if destination == Destination::NoticeEmail {
                    match n.okta_notice(report, &to, support) {
                        Ok(email) => delivered(n.send_email(&email).await.map(|_| ())),
                        Err(e) => not_rendered(e.name),
                    }
                } else {
                    self.direct_message(report, &to, support, deadline).await
                }
            }
        }
    }

    async fn direct_message(
        &self,
        report: &OktaReport<'_>,
        to: &EmailAddress,
        support: Option<&str>,
        deadline: Instant,
    ) -> Sent {
        let n = &self.notifier;
        let Ok(text) = n.okta_notice_slack(report, support) else {
            return not_rendered("okta-notice.slack.txt");
        };
        match n.send_dm(to, &text, deadline).await {
            Ok(DmDelivery::Sent) => Sent::Sent,
            Ok(DmDelivery::NoSuchUser) => Sent::Skipped("no_slack_user"),
            Err(e) => Sent::Failed(e),
        }
    }

    /// The person's address: the login when it is one, else `profile.email` from Okta's Users API.
    async fn address_of(
        &self,
        change: &ProfileChange,
    ) -> Result<Option<EmailAddress>, DeliveryError> {
        let login = change.user.login.as_deref();
        if let Some(address) = login.and_then(|l| EmailAddress::parse(l).ok()) {
            return Ok(Some(address));
        }
        match &self.users {
            Some(users) => users.email_of(&change.user.id).await,
            None => Ok(None),
        }
    }
}

fn delivered(result: Result<(), DeliveryError>) -> Sent {
    match result {
        Ok(()) => Sent::Sent,
        Err(e) => Sent::Failed(e),
    }
}

fn not_rendered(template: &str) -> Sent {
    Sent::Failed(DeliveryError::new(
        DeliveryErrorKind::Build,
        format!("template {template} did not render"),
    ))
}

/// A list field is left out of the line when it is empty.
fn non_empty(joined: String) -> Option<String> {
    (!joined.is_empty()).then_some(joined)
}

/// The audit line of one change: who, what (attribute names only), and each message's fate.
fn log_change(change: &ProfileChange, outcome: &ChangeOutcome, via: Via) {
    let sent: Vec<String> = outcome
        .sent
        .iter()
        .map(|(d, s)| format!("{}:{s}", d.as_str()))
        .collect();
    tracing::info!(
        target: "profile_guard::audit",
        source = "okta",
        via = via.as_str(),
        event_id = %change.event_id,
        user_id = %change.user.id,
        changed_by = change.changed_by.as_str(),
        watched_changed = non_empty(change.watched.join(",")),
        alert_changed = non_empty(change.alerted.join(",")),
        messages = %sent.join(","),
        total_ms = outcome.took.as_millis() as u64,
        "okta event"
    );
}

/// The audit line of one delivery: how many events, what was skipped and why, and the answer.
fn log_delivery(
    answer: &HookAnswer,
    events: usize,
    skipped: &[Skip],
    changes: usize,
    started: Instant,
) {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for skip in skipped {
        *counts.entry(skip.as_str()).or_default() += 1;
    }
    let skipped: Vec<String> = counts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    let (decision, detail) = match answer {
        HookAnswer::Done => ("done", None),
        HookAnswer::Retry { messages } => ("retry", Some(format!("{messages} messages to retry"))),
        HookAnswer::NotADelivery(why) => ("not_a_delivery", Some(crate::text::one_line(why, 200))),
        HookAnswer::Stale(why) => ("stale_delivery", Some(crate::text::one_line(why, 200))),
    };
    tracing::info!(
        target: "profile_guard::audit",
        source = "okta",
        events,
        changes,
        skipped = non_empty(skipped.join(",")),
        decision,
        detail = detail.as_deref(),
        total_ms = started.elapsed().as_millis() as u64,
        "okta delivery"
    );
}
