//! The SQS event Lambda's event source hands the consumer function, and the answer that reports partial failures
//! (`ReportBatchItemFailures`): only the records named there are redelivered.

use serde::{Deserialize, Serialize};

use super::Record;

#[derive(Debug, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsRecord {
    pub message_id: String,
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    pub item_identifier: String,
}

impl SqsEvent {
    pub fn into_records(self) -> Vec<Record> {
        self.records
            .into_iter()
            .map(|r| Record {
                id: r.message_id,
                body: r.body,
            })
            .collect()
    }
}

impl BatchResponse {
    pub fn of(failed: Vec<String>) -> Self {
        BatchResponse {
            batch_item_failures: failed
                .into_iter()
                .map(|item_identifier| ItemFailure { item_identifier })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lambdas_sqs_event_and_writes_the_partial_failure_answer() {
        let event: SqsEvent = serde_json::from_str(
            r#"{"Records":[{"messageId":"m-1","receiptHandle":"r","body":"{}","attributes":{"ApproximateReceiveCount":"1"},
            "messageAttributes":{},"md5OfBody":"x","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:eu-west-1:1:q","awsRegion":"eu-west-1"}]}"#,
        )
        .unwrap();
        let records = event.into_records();
        assert_eq!(
            (records[0].id.as_str(), records[0].body.as_str()),
            ("m-1", "{}")
        );
        let answer = serde_json::to_value(BatchResponse::of(vec!["m-1".into()])).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-1"}]})
        );
    }
}
