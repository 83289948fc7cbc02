//! Pending notices in the shared DynamoDB table, beside the once-per-change records: `id` (`pnd-…`), `status`
//! PENDING, `expiration` (epoch seconds, the table's TTL attribute), `notice` (the notice as JSON). Taking one is a
//! conditional delete that returns the item, so of two instances only one gets it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::DynamoStore;
use super::pending::PendingStore;
use super::store::StoreError;

fn epoch_secs(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        .to_string()
}

#[async_trait]
impl PendingStore for DynamoStore {
    async fn put(&self, id: &str, notice: &str, ttl: Duration) -> Result<(), StoreError> {
        let expires = epoch_secs(SystemTime::now() + ttl);
        self.client()
            .put_item()
            .table_name(self.table())
            .item("id", AttributeValue::S(id.to_owned()))
            .item("status", AttributeValue::S("PENDING".into()))
            .item("expiration", AttributeValue::N(expires))
            .item("notice", AttributeValue::S(notice.to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StoreError::of(&e))
    }

    async fn take(&self, id: &str) -> Result<Option<String>, StoreError> {
        let taken = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("id", AttributeValue::S(id.to_owned()))
            .condition_expression("#st = :pending AND #exp >= :now")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":pending", AttributeValue::S("PENDING".into()))
            .expression_attribute_values(":now", AttributeValue::N(epoch_secs(SystemTime::now())))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match taken {
            Ok(out) => Ok(out
                .attributes()
                .and_then(|item| item.get("notice"))
                .and_then(|v| v.as_s().ok())
                .cloned()),
            // Absent, expired (DynamoDB deletes by TTL only eventually) or not a pending notice.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(StoreError::of(&e)),
        }
    }

    async fn discard(&self, id: &str) -> Result<bool, StoreError> {
        let out = self
            .client()
            .delete_item()
            .table_name(self.table())
            .key("id", AttributeValue::S(id.to_owned()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::of(&e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}
