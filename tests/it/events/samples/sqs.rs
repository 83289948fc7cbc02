//! SQS batches for the consumer of the alert queue: alerts exactly as the endpoint queues them.

use std::time::{Duration, UNIX_EPOCH};

use md5::Digest;
use serde_json::json;

use profile_guard::action::Initiator;
use profile_guard::consumer::sqs_event::BatchResponse;
use profile_guard::notify::mask::ValueDisplay;
use profile_guard::notify::{ChangeReport, ChangedAttribute};
use profile_guard::queue::QueuedAlert;

use super::Sample;
use super::gateway::SENT_MS;
use crate::events::json::{Json, object};

/// One alert as the endpoint queues it (`ALERT_QUEUE_URL`): the report, values already masked.
fn queued_alert(tenant: &str, n: u64) -> String {
    let first_word = tenant.split(' ').next().unwrap_or(tenant);
    let report = ChangeReport {
        request_id: format!("queued-{first_word}-{n}"),
        user_id: format!("user-{n:04}"),
        shared_user_id: None,
        tenant: tenant.to_owned(),
        organization: None,
        user_store: "DEFAULT".to_owned(),
        initiator: Some(Initiator::Application),
        at: UNIX_EPOCH + Duration::from_millis(SENT_MS) + Duration::from_secs(n),
        attributes: vec![ChangedAttribute {
            name: "Department".to_owned(),
            uri: "http://wso2.org/claims/department".to_owned(),
            old: Some("S***".to_owned()),
            new: "E***".to_owned(),
        }],
        values: ValueDisplay::Masked,
    };
    QueuedAlert::new(report).to_json()
}

/// An SQS event as Lambda's event source hands it to the consumer function.
fn sqs_event(records: &[(String, String)]) -> Json {
    let records = records.iter().map(|(id, body)| {
        let md5: String = md5::Md5::digest(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        object! {
            "messageId": id,
            "receiptHandle": format!("AQEB{id}"),
            "body": body,
            "attributes": object! {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": SENT_MS.to_string(),
                "SenderId": "AROAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": (SENT_MS + 1).to_string(),
            },
            "messageAttributes": Json::object::<String>([]),
            "md5OfBody": md5,
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:profile-guard-AlertQueue",
            "awsRegion": "eu-west-1",
        }
    });
    object! {"Records": records.collect::<Vec<_>>()}
}

pub(super) fn samples(all: &mut Vec<Sample>) {
    let batch = |tenant: &str, count: u64, prefix: &str| -> Vec<(String, String)> {
        (0..count)
            .map(|n| {
                let id = format!("{prefix}-{n:04}-4000-8000-000000000000");
                (id, queued_alert(tenant, n))
            })
            .collect()
    };
    let unreadable = (
        "5b1c0e2a-0003-0000-4000-8000-000000000000".to_owned(),
        "not a queued alert".to_owned(),
    );
    let scenarios = [
        (
            "sqs-single-alerts",
            batch("small.example (7001)", 2, "5b1c0e2a-0001"),
            vec![],
        ),
        (
            "sqs-digest",
            batch("reorg.example (7002)", 7, "5b1c0e2a-0002"),
            vec![],
        ),
        (
            "sqs-unreadable-record",
            vec![unreadable.clone()],
            vec![unreadable.0],
        ),
    ];
    for (name, records, failed) in scenarios {
        let answer =
            serde_json::to_value(BatchResponse::of(failed)).expect("the answer serialises");
        all.push(Sample {
            name: name.to_owned(),
            event: sqs_event(&records),
            body: None,
            expected: json!({ "answer": answer }),
        });
    }
}
