//! The catch-up's record in the once-per-change DynamoDB table: one item, `id` `cur-okta-system-log`, `status`
//! CURSOR, the cursor (`cursor_ms`, epoch milliseconds, and `cursor_uuid`), the lease (`lease_owner`,
//! `lease_until_ms`) and `expiration` (the table's TTL attribute), moved on at every write. Every change is one
//! conditional update, so two instances never both hold the lease and a run without it never moves the cursor.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::store::{CatchupStore, Lease};
use crate::idempotency::StoreError;
use crate::okta::Cursor;

const ID: &str = "cur-okta-system-log";
/// Okta keeps its log 90 days: a cursor older than that is worth nothing.
const KEPT: Duration = Duration::from_secs(90 * 86400);

pub struct DynamoCatchupStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoCatchupStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoCatchupStore { client, table }
    }

    fn update(
        &self,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", s(ID))
    }
}

fn millis(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()
}

fn n(v: u128) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn expiration() -> AttributeValue {
    n(u128::from(
        (SystemTime::now() + KEPT)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
    ))
}

/// `Ok(false)` for a failed condition, the error otherwise.
fn conditional<T>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<
            aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        >,
    >,
) -> Result<Option<T>, StoreError> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(StoreError::of(&e)),
    }
}

/// The cursor an item holds; a missing or malformed one reads as none (the run then starts as the first does).
fn cursor_of(item: &HashMap<String, AttributeValue>) -> Option<Cursor> {
    let ms: u64 = item.get("cursor_ms")?.as_n().ok()?.parse().ok()?;
    let uuid = item.get("cursor_uuid")?.as_s().ok()?.clone();
    Some(Cursor {
        published: UNIX_EPOCH + Duration::from_millis(ms),
        uuid,
    })
}

#[async_trait]
impl CatchupStore for DynamoCatchupStore {
    async fn acquire(&self, owner: &str, until: SystemTime) -> Result<Lease, StoreError> {
        let taken = self
            .update()
            .update_expression("SET #owner = :me, #until = :until, #st = :cursor, #exp = :exp")
            .condition_expression("attribute_not_exists(#until) OR #until < :now")
            .expression_attribute_names("#owner", "lease_owner")
            .expression_attribute_names("#until", "lease_until_ms")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":me", s(owner))
            .expression_attribute_values(":until", n(millis(until)))
            .expression_attribute_values(":cursor", s("CURSOR"))
            .expression_attribute_values(":exp", expiration())
            .expression_attribute_values(":now", n(millis(SystemTime::now())))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        Ok(match conditional(taken)? {
            Some(out) => Lease::Taken {
                cursor: out.attributes().and_then(cursor_of),
            },
            None => Lease::Busy,
        })
    }

    async fn save(&self, owner: &str, cursor: &Cursor) -> Result<bool, StoreError> {
        let saved = self
            .update()
            .update_expression("SET #ms = :ms, #uuid = :uuid, #exp = :exp")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#ms", "cursor_ms")
            .expression_attribute_names("#uuid", "cursor_uuid")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_names("#owner", "lease_owner")
            .expression_attribute_values(":ms", n(millis(cursor.published)))
            .expression_attribute_values(":uuid", s(&cursor.uuid))
            .expression_attribute_values(":exp", expiration())
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        Ok(conditional(saved)?.is_some())
    }

    async fn release(&self, owner: &str) -> Result<(), StoreError> {
        let released = self
            .update()
            .update_expression("REMOVE #owner, #until")
            .condition_expression("#owner = :me")
            .expression_attribute_names("#owner", "lease_owner")
            .expression_attribute_names("#until", "lease_until_ms")
            .expression_attribute_values(":me", s(owner))
            .send()
            .await;
        // Not held any more (it ran out and was taken over): nothing to give up.
        conditional(released).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_cursor_reads_as_none() {
        let item = |ms: &str| {
            HashMap::from([
                ("cursor_ms".to_owned(), AttributeValue::N(ms.to_owned())),
                ("cursor_uuid".to_owned(), s("e1")),
            ])
        };
        let read = cursor_of(&item("1767225600123")).unwrap();
        assert_eq!(millis(read.published), 1_767_225_600_123);
        assert_eq!(read.uuid, "e1");
        assert_eq!(cursor_of(&item("-5")), None);
        assert_eq!(cursor_of(&HashMap::new()), None);
    }
}
