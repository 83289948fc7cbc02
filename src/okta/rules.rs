//! What one Okta event means for profile-guard, decided without I/O: is it a profile change worth a message, whose
//! profile, who made it, which watched attributes it touched.

use std::time::SystemTime;

use super::event::{LogEvent, Principal};
use crate::text::one_line;

/// The flow's own list (`email`, `primaryPhone`, `manager`) plus the other ways to reach the person.
pub const DEFAULT_WATCHED: &[&str] = &[
    "email",
    "primaryPhone",
    "manager",
    "mobilePhone",
    "secondEmail",
];

/// The only event type that is a profile change.
pub const PROFILE_UPDATE: &str = "user.account.update_profile";

/// Longest attribute name accepted in a list, and longest id kept from an event.
const MAX_NAME: usize = 100;
const MAX_ID: usize = 200;

/// A list of Okta attribute names (case-sensitive, as Okta spells them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeList(Vec<String>);

impl AttributeList {
    /// Comma-separated names; each is letters, digits or `_`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut names = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let plain = name.len() <= MAX_NAME
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !plain {
                return Err(format!(
                    "`{}` is not an Okta attribute name (letters, digits and _)",
                    one_line(name, 40)
                ));
            }
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Ok(AttributeList(names))
    }

    pub fn defaults() -> Self {
        AttributeList(DEFAULT_WATCHED.iter().map(|s| (*s).to_owned()).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The names of `changed` on this list, in the order Okta sent them.
    fn matching(&self, changed: &[&str]) -> Vec<String> {
        changed
            .iter()
            .filter(|c| self.0.iter().any(|n| n == *c))
            .map(|c| (*c).to_owned())
            .collect()
    }
}

/// Who made the change, as far as Okta can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangedBy {
    /// The actor is the changed user.
    Themselves,
    /// Another user: an administrator (or a person acting through an app with an API token).
    AnotherUser,
    /// An app, an API client or Okta itself.
    Application,
}

impl ChangedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangedBy::Themselves => "self",
            ChangedBy::AnotherUser => "another_user",
            ChangedBy::Application => "application",
        }
    }
}

/// The changed person, as the event names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaUser {
    pub id: String,
    /// The login (`alternateId`), often the e-mail address.
    pub login: Option<String>,
    pub name: Option<String>,
}

/// A profile change worth a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChange {
    pub event_id: String,
    pub published: Option<SystemTime>,
    pub user: OktaUser,
    pub changed_by: ChangedBy,
    /// The actor's login or name, for the security team.
    pub actor: Option<String>,
    /// Watched attributes that changed: the person's notice.
    pub watched: Vec<String>,
    /// Attributes on the alert list that changed: the security team's alert.
    pub alerted: Vec<String>,
}

/// Why an event asks for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// Not a System Log event this version can read (or without a usable `uuid`).
    Unreadable,
    OtherType,
    FailedOutcome,
    /// No changed attribute is watched or alerted on.
    Unwatched,
    /// Neither a target user nor a user in the request URI.
    NoUser,
    /// The same `uuid` came earlier in this delivery.
    DuplicateInBatch,
}

impl Skip {
    pub fn as_str(self) -> &'static str {
        match self {
            Skip::Unreadable => "unreadable",
            Skip::OtherType => "other_type",
            Skip::FailedOutcome => "failed_outcome",
            Skip::Unwatched => "unwatched",
            Skip::NoUser => "no_user",
            Skip::DuplicateInBatch => "duplicate_in_batch",
        }
    }
}

