//! The shared record in DynamoDB, so that a retry landing on another instance is caught too: partition key `id`,
//! `status` INPROGRESS or COMPLETED, `expiration` (epoch seconds, the table's TTL attribute),
//! `in_progress_expiration` (epoch milliseconds), `data` (the answer).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::store::{Record, Store, StoreError};
use crate::action::ActionResponse;
use crate::upstream;

pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl StoreError {
    /// An AWS SDK error, read as every AWS call's error is: the service's code, or what kept it from answering.
    pub fn of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Self {
        StoreError(upstream::aws::read(e).code().to_owned())
    }
}

fn epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn n(v: u128) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoStore { client, table }
    }
}

#[async_trait]
impl Store for DynamoStore {
    /// A conditional put: no record, an expired one, or an INPROGRESS one whose owner has given up.
    async fn claim(
        &self,
        id: &str,
        in_progress_until: SystemTime,
        ttl: Duration,
        overwrite: bool,
    ) -> Result<bool, StoreError> {
        let now = SystemTime::now();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", s(id))
            .item("status", s("INPROGRESS"))
            .item("expiration", n(u128::from(epoch(now + ttl).as_secs())))
            .item(
                "in_progress_expiration",
                n(epoch(in_progress_until).as_millis()),
            );
        if !overwrite {
            put = put
                .condition_expression(
                    "attribute_not_exists(#id) OR #exp < :now OR (#st = :inprogress AND #ipe < :now_ms)",
                )
                .expression_attribute_names("#id", "id")
                .expression_attribute_names("#exp", "expiration")
                .expression_attribute_names("#st", "status")
                .expression_attribute_names("#ipe", "in_progress_expiration")
                .expression_attribute_values(":now", n(u128::from(epoch(now).as_secs())))
                .expression_attribute_values(":now_ms", n(epoch(now).as_millis()))
                .expression_attribute_values(":inprogress", s("INPROGRESS"));
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::of(&e)),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::of(&e))?;
        Ok(out.item().and_then(read_record))
    }

    async fn complete(
        &self,
        id: &str,
        response: &ActionResponse,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let expires = epoch(SystemTime::now() + ttl).as_secs();
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", s(id))
            .update_expression("SET #st = :done, #d = :data, #exp = :exp")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#d", "data")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":done", s("COMPLETED"))
            .expression_attribute_values(":data", s(&response.to_stored()))
            .expression_attribute_values(":exp", n(u128::from(expires)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreError::of(&e))
    }

    async fn delete(&self, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", s(id))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreError::of(&e))
    }
}

/// Reads an item; `None` when it has expired (DynamoDB deletes by TTL only eventually).
fn read_record(item: &std::collections::HashMap<String, AttributeValue>) -> Option<Record> {
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u128>().ok())
    };
    let now = epoch(SystemTime::now());
    let Some(expiration) = number("expiration") else {
        return Some(Record::Foreign);
    };
    if expiration < u128::from(now.as_secs()) {
        return None;
    }
    let status = item.get("status").and_then(|v| v.as_s().ok());
    Some(match status.map(String::as_str) {
        Some("COMPLETED") => item
            .get("data")
            .and_then(|v| v.as_s().ok())
            .and_then(|d| ActionResponse::from_stored(d))
            .map_or(Record::Foreign, Record::Completed),
        Some("INPROGRESS") => match number("in_progress_expiration") {
            Some(t) if t >= now.as_millis() => Record::InProgress,
            // A stale claim: the owner gave up; the conditional put takes it over.
            Some(_) => return None,
            None => Record::Foreign,
        },
        _ => Record::Foreign,
    })
}
