//! Pending notices in the shared DynamoDB table, beside the once-per-change records: one item per person, `id`
//! `pnd-…`, `status` PENDING, `expiration` (epoch seconds, the table's TTL attribute: the newest notice's end),
//! and `notices`, a list oldest first of `{nid, fam, exp, lease, body}`. Every change to an entry is conditional
//! on its `nid` at its position, so of two instances only one takes, puts back or deletes it.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::change::{Families, Waiting};
use super::store::PendingStore;
use crate::idempotency::StoreError;

/// The item outlives its newest notice by this much, so a late sweep still finds what it left.
const ITEM_GRACE: Duration = Duration::from_secs(3600);

pub struct DynamoPending {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoPending {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoPending { client, table }
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// `Ok(false)` for a failed condition (the entry moved or is gone), the error otherwise.
fn conditional<T, E: ProvideErrorMetadata, R>(
    result: Result<T, SdkError<E, R>>,
) -> Result<bool, StoreError> {
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.code() == Some("ConditionalCheckFailedException")) =>
        {
            Ok(false)
        }
        Err(e) => Err(StoreError::of(&e)),
    }
}

fn entry(w: &Waiting) -> AttributeValue {
    let families = w.families.as_slice().iter().map(|f| s(f)).collect();
    AttributeValue::M(HashMap::from([
        ("nid".to_owned(), s(&w.id)),
        ("fam".to_owned(), AttributeValue::L(families)),
        ("exp".to_owned(), n(w.expires_ms)),
        ("lease".to_owned(), n(w.lease_ms)),
        ("body".to_owned(), s(&w.notice)),
    ]))
}

/// An entry as stored; a malformed one keeps its id (so it is never taken by mistake) and never matches.
fn waiting(v: &AttributeValue) -> Option<Waiting> {
    let m = v.as_m().ok()?;
    let num = |k: &str| m.get(k)?.as_n().ok()?.parse::<u64>().ok();
    let families = m
        .get("fam")
        .and_then(|f| f.as_l().ok())
        .map(|l| l.iter().filter_map(|f| f.as_s().ok().cloned()).collect())
        .unwrap_or_default();
    Some(Waiting {
        id: m.get("nid")?.as_s().ok()?.clone(),
        families: Families::from_stored(families),
        expires_ms: num("exp").unwrap_or(0),
        lease_ms: num("lease").unwrap_or(0),
        notice: m
            .get("body")
            .and_then(|b| b.as_s().ok())
            .cloned()
            .unwrap_or_default(),
    })
}

#[async_trait]
impl PendingStore for DynamoPending {
    async fn append(&self, scope: &str, waiting: &Waiting, max: usize) -> Result<bool, StoreError> {
        let item_ends = Duration::from_millis(waiting.expires_ms) + ITEM_GRACE;
        let put = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(scope))
            .update_expression(
                "SET #n = list_append(if_not_exists(#n, :empty), :one), #st = :pending, #exp = :exp",
            )
            .condition_expression("attribute_not_exists(#n) OR size(#n) < :max")
            .expression_attribute_names("#n", "notices")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":one", AttributeValue::L(vec![entry(waiting)]))
            .expression_attribute_values(":pending", s("PENDING"))
            .expression_attribute_values(":exp", n(item_ends.as_secs()))
            .expression_attribute_values(":max", n(max as u64))
            .send()
            .await;
        conditional(put)
    }

    async fn list(&self, scope: &str) -> Result<Vec<Waiting>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(scope))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::of(&e))?;
        let list = out
            .item()
            .and_then(|item| item.get("notices"))
            .and_then(|l| l.as_l().ok());
        Ok(list
            .map(|l| l.iter().filter_map(waiting).collect())
            .unwrap_or_default())
    }

    async fn lease(
        &self,
        scope: &str,
        (index, id): (usize, &str),
        from: u64,
        to: u64,
        notice: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut set = format!("SET #n[{index}].lease = :to");
        if notice.is_some() {
            set.push_str(&format!(", #n[{index}].body = :body"));
        }
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(scope))
            .update_expression(set)
            .condition_expression(format!(
                "#n[{index}].nid = :nid AND #n[{index}].lease = :from"
            ))
            .expression_attribute_names("#n", "notices")
            .expression_attribute_values(":nid", s(id))
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":to", n(to));
        if let Some(notice) = notice {
            update = update.expression_attribute_values(":body", s(notice));
        }
        conditional(update.send().await)
    }

    async fn remove(&self, scope: &str, (index, id): (usize, &str)) -> Result<bool, StoreError> {
        let removed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(scope))
            .update_expression(format!("REMOVE #n[{index}]"))
            .condition_expression(format!("#n[{index}].nid = :nid"))
            .expression_attribute_names("#n", "notices")
            .expression_attribute_values(":nid", s(id))
            .send()
            .await;
        conditional(removed)
    }
}
