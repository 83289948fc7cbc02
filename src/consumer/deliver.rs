//! One channel's share of a batch: claim each record for the channel, send single alerts or digest parts at the
//! channel's pace, and settle each claim by what happened.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{AlertConsumer, Item};
use crate::idempotency::{Begin, ChangeKey, Ticket};
use crate::metrics::Metrics;
use crate::notify::ChangeReport;
use crate::notify::messages::chat::ChatAlert;
use crate::notify::messages::{alert, digest};
use crate::notify::outcome::Channel;
use crate::upstream::{DeliveryError, DeliveryErrorKind};

/// Time kept back from the deadline (a send started later might not finish): this much, or a third of what is
/// left when the invocation is short.
const MARGIN: Duration = Duration::from_secs(2);

/// What a batch came to, for its audit line and metrics.
#[derive(Debug, Default)]
pub struct Tally {
    pub groups: usize,
    pub digests: usize,
    /// Messages sent and changes delivered, per channel.
    pub messages: BTreeMap<&'static str, usize>,
    pub delivered: BTreeMap<&'static str, usize>,
    pub failures: BTreeMap<String, usize>,
    pub throttled: usize,
}

/// One message's worth of records with their claims on the channel.
type Unit<'a, 'b> = Vec<(&'b Item<'a>, Ticket)>;

impl AlertConsumer {
    /// Sends `group` on `channel`; the ids not delivered there.
    pub(super) async fn deliver(
        &self,
        channel: Channel,
        group: &[&Item<'_>],
        digest: bool,
        deadline: Instant,
        tally: &mut Tally,
    ) -> Vec<String> {
        let (owned, mut failed) = self.claim(channel, group, deadline).await;
        let size = match (digest, channel) {
            (false, _) => 1,
            (true, Channel::Email) => digest::EMAIL_PART_CHANGES,
            (true, _) => digest::CHAT_PART_CHANGES,
        };
        let units = chunks(owned, size);
        let parts = units.len();
        let left = deadline.saturating_duration_since(Instant::now());
        let cutoff = deadline - MARGIN.min(left / 3);
        let mut stop: Option<DeliveryError> = None;
        for (i, unit) in units.into_iter().enumerate() {
            if stop.is_none() && !self.pacer(channel).free_before(cutoff).await {
                stop = Some(DeliveryError::new(
                    DeliveryErrorKind::Timeout,
                    "batch out of time",
                ));
            }
            let sent = match &stop {
                Some(why) => Err(why.clone()),
                None => {
                    self.pacer(channel).ready().await;
                    self.send(channel, &unit, digest.then_some((i + 1, parts)))
                        .await
                }
            };
            let count = unit.len();
            match sent {
                Ok(()) => {
                    *tally.messages.entry(channel.as_str()).or_default() += 1;
                    *tally.delivered.entry(channel.as_str()).or_default() += count;
                    tally.digests += usize::from(digest);
                    settle(unit, false).await;
                }
                Err(e) => {
                    if stop.is_none() && e.kind == DeliveryErrorKind::Throttled {
                        tally.throttled += 1;
                        stop = Some(e.clone());
                    }
                    *tally
                        .failures
                        .entry(format!("{}:{}", channel.as_str(), e.kind))
                        .or_default() += count;
                    failed.extend(unit.iter().map(|(item, _)| item.id.to_owned()));
                    settle(unit, true).await;
                }
            }
        }
        failed
    }

    /// Claims each record on the channel: those already delivered there are left out; those another consumer
    /// holds are failed for now.
    async fn claim<'a, 'b>(
        &self,
        channel: Channel,
        group: &[&'b Item<'a>],
        deadline: Instant,
    ) -> (Unit<'a, 'b>, Vec<String>) {
        let mut owned = Vec::new();
        let mut failed = Vec::new();
        for item in group {
            let key = ChangeKey::of_event("queue", item.id, channel.as_str());
            match self.idempotency.begin(&key, deadline).await {
                Begin::Owner(ticket) => owned.push((*item, ticket)),
                Begin::Replay { .. } => {}
                Begin::StillInProgress => failed.push(item.id.to_owned()),
            }
        }
        (owned, failed)
    }

    /// One message on the channel: a single alert, or a digest part.
    async fn send(
        &self,
        channel: Channel,
        unit: &Unit<'_, '_>,
        part: Option<(usize, usize)>,
    ) -> Result<(), DeliveryError> {
        let n = &self.notifier;
        let reports: Vec<ChangeReport> = unit.iter().map(|(i, _)| i.alert.report.clone()).collect();
        if channel == Channel::Email {
            let email = match part {
                Some(part) => digest::digest_email(n.templates(), &reports, part, n.recipients()),
                None => alert::security_alert(n.templates(), &reports[0], n.recipients()),
            };
            let email =
                email.map_err(|e| DeliveryError::new(DeliveryErrorKind::Build, e.to_string()))?;
            return n.send_email(&email).await.map(|_| ());
        }
        let Some(chat) = n.chat(channel) else {
            return Err(DeliveryError::new(
                DeliveryErrorKind::Build,
                "no such chat channel",
            ));
        };
        let message = match part {
            Some(part) => digest::digest_chat(&reports, part),
            None => ChatAlert::of_report(&reports[0]),
        };
        chat.post(&message).await
    }
}

fn chunks<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    for item in items {
        match out.last_mut() {
            Some(last) if last.len() < size => last.push(item),
            _ => out.push(vec![item]),
        }
    }
    out
}

/// Remembers each record as delivered on the channel, or releases it for the next delivery.
async fn settle(unit: Unit<'_, '_>, retry: bool) {
    for (_, ticket) in unit {
        ticket.settle_event(retry).await;
    }
}

impl Tally {
    /// The batch's audit line and metrics.
    pub fn log(
        &self,
        records: usize,
        readable: usize,
        failed: usize,
        (started, budget): (Instant, Duration),
    ) {
        let join = |m: &BTreeMap<&'static str, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let failures: Vec<String> = self
            .failures
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        tracing::info!(
            target: "profile_guard::audit",
            source = "alert_queue",
            records,
            unreadable = records - readable,
            tenants = self.groups,
            digests = self.digests,
            messages = %join(&self.messages),
            delivered = %join(&self.delivered),
            failed_records = failed,
            failures = %failures.join(","),
            total_ms = started.elapsed().as_millis() as u64,
            budget_ms = budget.as_millis() as u64,
            "alert batch"
        );
        let mut m = Metrics::default();
        m.count("QueueRecords", records)
            .count("QueueRecordsFailed", failed);
        m.count("DigestsSent", self.digests)
            .count("AlertsThrottled", self.throttled);
        for (channel, n) in &self.delivered {
            m.count(delivered_metric(channel), *n);
        }
        let failed_changes: usize = self.failures.values().sum();
        m.count("AlertsFailed", failed_changes);
        m.emit();
    }
}

fn delivered_metric(channel: &str) -> &'static str {
    match channel {
        "email" => "AlertsDeliveredEmail",
        "slack" => "AlertsDeliveredSlack",
        _ => "AlertsDeliveredTeams",
    }
}
