//! The consumer function (`FUNCTION_ROLE=alert-consumer`): Lambda's SQS event source hands it batches; it answers
//! with the records to redeliver (`ReportBatchItemFailures`).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{LambdaEvent, service_fn};

use super::StartupError;
use crate::consumer::AlertConsumer;
use crate::consumer::sqs_event::{BatchResponse, SqsEvent};

pub(super) async fn run(consumer: Arc<AlertConsumer>) -> Result<(), StartupError> {
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let consumer = Arc::clone(&consumer);
        async move {
            let deadline = deadline_of(event.context.deadline);
            let records = event.payload.into_records();
            let failed = consumer.handle(&records, deadline).await;
            Ok::<_, lambda_runtime::Error>(BatchResponse::of(failed))
        }
    });
    lambda_runtime::run(handler)
        .await
        .map_err(|e| StartupError::Lambda(e.to_string()))
}

/// A batch's time when the runtime gives no usable deadline (a local emulator may send none): well inside the
/// template's 60 s timeout.
const FALLBACK_BUDGET: Duration = Duration::from_secs(30);

/// The invocation's deadline (epoch milliseconds) as an instant on this clock.
pub(super) fn deadline_of(epoch_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    match epoch_ms.checked_sub(now_ms).filter(|left| *left > 0) {
        Some(left) => Instant::now() + Duration::from_millis(left),
        None => Instant::now() + FALLBACK_BUDGET,
    }
}
