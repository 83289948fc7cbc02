//! What the identity server sends: the request envelope, parsed leniently.

use serde::Deserialize;

/// The only `actionType` this endpoint serves.
pub const PRE_UPDATE_PROFILE: &str = "PRE_UPDATE_PROFILE";

/// The claim dialect WSO2 uses for every claim URI it sends.
pub const WSO2_CLAIM_PREFIX: &str = "http://wso2.org/claims/";

/// The request body the identity server posts.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionRequest {
    /// Always sent by Asgardeo; by IS only with observability on.
    #[serde(default)]
    pub request_id: Option<String>,
    pub action_type: String,
    pub event: Event,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Missing when no claim is being written (the action also fires in password flows).
    #[serde(default)]
    pub request: Option<UpdateRequest>,
    #[serde(default)]
    pub tenant: Option<Tenant>,
    #[serde(default)]
    pub organization: Option<Organization>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub user_store: Option<UserStore>,
    #[serde(default)]
    pub initiator_type: Option<Initiator>,
    #[serde(default)]
    pub action: Option<String>,
}

impl Event {
    /// The claims being written; none when the action fires without `event.request` (password flows).
    pub fn written_claims(&self) -> &[Claim] {
        self.request.as_ref().map_or(&[], |r| r.claims.as_slice())
    }

    /// What the server knows about the user now (the attributes the admin chose to send).
    pub fn current_claims(&self) -> &[UserClaim] {
        self.user.as_ref().map_or(&[], |u| u.claims.as_slice())
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct UpdateRequest {
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims: Vec<Claim>,
}

/// A claim being written: the whole new value, not a delta.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Claim {
    pub uri: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub value: ClaimValue,
}

/// A claim the server knows about the user now; `updating_value` is present when it is also being written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserClaim {
    pub uri: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub value: ClaimValue,
    #[serde(default)]
    pub updating_value: Option<ClaimValue>,
}

/// A claim value: a string, or the whole list of a multi-valued claim. `""`, `[]`, `null` and a missing value all
/// mean "cleared" (WSO2 leaves empty fields out when it serialises).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Hash)]
#[serde(untagged)]
pub enum ClaimValue {
    Single(String),
    Multi(Vec<String>),
}

impl Default for ClaimValue {
    fn default() -> Self {
        ClaimValue::Single(String::new())
    }
}

/// `null` reads as the field's default, the way a missing field does: WSO2 writes empty parts either way.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl ClaimValue {
    pub fn is_cleared(&self) -> bool {
        match self {
            ClaimValue::Single(s) => s.is_empty(),
            ClaimValue::Multi(v) => v.iter().all(String::is_empty),
        }
    }

    /// The individual values (one for a single-valued claim), empty ones left out.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            ClaimValue::Single(s) => std::slice::from_ref(s),
            ClaimValue::Multi(v) => v,
        };
        slice.iter().map(String::as_str).filter(|s| !s.is_empty())
    }

    /// Whether two values mean the same thing: a cleared single value equals a cleared list, and the order of
    /// a multi-valued claim does not matter.
    pub fn same_as(&self, other: &ClaimValue) -> bool {
        let mut a: Vec<&str> = self.values().collect();
        let mut b: Vec<&str> = other.values().collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    }

    /// Total length in bytes of all values.
    pub fn len_bytes(&self) -> usize {
        match self {
            ClaimValue::Single(s) => s.len(),
            ClaimValue::Multi(v) => v.iter().map(String::len).sum(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Tenant {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

impl Tenant {
    /// The tenant's name, else its id: how people recognise it.
    pub fn name_or_id(&self) -> Option<&str> {
        self.name.as_deref().or(self.id.as_deref())
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub org_handle: Option<String>,
    #[serde(default)]
    pub depth: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub organization: Option<Organization>,
    /// Set for users shared into a sub-organization.
    #[serde(default)]
    pub shared_user_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub claims: Vec<UserClaim>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct UserStore {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Who asked for the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Initiator {
    /// The person themself (self-service, e.g. My Account).
    User,
    /// An administrator (e.g. the Console).
    Admin,
    /// An application acting through the API.
    Application,
    /// A value this version does not know; kept for the record.
    Other(String),
}

impl Initiator {
    pub fn as_str(&self) -> &str {
        match self {
            Initiator::User => "USER",
            Initiator::Admin => "ADMIN",
            Initiator::Application => "APPLICATION",
            Initiator::Other(s) => s,
        }
    }
}

impl serde::Serialize for Initiator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Initiator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "USER" => Initiator::User,
            "ADMIN" => Initiator::Admin,
            "APPLICATION" => Initiator::Application,
            _ => Initiator::Other(s),
        })
    }
}

/// Why a request body could not be read as the action envelope.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("the body is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("the body is not a Pre-Update Profile action request: {0}")]
    NotEnvelope(serde_json::Error),
    /// The envelope is readable enough to see an `actionType` this endpoint does not serve.
    #[error("unsupported actionType")]
    WrongActionType,
}

impl ParseError {
    /// The serde error category, safe to log (it never holds a value from the body).
    pub fn kind(&self) -> &'static str {
        match self {
            ParseError::NotJson(_) => "not_json",
            ParseError::NotEnvelope(_) => "not_envelope",
            ParseError::WrongActionType => "wrong_action_type",
        }
    }

    /// Line and column of the problem, if serde knows it.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ParseError::NotJson(e) | ParseError::NotEnvelope(e) => Some((e.line(), e.column())),
            ParseError::WrongActionType => None,
        }
    }
}

