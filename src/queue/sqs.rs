//! Amazon SQS through its SDK client, built once at start-up (its endpoint overridable with
//! `AWS_ENDPOINT_URL_SQS`).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};

use super::QueuedAlert;
use crate::upstream::{self, DeliveryError, DeliveryErrorKind as Kind};

/// Where the request path puts alerts.
#[async_trait]
pub trait AlertQueue: Send + Sync {
    /// Puts the alert on the queue; SQS's message id once it has it.
    async fn enqueue(&self, alert: &QueuedAlert) -> Result<String, DeliveryError>;
}

/// One message taken from the queue (the local consumer loop; in Lambda the event source takes them).
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub receipt: String,
    pub body: String,
}

pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: String) -> Self {
        SqsQueue { client, url }
    }

    /// Up to `max` (at most 10) messages, waiting up to `wait_secs` for the first (long polling).
    pub async fn receive(&self, max: i32, wait_secs: i32) -> Result<Vec<Received>, DeliveryError> {
        let wait = wait_secs.clamp(0, 20);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait)
            .customize()
            .config_override(longer_than(wait))
            .send()
            .await
            .map_err(|e| sqs_error(&e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(Received {
                    id: m.message_id()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    /// Sends up to 10 messages in one call; each message's own result, in order.
    pub async fn send_batch(&self, bodies: &[&str]) -> Vec<Result<String, DeliveryError>> {
        let entries: Vec<SendMessageBatchRequestEntry> = bodies
            .iter()
            .enumerate()
            .filter_map(|(i, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(*body)
                    .build()
                    .ok()
            })
            .collect();
        let sent = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) => {
                let error = sqs_error(&e);
                return bodies.iter().map(|_| Err(error.clone())).collect();
            }
        };
        (0..bodies.len())
            .map(|i| {
                let id = i.to_string();
                if let Some(ok) = out.successful().iter().find(|s| s.id() == id) {
                    return Ok(ok.message_id().to_owned());
                }
                let failed = out.failed().iter().find(|f| f.id() == id);
                let kind = match failed {
                    Some(f) if f.sender_fault() => Kind::Rejected,
                    _ => Kind::Service,
                };
                let code = failed.map_or("no result", |f| f.code());
                Err(DeliveryError::new(kind, code.to_owned()))
            })
            .collect()
    }

    /// Deletes delivered messages, ten a call.
    pub async fn delete(&self, done: &[&Received]) -> Result<(), DeliveryError> {
        for chunk in done.chunks(10) {
            let entries: Vec<DeleteMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&m.receipt)
                        .build()
                        .ok()
                })
                .collect();
            self.client
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .customize()
                .config_override(longer_than(0))
                .send()
                .await
                .map_err(|e| sqs_error(&e))?;
        }
        Ok(())
    }
}

#[async_trait]
impl AlertQueue for SqsQueue {
    async fn enqueue(&self, alert: &QueuedAlert) -> Result<String, DeliveryError> {
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(alert.to_json())
            .send()
            .await
            .map_err(|e| sqs_error(&e))?;
        Ok(out.message_id().unwrap_or("(none)").to_owned())
    }
}

/// A receive must outlast its long poll: a client that gives up first leaves the messages SQS handed it invisible
/// until their visibility timeout, delivered late.
fn longer_than(wait_secs: i32) -> aws_sdk_sqs::config::Builder {
    let poll = Duration::from_secs(u64::try_from(wait_secs).unwrap_or(0));
    aws_sdk_sqs::config::Builder::default().timeout_config(
        TimeoutConfig::builder()
            .operation_timeout(poll + Duration::from_secs(10))
            .operation_attempt_timeout(poll + Duration::from_secs(5))
            .build(),
    )
}

fn sqs_error<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> DeliveryError {
    DeliveryError::of_aws(upstream::aws::read(e), "SQS", sqs_error_kind)
}

fn sqs_error_kind(code: &str) -> Kind {
    match code {
        "ThrottlingException" | "RequestThrottled" | "KmsThrottled" => Kind::Throttled,
        "AccessDenied"
        | "AccessDeniedException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "ExpiredToken" => Kind::Credentials,
        "QueueDoesNotExist"
        | "AWS.SimpleQueueService.NonExistentQueue"
        | "InvalidMessageContents"
        | "InvalidParameterValue"
        | "UnsupportedOperation" => Kind::Rejected,
        _ => Kind::Service,
    }
}
