//! Once per change: WSO2 retries a call after a timeout or some 5xx, so one profile change can arrive twice. The
//! first call to claim a change's key does the work; a duplicate gets the first call's answer and sends nothing.
//!
//! Two layers, as in the Powertools idempotency design (see the README): a bounded in-memory cache with a TTL in
//! the warm instance, and, when `IDEMPOTENCY_TABLE` is set, a DynamoDB record claimed with a conditional put so
//! that retries landing on another instance are caught too. A store that cannot be reached does not block the
//! update: the call proceeds without the guarantee and the audit line says so.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::action::{ActionRequest, ActionResponse};

/// The key of one change: `requestId` when the server sends it; otherwise a hash of the tenant, the user, the
/// claims being written and their current values (order-independent).
pub fn key_of(req: &ActionRequest) -> String {
    let tenant = req
        .event
        .tenant
        .as_ref()
        .and_then(|t| t.id.as_deref())
        .unwrap_or("");
    if let Some(id) = req.request_id.as_deref().filter(|id| !id.is_empty()) {
        let mut h = Sha256::new();
        field(&mut h, tenant);
        field(&mut h, id);
        return format!("rid-{}", hex(&h.finalize()));
    }
    let user = req.event.user.as_ref();
    let current: HashMap<&str, Vec<&str>> = user
        .map(|u| {
            u.claims
                .iter()
                .map(|c| (c.uri.as_str(), sorted(c.value.values())))
                .collect()
        })
        .unwrap_or_default();
    type Written<'a> = (&'a str, Vec<&'a str>, Option<&'a Vec<&'a str>>);
    let mut claims: Vec<Written> = req
        .event
        .request
        .as_ref()
        .map(|r| {
            r.claims
                .iter()
                .map(|c| {
                    (
                        c.uri.as_str(),
                        sorted(c.value.values()),
                        current.get(c.uri.as_str()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    claims.sort();
    // Every field and list is length-prefixed, so no value can imitate a boundary.
    let mut h = Sha256::new();
    field(&mut h, tenant);
    field(&mut h, user.and_then(|u| u.id.as_deref()).unwrap_or(""));
    h.update((claims.len() as u64).to_le_bytes());
    for (uri, new, old) in claims {
        field(&mut h, uri);
        h.update((new.len() as u64).to_le_bytes());
        for v in new {
            field(&mut h, v);
        }
        match old {
            None => h.update([0]),
            Some(old) => {
                h.update([1]);
                h.update((old.len() as u64).to_le_bytes());
                for v in old {
                    field(&mut h, v);
                }
            }
        }
    }
    format!("chg-{}", hex(&h.finalize()))
}

fn field(h: &mut Sha256, value: &str) {
    h.update((value.len() as u64).to_le_bytes());
    h.update(value.as_bytes());
}

fn sorted<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = values.collect();
    v.sort_unstable();
    v
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone)]
enum Slot {
    InProgress,
    Done(ActionResponse),
    /// The owner gave up (an ERROR answer, a deadline, a panic): the next call may try again.
    Abandoned,
}

/// What `begin` found.
pub enum Begin {
    /// This call does the work; it must finish the ticket.
    Owner(Ticket),
    /// An earlier call already answered: its answer, nothing to do.
    Replay {
        response: ActionResponse,
        from: &'static str,
    },
    /// A call with the same key is still running and did not finish before the deadline.
    StillInProgress,
}

/// The right (and duty) to do the work for one key. Dropping it unfinished (deadline, panic) abandons the key so
/// a retry can run.
pub struct Ticket {
    key: String,
    local: Arc<watch::Sender<Slot>>,
    remote: Option<Arc<DynamoStore>>,
    /// Whether the shared store holds our INPROGRESS record; `None` when there is no store.
    pub remote_state: Option<&'static str>,
    finished: bool,
}

impl Ticket {
    /// Records a final answer: duplicates get it from now on.
    pub async fn complete(mut self, response: &ActionResponse) -> Option<&'static str> {
        self.finished = true;
        self.local.send_replace(Slot::Done(response.clone()));
        match (&self.remote, self.remote_state) {
            (Some(store), Some("claimed")) => {
                Some(match store.complete(&self.key, response).await {
                    Ok(()) => "stored",
                    Err(_) => "store_failed",
                })
            }
            _ => None,
        }
    }

    /// Gives the key up after an answer a retry should not reuse (an ERROR).
    pub async fn abandon(mut self) {
        self.finished = true;
        self.local.send_replace(Slot::Abandoned);
        if let (Some(store), Some("claimed")) = (&self.remote, self.remote_state) {
            let _ = store.delete(&self.key).await;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.finished {
            // The shared record, if any, expires by its in-progress deadline.
            self.local.send_replace(Slot::Abandoned);
        }
    }
}

pub struct Idempotency {
    local: Cache<String, Arc<watch::Sender<Slot>>>,
    remote: Option<Arc<DynamoStore>>,
}

impl Idempotency {
    pub fn new(ttl: Duration, max_entries: u64, remote: Option<DynamoStore>) -> Self {
        Idempotency {
            local: Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
            remote: remote.map(Arc::new),
        }
    }

    /// Claims `key`, or waits (until `deadline`) for the call that holds it to answer.
    pub async fn begin(&self, key: &str, deadline: Instant) -> Begin {
        let local = loop {
            let mine = Arc::new(watch::channel(Slot::InProgress).0);
            let candidate = mine.clone();
            let result = self
                .local
                .entry(key.to_owned())
                .and_compute_with(|existing| async move {
                    match existing {
                        Some(e) if !matches!(*e.value().borrow(), Slot::Abandoned) => Op::Nop,
                        _ => Op::Put(candidate),
                    }
                })
                .await;
            let held = match result {
                CompResult::Inserted(_) | CompResult::ReplacedWith(_) => break mine,
                CompResult::Unchanged(entry) => entry.into_value(),
                CompResult::StillNone(_) | CompResult::Removed(_) => continue,
            };
            let mut rx = held.subscribe();
            loop {
                let slot = rx.borrow_and_update().clone();
                match slot {
                    Slot::Done(response) => {
                        return Begin::Replay {
                            response,
                            from: "local",
                        };
                    }
                    Slot::Abandoned => break,
                    Slot::InProgress => {}
                }
                match tokio::time::timeout_at(deadline.into(), rx.changed()).await {
                    Ok(Ok(())) => {}
                    // The holder vanished without a word: treat as abandoned.
                    Ok(Err(_)) => break,
                    Err(_) => return Begin::StillInProgress,
                }
            }
        };

        let mut ticket = Ticket {
            key: key.to_owned(),
            local,
            remote: self.remote.clone(),
            remote_state: None,
            finished: false,
        };
        let Some(store) = self.remote.clone() else {
            return Begin::Owner(ticket);
        };
        let in_progress_until =
            SystemTime::now() + deadline.saturating_duration_since(Instant::now());
        match store.claim(key, in_progress_until).await {
            Ok(true) => ticket.remote_state = Some("claimed"),
            Ok(false) => loop {
                // Another instance holds or has answered this change.
                match store.get(key).await {
                    Ok(Some(Record::Completed(response))) => {
                        ticket.local.send_replace(Slot::Done(response.clone()));
                        ticket.finished = true;
                        return Begin::Replay {
                            response,
                            from: "table",
                        };
                    }
                    Ok(Some(Record::InProgress)) => {
                        if Instant::now() + Duration::from_millis(100) >= deadline {
                            ticket.finished = true;
                            ticket.local.send_replace(Slot::Abandoned);
                            return Begin::StillInProgress;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    // Gone (deleted or expired) between the put and the read: try to claim again.
                    Ok(None) => match store.claim(key, in_progress_until).await {
                        Ok(true) => {
                            ticket.remote_state = Some("claimed");
                            break;
                        }
                        Ok(false) => continue,
                        Err(_) => {
                            ticket.remote_state = Some("unavailable");
                            break;
                        }
                    },
                    Err(_) => {
                        ticket.remote_state = Some("unavailable");
                        break;
                    }
                }
            },
            Err(_) => ticket.remote_state = Some("unavailable"),
        }
        Begin::Owner(ticket)
    }
}

/// The shared record in DynamoDB: partition key `id`, `status` INPROGRESS or COMPLETED, `expiration` (epoch
/// seconds, the table's TTL attribute), `in_progress_expiration` (epoch milliseconds), `data` (the answer).
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    ttl: Duration,
}

#[derive(Debug)]
pub enum Record {
    InProgress,
    Completed(ActionResponse),
}

#[derive(Debug, thiserror::Error)]
#[error("idempotency table: {0}")]
pub struct StoreError(String);

fn epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn n(v: u128) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

impl DynamoStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String, ttl: Duration) -> Self {
        DynamoStore { client, table, ttl }
    }

    /// Conditional put of an INPROGRESS record. `Ok(false)` when a live record exists.
    async fn claim(&self, key: &str, in_progress_until: SystemTime) -> Result<bool, StoreError> {
        let now = SystemTime::now();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("id", AttributeValue::S(key.to_owned()))
            .item("status", AttributeValue::S("INPROGRESS".into()))
            .item("expiration", n(epoch(now + self.ttl).as_secs() as u128))
            .item("in_progress_expiration", n(epoch(in_progress_until).as_millis()))
            .condition_expression(
                "attribute_not_exists(#id) OR #exp < :now OR (#st = :inprogress AND #ipe < :now_ms)",
            )
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#exp", "expiration")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#ipe", "in_progress_expiration")
            .expression_attribute_values(":now", n(epoch(now).as_secs() as u128))
            .expression_attribute_values(":now_ms", n(epoch(now).as_millis()))
            .expression_attribute_values(":inprogress", AttributeValue::S("INPROGRESS".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError(
                aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("unreachable")
                    .to_owned(),
            )),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                StoreError(
                    aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e)
                        .unwrap_or("unreachable")
                        .to_owned(),
                )
            })?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let number = |name: &str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<u128>().ok())
        };
        let now = epoch(SystemTime::now());
        if number("expiration").is_some_and(|e| e < now.as_secs() as u128) {
            return Ok(None);
        }
        match item
            .get("status")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
        {
            Some("COMPLETED") => {
                let response = item
                    .get("data")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|d| ActionResponse::from_stored(d));
                Ok(response.map(Record::Completed))
            }
            Some("INPROGRESS")
                if number("in_progress_expiration").is_some_and(|t| t >= now.as_millis()) =>
            {
                Ok(Some(Record::InProgress))
            }
            _ => Ok(None),
        }
    }

    async fn complete(&self, key: &str, response: &ActionResponse) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .update_expression("SET #st = :done, #d = :data")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#d", "data")
            .expression_attribute_values(":done", AttributeValue::S("COMPLETED".into()))
            .expression_attribute_values(":data", AttributeValue::S(response.to_stored()))
            .send()
            .await
            .map(|_| ())
            .map_err(|_| StoreError("update failed".into()))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(key.to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|_| StoreError("delete failed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;

    fn req(json: &str) -> ActionRequest {
        parse_request(json.as_bytes()).unwrap()
    }

    #[test]
    fn keys_ignore_claim_order_and_tell_changes_apart() {
        let a = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"x","value":"1"},{"uri":"y","value":["b","a"]}]}}}"#,
        );
        let b = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"y","value":["a","b"]},{"uri":"x","value":"1"}]}}}"#,
        );
        let c = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"v"},
            "request":{"claims":[{"uri":"y","value":["a","b"]},{"uri":"x","value":"1"}]}}}"#,
        );
        assert_eq!(key_of(&a), key_of(&b));
        assert_ne!(key_of(&a), key_of(&c));
        // No value can imitate a boundary between values or fields.
        let list = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"x","value":["a@x.com","b@y.com"]}]}}}"#,
        );
        let joined = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"x","value":"a@x.com\u0002b@y.com"}]}}}"#,
        );
        assert_ne!(key_of(&list), key_of(&joined));
        let t1 = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"a\u0000"},"user":{"id":""}}}"#,
        );
        let t2 = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"a"},"user":{"id":"\u0000"}}}"#,
        );
        assert_ne!(key_of(&t1), key_of(&t2));
        let with_id = req(r#"{"requestId":"r1","actionType":"PRE_UPDATE_PROFILE","event":{}}"#);
        assert!(key_of(&with_id).starts_with("rid-"));
    }

    #[tokio::test]
    async fn a_duplicate_waits_for_the_first_answer() {
        let idem = Arc::new(Idempotency::new(Duration::from_secs(60), 100, None));
        let deadline = Instant::now() + Duration::from_secs(2);
        let Begin::Owner(ticket) = idem.begin("k", deadline).await else {
            panic!("first call owns the key")
        };
        let waiter = {
            let idem = idem.clone();
            tokio::spawn(async move { idem.begin("k", deadline).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        ticket.complete(&ActionResponse::Success).await;
        match waiter.await.unwrap() {
            Begin::Replay { response, from } => {
                assert_eq!(response, ActionResponse::Success);
                assert_eq!(from, "local");
            }
            _ => panic!("the duplicate replays the first answer"),
        }
    }

    #[tokio::test]
    async fn an_abandoned_or_dropped_key_can_be_claimed_again() {
        let idem = Idempotency::new(Duration::from_secs(60), 100, None);
        let deadline = Instant::now() + Duration::from_secs(1);
        let Begin::Owner(t) = idem.begin("k", deadline).await else {
            panic!()
        };
        t.abandon().await;
        let Begin::Owner(t) = idem.begin("k", deadline).await else {
            panic!("claimable after abandon")
        };
        drop(t);
        assert!(
            matches!(idem.begin("k", deadline).await, Begin::Owner(_)),
            "claimable after drop"
        );
    }

    #[tokio::test]
    async fn a_duplicate_gives_up_at_the_deadline() {
        let idem = Idempotency::new(Duration::from_secs(60), 100, None);
        let _held = idem
            .begin("k", Instant::now() + Duration::from_secs(5))
            .await;
        let started = Instant::now();
        let second = idem
            .begin("k", Instant::now() + Duration::from_millis(100))
            .await;
        assert!(matches!(second, Begin::StillInProgress));
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
