//! The alert consumer: delivers the alerts the request path queued (`ALERT_QUEUE_URL`). Per tenant and batch, up to
//! `ALERT_DIGEST_THRESHOLD` changes go out one message each, as before; above it, one digest per channel, split
//! where a channel's limits need it. Each change is remembered per channel once delivered (the once-per-change
//! store), so a redelivered record is never sent twice on a channel, and a record is reported failed (to be
//! redelivered by SQS, and after a few receives parked in the dead-letter queue) until every channel has it. Sends
//! are paced per channel (`ALERT_SEND_RATE`); a throttled channel stops for the rest of the batch.

mod deliver;
pub mod local;
pub mod sqs_event;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use crate::idempotency::Idempotency;
use crate::notify::Notifier;
use crate::notify::channels::pace::Pacer;
use crate::notify::outcome::Channel;
use crate::queue::QueuedAlert;

pub use deliver::Tally;

/// One queue record: SQS's message id (stable across redeliveries) and its body.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub body: String,
}

/// A readable record.
pub(crate) struct Item<'a> {
    pub id: &'a str,
    pub alert: QueuedAlert,
}

/// Everything the consumer needs, built once at start-up.
pub struct AlertConsumer {
    pub notifier: Arc<Notifier>,
    pub idempotency: Idempotency,
    /// `ALERT_DIGEST_THRESHOLD`: most changes per tenant and batch sent one message each.
    pub threshold: usize,
    pub email_pacer: Pacer,
    pub chat_pacers: Vec<(Channel, Pacer)>,
}

impl AlertConsumer {
    pub fn new(
        notifier: Arc<Notifier>,
        idempotency: Idempotency,
        threshold: usize,
        rate: u32,
    ) -> Self {
        let chat_pacers = notifier
            .alert_channels()
            .into_iter()
            .filter(|c| *c != Channel::Email)
            .map(|c| (c, Pacer::per_second(rate)))
            .collect();
        AlertConsumer {
            notifier,
            idempotency,
            threshold,
            email_pacer: Pacer::per_second(rate),
            chat_pacers,
        }
    }

    /// Delivers a batch; the ids of the records to redeliver (not yet on every channel, or unreadable).
    pub async fn handle(&self, records: &[Record], deadline: Instant) -> Vec<String> {
        let started = Instant::now();
        let budget = deadline.saturating_duration_since(started);
        let mut failed = BTreeSet::new();
        let mut items: Vec<Item<'_>> = Vec::new();
        for record in records {
            // A message received twice in one batch (its visibility ran out while the batch gathered) is one.
            if items.iter().any(|i| i.id == record.id) {
                continue;
            }
            match QueuedAlert::parse(&record.body) {
                Ok(alert) => items.push(Item {
                    id: &record.id,
                    alert,
                }),
                Err(e) => {
                    tracing::warn!(target: "profile_guard::consumer", record = %record.id, problem = %e,
                        "a queue record is not a queued alert; it stays in the queue (then the dead-letter queue)");
                    failed.insert(record.id.clone());
                }
            }
        }
        let mut tally = Tally::default();
        for group in by_tenant(&items) {
            let digest = group.len() > self.threshold;
            for channel in self.channels() {
                let unsent = self
                    .deliver(channel, &group, digest, deadline, &mut tally)
                    .await;
                failed.extend(unsent);
            }
            tally.groups += 1;
        }
        tally.log(records.len(), items.len(), failed.len(), (started, budget));
        failed.into_iter().collect()
    }

    fn channels(&self) -> Vec<Channel> {
        self.notifier.alert_channels()
    }

    fn pacer(&self, channel: Channel) -> &Pacer {
        self.chat_pacers
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(&self.email_pacer, |(_, p)| p)
    }
}

/// The items of each tenant, in the order they came.
fn by_tenant<'a, 'b>(items: &'b [Item<'a>]) -> Vec<Vec<&'b Item<'a>>> {
    let mut groups: Vec<Vec<&Item<'a>>> = Vec::new();
    for item in items {
        let same = |g: &&mut Vec<&Item<'a>>| {
            g.first()
                .is_some_and(|f| f.alert.tenant == item.alert.tenant)
        };
        match groups.iter_mut().find(same) {
            Some(group) => group.push(item),
            None => groups.push(vec![item]),
        }
    }
    groups
}