/// Reads a request body. An envelope whose `actionType` is not ours is reported as such even when the rest of
/// it has another action's shape, so the caller can answer `invalid_input` rather than a bare 400.
pub fn parse_request(body: &[u8]) -> Result<ActionRequest, ParseError> {
    match serde_json::from_slice::<ActionRequest>(body) {
        Ok(req) if req.action_type == PRE_UPDATE_PROFILE => Ok(req),
        Ok(_) => Err(ParseError::WrongActionType),
        Err(e) if e.is_syntax() || e.is_eof() => Err(ParseError::NotJson(e)),
        Err(e) => {
            // Valid JSON but not our envelope: is it another action's envelope?
            #[derive(Deserialize)]
            struct Head<'a> {
                #[serde(rename = "actionType", borrow)]
                action_type: std::borrow::Cow<'a, str>,
                #[allow(dead_code)]
                event: serde::de::IgnoredAny,
            }
            match serde_json::from_slice::<Head>(body) {
                Ok(head) if head.action_type != PRE_UPDATE_PROFILE => {
                    Err(ParseError::WrongActionType)
                }
                _ => Err(ParseError::NotEnvelope(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_values_parse_as_string_or_list() {
        let c: Claim = serde_json::from_str(r#"{"uri":"u","value":"a"}"#).unwrap();
        assert_eq!(c.value, ClaimValue::Single("a".into()));
        let c: Claim = serde_json::from_str(r#"{"uri":"u","value":["a","b"]}"#).unwrap();
        assert_eq!(c.value, ClaimValue::Multi(vec!["a".into(), "b".into()]));
        assert!(ClaimValue::Single(String::new()).is_cleared());
        assert!(ClaimValue::Multi(vec![]).is_cleared());
        assert!(ClaimValue::Multi(vec![String::new()]).same_as(&ClaimValue::Single(String::new())));
        assert!(
            ClaimValue::Multi(vec!["b".into(), "a".into()])
                .same_as(&ClaimValue::Multi(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn wrong_action_type_is_recognised_even_with_another_event_shape() {
        let body =
            br#"{"actionType":"PRE_ISSUE_ACCESS_TOKEN","event":{"request":{"grantType":"x"}}}"#;
        assert!(matches!(
            parse_request(body),
            Err(ParseError::WrongActionType)
        ));
        let body =
            br#"{"actionType":"PRE_ISSUE_ACCESS_TOKEN","event":{"request":{"claims":"oops"}}}"#;
        assert!(matches!(
            parse_request(body),
            Err(ParseError::WrongActionType)
        ));
        assert!(matches!(
            parse_request(b"{not json"),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            parse_request(b"{}"),
            Err(ParseError::NotEnvelope(_))
        ));
        assert!(matches!(
            parse_request(
                br#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":{"claims":"oops"}}}"#
            ),
            Err(ParseError::NotEnvelope(_))
        ));
    }

    #[test]
    fn unknown_fields_and_missing_parts_are_tolerated() {
        let req =
            parse_request(br#"{"actionType":"PRE_UPDATE_PROFILE","event":{},"extra":1}"#).unwrap();
        assert!(req.event.request.is_none());
        assert!(req.request_id.is_none());
    }

    #[test]
    fn empty_parts_read_the_way_wso2_writes_them() {
        let req = parse_request(
            br#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":{"claims":[
                {"uri":"http://wso2.org/claims/mobile"},
                {"uri":"http://wso2.org/claims/country","value":null}]},
              "user":{"id":"u","claims":null,"groups":null}}}"#,
        )
        .unwrap();
        let claims = &req.event.request.as_ref().unwrap().claims;
        assert!(claims.iter().all(|c| c.value.is_cleared()));
        assert!(req.event.user.as_ref().unwrap().claims.is_empty());
        for body in [
            &br#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":null}}"#[..],
            br#"{"actionType":"PRE_UPDATE_PROFILE","event":{"request":{"claims":null}}}"#,
        ] {
            let req = parse_request(body).unwrap();
            assert!(req.event.request.is_none_or(|r| r.claims.is_empty()));
        }
    }
}
