//! What runs beside the routes, built by start-up and started by whoever serves them: the alert queue's batching
//! sender, the sweep of pending notices, and (outside Lambda) the loop that drains the alert queue and the one
//! that catches up with Okta's System Log.

use std::future::Future;
use std::sync::Arc;

use crate::catchup::Catchup;
use crate::consumer::AlertConsumer;
use crate::pending::Pending;
use crate::queue::{Batcher, SqsQueue};

#[derive(Default)]
pub struct Background {
    /// Sends the alerts the request path queues (`ALERT_QUEUE_URL`).
    pub(super) batcher: Option<Batcher>,
    /// Reports pending notices that expired unsent (`USER_NOTICE_WHEN=commit`).
    pub(super) sweep: Option<Arc<Pending>>,
    /// Delivers queued alerts beside the local server, as the template's consumer function does.
    pub(super) consumer: Option<(Arc<AlertConsumer>, Arc<SqsQueue>)>,
    /// Reads Okta's System Log every `OKTA_CATCHUP_INTERVAL_SECS` beside the local server, as the template's
    /// scheduled catch-up function does.
    pub(super) catchup: Option<Arc<Catchup>>,
}

impl Background {
    /// Starts the tasks the routes depend on: the batching sender and the sweep. Each ends with the state it
    /// serves.
    pub fn start(&mut self) {
        if let Some(batcher) = self.batcher.take() {
            tokio::spawn(batcher.run());
        }
        if let Some(pending) = self.sweep.take() {
            crate::pending::spawn_sweep(&pending);
        }
    }

    /// Drains the alert queue until `shutdown`, when this process consumes it.
    pub fn consume_until(&mut self, shutdown: impl Future<Output = ()> + Send + 'static) {
        if let Some((consumer, queue)) = self.consumer.take() {
            tokio::spawn(crate::consumer::local::run(consumer, queue, shutdown));
        }
    }

    /// Catches up with Okta's System Log every interval until `shutdown`, when this process does.
    pub fn catch_up_until(&mut self, shutdown: impl Future<Output = ()> + Send + 'static) {
        if let Some(catchup) = self.catchup.take() {
            tokio::spawn(crate::catchup::run_every(catchup, shutdown));
        }
    }

    /// The catch-up, for a caller that runs it itself (a test).
    pub fn catchup(&self) -> Option<Arc<Catchup>> {
        self.catchup.clone()
    }

    /// The consumer and its queue, for a caller that drives them itself (a test).
    pub fn consumer(&self) -> Option<(Arc<AlertConsumer>, Arc<SqsQueue>)> {
        self.consumer.clone()
    }
}
