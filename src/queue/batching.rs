//! Alerts put on the queue in batches when they come in together: each call hands its alert to one task that
//! sends what is waiting (up to 10 messages, SQS's batch limit, and within its 256 KB) in one `SendMessageBatch`,
//! a few batches at a time, and tells each call how its own message fared. A lone alert goes out at once, so an
//! idle endpoint waits no longer than before; under a bulk change, SQS (and its cost) sees a tenth of the calls.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{AlertQueue, QueuedAlert, SqsQueue};
use crate::upstream::{DeliveryError, DeliveryErrorKind};

/// SQS's limits on one `SendMessageBatch`: 10 entries, 256 KB in all (a margin kept for the envelope).
const MAX_ENTRIES: usize = 10;
const MAX_BATCH_BYTES: usize = 240 * 1024;
/// Batches in flight at once.
const IN_FLIGHT: usize = 4;
/// Alerts waiting for a batch at most; a call that finds the line full is refused (a retryable failure).
const WAITING: usize = 4096;

type Reply = oneshot::Sender<Result<String, DeliveryError>>;

pub struct BatchingQueue {
    waiting: mpsc::Sender<(String, Reply)>,
}

/// The task that sends what is waiting; start-up spawns it beside the routes.
pub struct Batcher {
    queue: Arc<SqsQueue>,
    rx: mpsc::Receiver<(String, Reply)>,
}

impl BatchingQueue {
    /// The queue the request path uses, and the task that must run for it to send anything.
    pub fn new(queue: Arc<SqsQueue>) -> (Self, Batcher) {
        let (waiting, rx) = mpsc::channel(WAITING);
        (BatchingQueue { waiting }, Batcher { queue, rx })
    }
}

impl Batcher {
    /// Sends batches until every sender of the queue is gone.
    pub async fn run(self) {
        run(self.queue, self.rx).await;
    }
}

#[async_trait]
impl AlertQueue for BatchingQueue {
    async fn enqueue(&self, alert: &QueuedAlert) -> Result<String, DeliveryError> {
        let (reply, answer) = oneshot::channel();
        let stopped =
            || DeliveryError::new(DeliveryErrorKind::Service, "the queue's sender stopped");
        self.waiting
            .try_send((alert.to_json(), reply))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => DeliveryError::new(
                    DeliveryErrorKind::Throttled,
                    "too many alerts waiting for the queue",
                ),
                mpsc::error::TrySendError::Closed(_) => stopped(),
            })?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes what is waiting, a batch at a time, and sends each batch on its own task.
async fn run(queue: Arc<SqsQueue>, mut rx: mpsc::Receiver<(String, Reply)>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        // Whatever came while waiting for a slot joins this batch.
        let mut bytes = first.0.len();
        let mut batch = vec![first];
        while batch.len() < MAX_ENTRIES {
            match rx.try_recv() {
                Ok(next) if bytes + next.0.len() <= MAX_BATCH_BYTES => {
                    bytes += next.0.len();
                    batch.push(next);
                }
                Ok(next) => {
                    // Too big to join: it goes alone, next.
                    send(Arc::clone(&queue), vec![next]).await;
                    break;
                }
                Err(_) => break,
            }
        }
        let queue = Arc::clone(&queue);
        tokio::spawn(async move {
            send(queue, batch).await;
            drop(slot);
        });
    }
}

async fn send(queue: Arc<SqsQueue>, batch: Vec<(String, Reply)>) {
    let bodies: Vec<&str> = batch.iter().map(|(b, _)| b.as_str()).collect();
    let results = queue.send_batch(&bodies).await;
    for ((_, reply), result) in batch.into_iter().zip(results) {
        let _ = reply.send(result);
    }
}
