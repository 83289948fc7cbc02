//! The wire shape of one webhook delivery (an RFC 8417-shaped Security Event Token as JSON), read into what
//! profile-guard uses of it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use crate::text::one_line;

/// The end of the event URI of a stored profile change.
pub const PROFILE_UPDATED: &str = "/event-type/userProfileUpdated";

/// Longest id kept from an event (`jti`, user and tenant ids).
const MAX_ID: usize = 200;

#[derive(Debug, Deserialize)]
struct SetWire {
    jti: String,
    /// Epoch milliseconds, as WSO2 writes it.
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    events: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileUpdatedWire {
    #[serde(default)]
    initiator_type: Option<String>,
    #[serde(default)]
    initiator_ip_address: Option<String>,
    #[serde(default)]
    user: Option<UserWire>,
    #[serde(default)]
    tenant: Option<TenantWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserWire {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    added_claims: Option<Vec<ClaimWire>>,
    #[serde(default)]
    updated_claims: Option<Vec<ClaimWire>>,
    #[serde(default)]
    removed_claims: Option<Vec<ClaimWire>>,
}

#[derive(Debug, Deserialize)]
struct ClaimWire {
    uri: String,
}

#[derive(Debug, Default, Deserialize)]
struct TenantWire {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// A stored profile change, as the event tells it (new values are not kept: only which claims changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdated {
    pub user_id: String,
    /// The tenant's id, else its name: the pre-update call's tenant the same way.
    pub tenant: String,
    pub initiator: Option<String>,
    pub initiator_ip: Option<IpAddr>,
    /// Every claim added, updated or removed; `None` when the event carries no claim array at all (a known WSO2
    /// defect: such an event still stands for a stored change). `action` (`UPDATE` or `PROFILE_UPDATE`, sent after
    /// an e-mail or mobile verification) does not change what the event means here.
    pub claims: Option<Vec<String>>,
}

/// One event of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wso2Event {
    ProfileUpdated(ProfileUpdated),
    /// A profile change without a user or a tenant: nothing to match it with.
    Incomplete,
    /// An event type this version does not handle (its URI, for the log).
    Other(String),
}

/// One delivery: its `jti` (the same for every resend) and its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wso2Delivery {
    pub jti: String,
    /// When the event was issued (`iat`), in epoch milliseconds.
    pub issued_ms: Option<u64>,
    pub events: Vec<Wso2Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a WSO2 event: {0}")]
pub struct NotAnEvent(pub String);

/// Reads a delivery's body.
pub fn parse_delivery(body: &[u8]) -> Result<Wso2Delivery, NotAnEvent> {
    let set: SetWire = serde_json::from_slice(body).map_err(|e| NotAnEvent(e.to_string()))?;
    if set.jti.is_empty() || set.jti.len() > MAX_ID || set.jti.chars().any(char::is_control) {
        return Err(NotAnEvent("the jti is not a usable id".into()));
    }
    let events = set
        .events
        .into_iter()
        .map(|(uri, payload)| {
            if uri.ends_with(PROFILE_UPDATED) {
                profile_updated(payload)
            } else {
                Wso2Event::Other(one_line(&uri, MAX_ID))
            }
        })
        .collect();
    Ok(Wso2Delivery {
        jti: set.jti,
        issued_ms: set.iat,
        events,
    })
}

fn usable(id: Option<String>) -> Option<String> {
    id.filter(|i| !i.is_empty() && i.len() <= MAX_ID && !i.chars().any(char::is_control))
}

fn profile_updated(payload: Value) -> Wso2Event {
    let Ok(wire) = serde_json::from_value::<ProfileUpdatedWire>(payload) else {
        return Wso2Event::Incomplete;
    };
    let user = wire.user.unwrap_or_default();
    let tenant = wire.tenant.unwrap_or_default();
    let (Some(user_id), Some(tenant)) =
        (usable(user.id), usable(tenant.id).or(usable(tenant.name)))
    else {
        return Wso2Event::Incomplete;
    };
    let arrays = [user.added_claims, user.updated_claims, user.removed_claims];
    let claims = arrays.iter().any(Option::is_some).then(|| {
        arrays
            .into_iter()
            .flatten()
            .flatten()
            .map(|c| c.uri)
            .collect()
    });
    Wso2Event::ProfileUpdated(ProfileUpdated {
        user_id,
        tenant,
        initiator: wire.initiator_type.map(|i| one_line(&i, 32)),
        initiator_ip: wire
            .initiator_ip_address
            .and_then(|a| a.trim().parse().ok()),
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"iss":"https://localhost:9443/t/myorg.com","jti":"2371a91d-66e8-400b-a8de-6e8ee2b8175e",
   "iat":1751569642578,"rci":"05268edb-9a87-4656-87c0-0fb674dd03b1",
   "events":{"https://schemas.identity.wso2.org/events/user/event-type/userProfileUpdated":{
     "initiatorType":"ADMIN","initiatorIpAddress":"203.0.113.10",
     "user":{"id":"85071750-3d1f-4ba4-b58f-991532e2742b",
       "ref":"https://localhost:9443/t/myorg.com/scim2/Users/85071750",
       "addedClaims":[{"uri":"http://wso2.org/claims/organization","value":"myorg"}],
       "updatedClaims":[{"uri":"http://wso2.org/claims/emailAddresses","value":"peter@aol.com"}],
       "removedClaims":[]},
     "tenant":{"id":"12402","name":"myorg.com"},
     "userStore":{"id":"UFJJTUFSWQ==","name":"PRIMARY"},"action":"UPDATE"},
     "https://schemas.identity.wso2.org/events/user/event-type/somethingNew":{"x":1}}}"#;

    #[test]
    fn reads_the_documented_sample_and_ignores_the_unknown() {
        let delivery = parse_delivery(SAMPLE.as_bytes()).unwrap();
        assert_eq!(delivery.jti, "2371a91d-66e8-400b-a8de-6e8ee2b8175e");
        let profile = delivery.events.iter().find_map(|e| match e {
            Wso2Event::ProfileUpdated(p) => Some(p),
            _ => None,
        });
        let p = profile.unwrap();
        assert_eq!(p.user_id, "85071750-3d1f-4ba4-b58f-991532e2742b");
        assert_eq!(p.tenant, "12402");
        assert_eq!(p.initiator.as_deref(), Some("ADMIN"));
        assert_eq!(p.initiator_ip, "203.0.113.10".parse().ok());
        assert_eq!(
            p.claims.as_deref().unwrap(),
            [
                "http://wso2.org/claims/organization",
                "http://wso2.org/claims/emailAddresses"
            ]
        );
        assert_eq!(delivery.issued_ms, Some(1_751_569_642_578));
        assert!(
            delivery
                .events
                .iter()
                .any(|e| matches!(e, Wso2Event::Other(_)))
        );
    }

    #[test]
    fn what_is_not_a_delivery() {
        assert!(parse_delivery(b"{}").is_err());
        assert!(parse_delivery(br#"{"jti":""}"#).is_err());
        let odd =
            br#"{"jti":"j","events":{"x/event-type/userProfileUpdated":{"user":{"id":"u"}}}}"#;
        assert_eq!(
            parse_delivery(odd).unwrap().events,
            vec![Wso2Event::Incomplete]
        );
        let bad_ip = br#"{"jti":"j","events":{"x/event-type/userProfileUpdated":{"initiatorIpAddress":"<script>",
            "user":{"id":"u"},"tenant":{"name":"t"}}}}"#;
        match &parse_delivery(bad_ip).unwrap().events[0] {
            Wso2Event::ProfileUpdated(p) => assert_eq!(p.initiator_ip, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_without_claim_arrays_and_a_verification_action_still_stand_for_a_change() {
        let body = br#"{"jti":"j","iat":1,"events":{"x/event-type/userProfileUpdated":{"action":"PROFILE_UPDATE",
            "user":{"id":"u"},"tenant":{"id":"t"}}}}"#;
        match &parse_delivery(body).unwrap().events[0] {
            Wso2Event::ProfileUpdated(p) => assert_eq!(p.claims, None),
            other => panic!("{other:?}"),
        }
        let empty = br#"{"jti":"j","events":{"x/event-type/userProfileUpdated":{"action":"UPDATE",
            "user":{"id":"u","updatedClaims":[]},"tenant":{"id":"t"}}}}"#;
        match &parse_delivery(empty).unwrap().events[0] {
            Wso2Event::ProfileUpdated(p) => assert_eq!(p.claims, Some(vec![])),
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_without_a_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_delivery(&body);
        }

        #[test]
        fn any_event_payload_is_read_or_refused_without_a_panic(payload in "[ -~]{0,200}") {
            let body = format!(r#"{{"jti":"j","events":{{"u/event-type/userProfileUpdated":{payload}}}}}"#);
            let _ = parse_delivery(body.as_bytes());
        }
    }
}
