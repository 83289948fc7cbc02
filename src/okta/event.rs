//! The wire types of an Okta Event Hook delivery: `data.events[]` of System Log events. Only the fields used are
//! read; everything else Okta sends is ignored. Each event is read on its own, so one odd event never hides the
//! others in its batch.

use serde::Deserialize;
use serde_json::Value;

/// A delivery's body: the events it carries, each still raw.
#[derive(Debug, Deserialize)]
pub struct Delivery {
    /// `https://{org}/api/v1/eventHooks/{id}`: names the org when `OKTA_ORG_URL` does not.
    #[serde(default)]
    pub source: Option<String>,
    pub data: DeliveryData,
}

/// A delivery, read: the org it came from (when it says) and each event.
#[derive(Debug)]
pub struct ParsedDelivery {
    pub org: Option<String>,
    pub events: Vec<Result<LogEvent, String>>,
}

#[derive(Debug, Deserialize)]
pub struct DeliveryData {
    #[serde(default)]
    pub events: Vec<Value>,
}

/// One System Log event, as far as profile changes need it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub uuid: String,
    #[serde(default)]
    pub published: Option<String>,
    pub event_type: String,
    #[serde(default)]
    pub actor: Option<Principal>,
    /// Okta has sent `null` here for this event type; the catalog says the changed user.
    #[serde(default)]
    pub target: Option<Vec<Principal>>,
    #[serde(default)]
    pub outcome: Option<Outcome>,
    #[serde(default)]
    pub debug_context: Option<DebugContext>,
}

/// An actor or a target: a user, an app, a system principal.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Principal {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub alternate_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub result: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugContext {
    #[serde(default)]
    pub debug_data: Option<DebugData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugData {
    #[serde(default)]
    pub request_uri: Option<String>,
    /// One comma-separated string of attribute names; Okta sends no values.
    #[serde(default)]
    pub changed_attributes: Option<String>,
}

/// Why a delivery's body was not read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an Okta event hook delivery: {0}")]
pub struct NotADelivery(pub String);

/// Reads a delivery: its org and its events, each parsed on its own (`Err` for one this version cannot read).
pub fn parse_delivery(body: &[u8]) -> Result<ParsedDelivery, NotADelivery> {
    let delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| NotADelivery(e.to_string()))?;
    let org = delivery.source.as_deref().and_then(org_of);
    let events = delivery
        .data
        .events
        .into_iter()
        .map(|raw| serde_json::from_value::<LogEvent>(raw).map_err(|e| e.to_string()))
        .collect();
    Ok(ParsedDelivery { org, events })
}

/// The host of `https://{org}/…`, when it looks like one.
fn org_of(source: &str) -> Option<String> {
    let rest = source.strip_prefix("https://")?;
    let host = rest.split('/').next()?;
    let plain = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
    plain.then(|| host.to_ascii_lowercase())
}

impl LogEvent {
    pub fn debug_data(&self) -> Option<&DebugData> {
        self.debug_context.as_ref()?.debug_data.as_ref()
    }

    /// `published` as a time, when it reads as one (RFC 3339).
    pub fn published_at(&self) -> Option<std::time::SystemTime> {
        humantime::parse_rfc3339_weak(self.published.as_deref()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_catalog_shape_and_skips_what_it_does_not_know() {
        let body = br#"{"eventType":"com.okta.event_hook","source":"https://Example.okta.com/api/v1/eventHooks/who7","data":{"events":[
            {"uuid":"e1","published":"2018-11-26T19:23:24.093Z","eventType":"user.account.update_profile",
             "actor":{"id":"00ua","type":"User","alternateId":"admin@example.com","detailEntry":null},
             "target":null,"outcome":{"result":"SUCCESS","reason":null},
             "debugContext":{"debugData":{"requestUri":"/api/v1/users/00ub","changedAttributes":"mobilePhone"}},
             "somethingNew":{"x":1}},
            {"published":"no uuid here"}]}}"#;
        let delivery = parse_delivery(body).unwrap();
        assert_eq!(delivery.org.as_deref(), Some("example.okta.com"));
        let events = delivery.events;
        assert_eq!(events.len(), 2);
        let first = events[0].as_ref().unwrap();
        assert_eq!(first.uuid, "e1");
        assert!(first.target.is_none());
        assert_eq!(
            first.debug_data().unwrap().changed_attributes.as_deref(),
            Some("mobilePhone")
        );
        assert!(events[1].is_err());
    }

    #[test]
    fn a_body_without_events_is_not_a_delivery() {
        assert!(parse_delivery(b"{}").is_err());
        assert!(parse_delivery(b"[]").is_err());
        assert_eq!(parse_delivery(br#"{"data":{}}"#).unwrap().events.len(), 0);
        let odd = parse_delivery(br#"{"source":"https://a b<x>/","data":{}}"#).unwrap();
        assert_eq!(odd.org, None);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_without_a_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_delivery(&body);
        }

        #[test]
        fn any_json_event_is_read_or_refused_without_a_panic(event in "[ -~]{0,200}") {
            let body = format!(r#"{{"data":{{"events":[{event}]}}}}"#);
            let _ = parse_delivery(body.as_bytes());
        }
    }
}
