//! Queued alerts through the real router and the real consumer, with moto's SQS and SES: the request path answers
//! once SQS has the alert; the consumer sends single alerts or digests, splits them, reports partial failures,
//! paces and stops on throttling; the metric lines.

mod consumer;
mod path;

use serde_json::json;

use crate::support::{SesScope, TestApp, moto, sqs_queue};
use profile_guard::consumer::Record;

/// A change of a sensitive attribute by an administrator, its own request id, in `tenant`.
pub fn change(tenant: &str, n: usize) -> String {
    json!({"requestId": format!("q-{tenant}-{n}-{}", uuid::Uuid::new_v4().simple()), "actionType": "PRE_UPDATE_PROFILE",
        "event": {"request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": format!("+9477{n:07}")}]},
        "tenant": {"id": tenant, "name": format!("{tenant}.example")},
        "user": {"id": format!("user-{n}"), "claims": []},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"}, "initiatorType": "ADMIN", "action": "UPDATE"}})
    .to_string()
}

/// The app with a fresh queue; `extra` adds variables.
pub async fn queued_app(ses: &SesScope, extra: &[(&str, &str)]) -> (TestApp, String) {
    let queue = sqs_queue(1).await;
    let endpoint = moto().endpoint.clone();
    let mut vars = ses.vars();
    vars.push(("ALERT_QUEUE_URL", queue.as_str()));
    vars.push(("AWS_ENDPOINT_URL_SQS", endpoint.as_str()));
    vars.extend_from_slice(extra);
    (TestApp::new(&vars).await, queue)
}

/// Takes every message waiting in the queue (as the event source would hand them over).
pub async fn drain(queue: &str) -> Vec<Record> {
    let client = aws_sdk_sqs::Client::new(&crate::support::moto_sdk().await);
    let mut records = Vec::new();
    loop {
        let out = client
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("the emulator answers");
        let batch: Vec<Record> = out
            .messages()
            .iter()
            .map(|m| Record {
                id: m.message_id().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
            })
            .collect();
        if batch.is_empty() {
            return records;
        }
        records.extend(batch);
    }
}
