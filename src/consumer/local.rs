//! Outside Lambda, the consumer runs beside the local server as a long-polling loop: it gathers a batch for a
//! short window (as Lambda's batching window does), delivers it, and deletes what was delivered; the rest is
//! redelivered by SQS after the queue's visibility timeout.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{AlertConsumer, Record};
use crate::queue::{Received, SqsQueue};

/// How long a batch gathers after its first message, and how large it grows at most.
pub const BATCH_WINDOW: Duration = Duration::from_secs(2);
pub const BATCH_MAX: usize = 500;
/// How long one batch may take to deliver.
pub const BATCH_BUDGET: Duration = Duration::from_secs(30);
/// The long poll's wait for a first message.
const POLL_SECS: i32 = 5;

/// Runs until `shutdown` completes.
pub async fn run(
    consumer: Arc<AlertConsumer>,
    queue: Arc<SqsQueue>,
    shutdown: impl Future<Output = ()>,
) {
    tracing::info!(target: "profile_guard::consumer", "alert consumer polling the queue");
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            batch = gather(&queue) => match batch {
                Ok(batch) if !batch.is_empty() => deliver(&consumer, &queue, batch).await,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(target: "profile_guard::consumer", error_kind = %e.kind, error = %e.detail,
                        "the alert queue could not be read; trying again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            },
        }
    }
    tracing::info!(target: "profile_guard::consumer", "alert consumer stopped");
}

/// One batch: the first messages by long poll, then more until the window closes or the queue is empty.
async fn gather(queue: &SqsQueue) -> Result<Vec<Received>, crate::upstream::DeliveryError> {
    let mut batch = queue.receive(10, POLL_SECS).await?;
    if batch.is_empty() {
        return Ok(batch);
    }
    let until = Instant::now() + BATCH_WINDOW;
    while Instant::now() < until && batch.len() < BATCH_MAX {
        let more = queue.receive(10, 0).await?;
        if more.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for message in more {
            // Seen again (its visibility ran out): the newest receipt is the one that deletes it.
            match batch.iter_mut().find(|m| m.id == message.id) {
                Some(seen) => *seen = message,
                None => batch.push(message),
            }
        }
    }
    Ok(batch)
}

async fn deliver(consumer: &AlertConsumer, queue: &SqsQueue, batch: Vec<Received>) {
    let records: Vec<Record> = batch
        .iter()
        .map(|m| Record {
            id: m.id.clone(),
            body: m.body.clone(),
        })
        .collect();
    let failed = consumer
        .handle(&records, Instant::now() + BATCH_BUDGET)
        .await;
    let done: Vec<&Received> = batch.iter().filter(|m| !failed.contains(&m.id)).collect();
    if let Err(e) = queue.delete(&done).await {
        // Not deleted: redelivered, and then found delivered on every channel (nothing is sent twice).
        tracing::warn!(target: "profile_guard::consumer", error_kind = %e.kind, error = %e.detail,
            "delivered messages could not be deleted from the queue");
    }
}