/// What `event` asks for, given the watched and alerted attributes.
pub fn classify(
    event: &LogEvent,
    watched: &AttributeList,
    alerted: &AttributeList,
) -> Result<ProfileChange, Skip> {
    if !usable_id(&event.uuid) {
        return Err(Skip::Unreadable);
    }
    if event.event_type != PROFILE_UPDATE {
        return Err(Skip::OtherType);
    }
    let result = event.outcome.as_ref().and_then(|o| o.result.as_deref());
    if result != Some("SUCCESS") {
        return Err(Skip::FailedOutcome);
    }
    let changed: Vec<&str> = event
        .debug_data()
        .and_then(|d| d.changed_attributes.as_deref())
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let (watched, alerted) = (watched.matching(&changed), alerted.matching(&changed));
    if watched.is_empty() && alerted.is_empty() {
        return Err(Skip::Unwatched);
    }
    let user = changed_user(event).ok_or(Skip::NoUser)?;
    Ok(ProfileChange {
        event_id: event.uuid.clone(),
        published: event.published_at(),
        changed_by: changed_by(event.actor.as_ref(), &user),
        actor: event
            .actor
            .as_ref()
            .and_then(|a| a.alternate_id.as_deref().or(a.display_name.as_deref()))
            .map(|a| one_line(a, MAX_ID)),
        user,
        watched,
        alerted,
    })
}

fn usable_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID && !id.chars().any(char::is_control)
}

/// The target of type `User`; else the id or login at the end of the request URI (`/api/v1/users/{id}`).
fn changed_user(event: &LogEvent) -> Option<OktaUser> {
    let target = event
        .target
        .iter()
        .flatten()
        .find(|t| t.kind.as_deref() == Some("User"));
    if let Some(Principal {
        id: Some(id),
        alternate_id,
        display_name,
        ..
    }) = target
        && usable_id(id)
    {
        return Some(OktaUser {
            id: id.clone(),
            login: alternate_id.as_deref().map(|l| one_line(l, MAX_ID)),
            name: display_name.as_deref().map(|n| one_line(n, MAX_ID)),
        });
    }
    let uri = event.debug_data()?.request_uri.as_deref()?;
    let id = user_in_uri(uri)?;
    Some(OktaUser {
        login: id.contains('@').then(|| id.clone()),
        id,
        name: None,
    })
}

/// `/api/v1/users/00u1abcd?x` → `00u1abcd`; a login in the path is percent-decoded.
fn user_in_uri(uri: &str) -> Option<String> {
    let (_, rest) = uri.split_once("/api/v1/users/")?;
    let segment = rest.split(['/', '?', '#']).next()?;
    let id = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?
        .into_owned();
    usable_id(&id).then_some(id)
}

/// The same user as the target → themselves; another user → another user; anything else → an application.
fn changed_by(actor: Option<&Principal>, user: &OktaUser) -> ChangedBy {
    match actor {
        Some(a) if a.kind.as_deref() == Some("User") => {
            if a.id.as_deref() == Some(user.id.as_str()) {
                ChangedBy::Themselves
            } else {
                ChangedBy::AnotherUser
            }
        }
        _ => ChangedBy::Application,
    }
}

