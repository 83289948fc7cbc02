//! The alert queue (`ALERT_QUEUE_URL`): the request path puts each alert on Amazon SQS and answers once SQS has it;
//! the consumer delivers it. A message is one alert, as plain data.

mod batching;
mod message;
mod sqs;

pub use batching::{Batcher, BatchingQueue};
pub use message::{QueuedAlert, Unreadable};
pub use sqs::{AlertQueue, Received, SqsQueue};
