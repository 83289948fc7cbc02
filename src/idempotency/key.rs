//! The key of one change: a digest of what it writes, and of the `requestId` when the server sends one.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use crate::action::ActionRequest;

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// How a key was made, which decides how long it may be remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The server sent a `requestId`: the key is that id and the content together.
    RequestId,
    /// No `requestId`: the content alone, remembered only as long as a retry can come.
    Content,
    /// One message about an event a source delivers at least once (an Okta event's `uuid`).
    Event,
}

/// The key of one change. Two calls are the same change only when their content matches, whatever their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeKey {
    pub kind: KeyKind,
    pub(crate) digest: Digest,
    /// Tenant and `requestId` alone: to notice an id sent again with other content.
    pub(crate) id_digest: Option<Digest>,
}

impl ChangeKey {
    /// The key of one message (`part`) about the event `event_id` from `source`.
    pub fn of_event(source: &str, event_id: &str, part: &str) -> ChangeKey {
        let mut h = Sha256::new();
        field(&mut h, source);
        field(&mut h, event_id);
        field(&mut h, part);
        ChangeKey {
            kind: KeyKind::Event,
            digest: h.finalize().into(),
            id_digest: None,
        }
    }

    /// The record id in the shared table. Made only when a table is configured, off the common path.
    pub fn record_id(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(4 + 64);
        id.push_str(match self.kind {
            KeyKind::RequestId => "rid-",
            KeyKind::Content => "chg-",
            KeyKind::Event => "evt-",
        });
        for b in self.digest {
            id.push(char::from(HEX[usize::from(b >> 4)]));
            id.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        id
    }
}

/// The key of `req`: tenant, user, the claims written with their values and the current values sent
/// (order-independent), plus the `requestId` when there is one.
pub fn key_of(req: &ActionRequest) -> ChangeKey {
    let tenant = req
        .event
        .tenant
        .as_ref()
        .and_then(|t| t.id.as_deref())
        .unwrap_or("");
    let content = content_digest(req, tenant);
    match req.request_id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => {
            let mut h = Sha256::new();
            field(&mut h, tenant);
            field(&mut h, id);
            let id_digest: Digest = h.finalize().into();
            let mut h = Sha256::new();
            h.update(id_digest);
            h.update(content);
            ChangeKey {
                kind: KeyKind::RequestId,
                digest: h.finalize().into(),
                id_digest: Some(id_digest),
            }
        }
        None => ChangeKey {
            kind: KeyKind::Content,
            digest: content,
            id_digest: None,
        },
    }
}

fn content_digest(req: &ActionRequest, tenant: &str) -> Digest {
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
        .iter()
        .flat_map(|r| &r.claims)
        .map(|c| {
            let uri = c.uri.as_str();
            (uri, sorted(c.value.values()), current.get(uri))
        })
        .collect();
    claims.sort();
    // Every field and list is length-prefixed, so no value can imitate a boundary.
    let mut h = Sha256::new();
    field(&mut h, tenant);
    field(&mut h, user.and_then(|u| u.id.as_deref()).unwrap_or(""));
    h.update((claims.len() as u64).to_le_bytes());
    for (uri, new, old) in claims {
        field(&mut h, uri);
        list(&mut h, &new);
        match old {
            None => h.update([0]),
            Some(old) => {
                h.update([1]);
                list(&mut h, old);
            }
        }
    }
    h.finalize().into()
}

fn field(h: &mut Sha256, value: &str) {
    h.update((value.len() as u64).to_le_bytes());
    h.update(value.as_bytes());
}

fn list(h: &mut Sha256, values: &[&str]) {
    h.update((values.len() as u64).to_le_bytes());
    for v in values {
        field(h, v);
    }
}

fn sorted<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = values.collect();
    v.sort_unstable();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::parse_request;

    fn req(json: &str) -> ActionRequest {
        parse_request(json.as_bytes()).unwrap()
    }

    fn body(id: Option<&str>, mobile: &str) -> ActionRequest {
        let id = id.map_or(String::new(), |i| format!(r#""requestId":"{i}","#));
        req(&format!(
            r#"{{{id}"actionType":"PRE_UPDATE_PROFILE","event":{{"tenant":{{"id":"1"}},"user":{{"id":"u"}},
            "request":{{"claims":[{{"uri":"http://wso2.org/claims/mobile","value":"{mobile}"}}]}}}}}}"#
        ))
    }

    #[test]
    fn an_id_is_a_repeat_only_with_the_same_content() {
        let a = key_of(&body(Some("r1"), "+1555"));
        assert_eq!(a, key_of(&body(Some("r1"), "+1555")));
        let other = key_of(&body(Some("r1"), "+1666"));
        assert_ne!(
            a.digest, other.digest,
            "same id, other content: a new change"
        );
        assert_eq!(a.id_digest, other.id_digest);
        assert_ne!(a.digest, key_of(&body(Some("r2"), "+1555")).digest);
        assert_eq!(a.kind, KeyKind::RequestId);
        assert_eq!(key_of(&body(None, "+1555")).kind, KeyKind::Content);
        assert!(a.record_id().starts_with("rid-") && a.record_id().len() == 68);
    }

    #[test]
    fn content_keys_ignore_order_and_resist_boundaries() {
        let a = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"x","value":"1"},{"uri":"y","value":["b","a"]}]}}}"#,
        );
        let b = req(
            r#"{"actionType":"PRE_UPDATE_PROFILE","event":{"tenant":{"id":"1"},"user":{"id":"u"},
            "request":{"claims":[{"uri":"y","value":["a","b"]},{"uri":"x","value":"1"}]}}}"#,
        );
        assert_eq!(key_of(&a), key_of(&b));
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
    }
}