/// The batch's changes in `published` order (events without a readable time last, in the order sent), each `uuid`
/// once; the skipped ones counted by reason.
pub fn plan_batch(
    events: Vec<Result<LogEvent, String>>,
    watched: &AttributeList,
    alerted: &AttributeList,
) -> (Vec<ProfileChange>, Vec<Skip>) {
    let mut changes: Vec<ProfileChange> = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for event in events {
        let Ok(event) = event else {
            skipped.push(Skip::Unreadable);
            continue;
        };
        if usable_id(&event.uuid) && !seen.insert(event.uuid.clone()) {
            skipped.push(Skip::DuplicateInBatch);
            continue;
        }
        match classify(&event, watched, alerted) {
            Ok(change) => changes.push(change),
            Err(skip) => skipped.push(skip),
        }
    }
    changes.sort_by_key(|c| (c.published.is_none(), c.published));
    (changes, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okta::event::parse_delivery;
    use serde_json::json;

    fn event(uuid: &str, published: &str, actor: &str, attrs: &str) -> serde_json::Value {
        json!({"uuid": uuid, "published": published, "eventType": PROFILE_UPDATE,
            "actor": {"id": actor, "type": "User", "alternateId": "admin@example.com"},
            "outcome": {"result": "SUCCESS"},
            "target": [{"id": "00uemily", "type": "User", "alternateId": "emily@example.com", "displayName": "Emily Ng"}],
            "debugContext": {"debugData": {"requestUri": "/api/v1/users/00uemily", "changedAttributes": attrs}}})
    }

    fn plan(events: Vec<serde_json::Value>) -> (Vec<ProfileChange>, Vec<Skip>) {
        let body = json!({"data": {"events": events}}).to_string();
        let events = parse_delivery(body.as_bytes()).unwrap().events;
        plan_batch(
            events,
            &AttributeList::defaults(),
            &AttributeList::parse("manager").unwrap(),
        )
    }

    #[test]
    fn only_watched_attributes_of_successful_profile_updates_count() {
        let (changes, skipped) = plan(vec![
            event(
                "a",
                "2024-01-01T00:00:00.000Z",
                "00uemily",
                "lastName,mobilePhone",
            ),
            event(
                "b",
                "2024-01-01T00:00:01.000Z",
                "00uemily",
                "lastName,CIS_Number",
            ),
        ]);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].watched, vec!["mobilePhone"]);
        assert!(changes[0].alerted.is_empty());
        assert_eq!(changes[0].changed_by, ChangedBy::Themselves);
        assert_eq!(skipped, vec![Skip::Unwatched]);

        let mut failed = event("c", "2024-01-01T00:00:00Z", "x", "email");
        failed["outcome"]["result"] = json!("FAILURE");
        let mut other = event("d", "2024-01-01T00:00:00Z", "x", "email");
        other["eventType"] = json!("user.session.start");
        let (changes, skipped) = plan(vec![failed, other]);
        assert!(changes.is_empty());
        assert_eq!(skipped, vec![Skip::FailedOutcome, Skip::OtherType]);
    }

    #[test]
    fn who_did_it() {
        let (changes, _) = plan(vec![event(
            "a",
            "2024-01-01T00:00:00Z",
            "00uadmin",
            "manager",
        )]);
        assert_eq!(changes[0].changed_by, ChangedBy::AnotherUser);
        assert_eq!(changes[0].alerted, vec!["manager"]);
        assert_eq!(changes[0].actor.as_deref(), Some("admin@example.com"));
        let mut app = event("b", "2024-01-01T00:00:00Z", "0oaapp", "email");
        app["actor"]["type"] = json!("PublicClientApp");
        let (changes, _) = plan(vec![app]);
        assert_eq!(changes[0].changed_by, ChangedBy::Application);
    }

    #[test]
    fn the_user_comes_from_the_request_uri_when_the_target_is_null() {
        let mut e = event("a", "2024-01-01T00:00:00Z", "00uadmin", "email");
        e["target"] = json!(null);
        e["debugContext"]["debugData"]["requestUri"] =
            json!("/api/v1/users/emily%40example.com?strict=true");
        let (changes, _) = plan(vec![e]);
        assert_eq!(changes[0].user.id, "emily@example.com");
        assert_eq!(changes[0].user.login.as_deref(), Some("emily@example.com"));
        let mut none = event("b", "2024-01-01T00:00:00Z", "00uadmin", "email");
        none["target"] = json!(null);
        none["debugContext"]["debugData"]["requestUri"] = json!("/api/v1/groups/x");
        assert_eq!(plan(vec![none]).1, vec![Skip::NoUser]);
    }

    #[test]
    fn a_batch_is_ordered_by_published_and_each_uuid_counts_once() {
        let (changes, skipped) = plan(vec![
            event("late", "2024-01-01T00:00:09.000Z", "x", "email"),
            event("early", "2024-01-01T00:00:01.000Z", "x", "email"),
            event("late", "2024-01-01T00:00:09.000Z", "x", "email"),
            event("untimed", "yesterday", "x", "email"),
            event("mid", "2024-01-01T00:00:05.000Z", "x", "email"),
        ]);
        let ids: Vec<&str> = changes.iter().map(|c| c.event_id.as_str()).collect();
        assert_eq!(ids, vec!["early", "mid", "late", "untimed"]);
        assert_eq!(skipped, vec![Skip::DuplicateInBatch]);
    }

    #[test]
    fn attribute_lists_are_plain_names() {
        assert_eq!(
            AttributeList::parse(" email, manager ,email,")
                .unwrap()
                .names(),
            ["email", "manager"]
        );
        assert!(AttributeList::parse("e-mail").is_err());
        assert!(AttributeList::parse("").unwrap().is_empty());
    }
}
