//! Which change a pending notice belongs to, built the same way from both sides: the pre-update call (tenant, user,
//! the watched claims it writes) and the commit event (tenant, user, the claims it names). A person's notices are
//! kept under one key, oldest first; which one a commit takes is decided here, as plain data.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::claims::{ClaimSet, family, is_notice_claim};

/// The watched claim families a change touches, sorted: `emailAddresses` and `emailaddress` are one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Families(Vec<String>);

impl Families {
    /// The families of `claims` that a notice is about (the one claim filter, `claims::is_notice_claim`).
    pub fn of<'a>(claims: impl IntoIterator<Item = &'a str>, watched: &ClaimSet) -> Families {
        let mut families: Vec<String> = claims
            .into_iter()
            .filter(|uri| is_notice_claim(watched, uri))
            .map(|uri| family(uri).to_owned())
            .collect();
        families.sort_unstable();
        families.dedup();
        Families(families)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn from_stored(mut families: Vec<String>) -> Families {
        families.sort_unstable();
        families.dedup();
        Families(families)
    }
}

/// Where one person's pending notices are kept: a key of tenant and user (`pnd-…`), never their values in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

impl Scope {
    pub fn of(tenant: &str, user: &str) -> Scope {
        let mut h = Sha256::new();
        for part in [tenant, user] {
            // Length-prefixed, so parts cannot run into each other.
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Scope(format!("pnd-{hex}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One change, as either side sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub scope: Scope,
    /// `None`: a commit event that names no claim at all (a known WSO2 defect): it matches the oldest notice.
    pub families: Option<Families>,
}

/// A commit event that names claims, none of which a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NothingWatched;

impl PendingChange {
    /// The pre-update call's side: the watched claims it writes.
    pub fn of_update<'a>(
        tenant: &str,
        user: &str,
        claims: impl IntoIterator<Item = &'a str>,
        watched: &ClaimSet,
    ) -> PendingChange {
        PendingChange {
            scope: Scope::of(tenant, user),
            families: Some(Families::of(claims, watched)),
        }
    }

    /// The commit event's side: the claims it names, when it names any.
    pub fn of_commit(
        tenant: &str,
        user: &str,
        claims: Option<&[String]>,
        watched: &ClaimSet,
    ) -> Result<PendingChange, NothingWatched> {
        let families = match claims {
            None => None,
            Some(claims) => {
                let families = Families::of(claims.iter().map(String::as_str), watched);
                if families.is_empty() {
                    return Err(NothingWatched);
                }
                Some(families)
            }
        };
        Ok(PendingChange {
            scope: Scope::of(tenant, user),
            families,
        })
    }
}

/// One waiting notice, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// This change's own id: every write and delete is conditional on it.
    pub id: String,
    pub families: Families,
    /// Epoch milliseconds after which the notice is no longer sent.
    pub expires_ms: u64,
    /// Epoch milliseconds until which a commit is sending it (0: nobody is).
    pub lease_ms: u64,
    /// The notice, as JSON.
    pub notice: String,
}

/// What a commit event finds among a person's waiting notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The oldest live, matching notice nobody is sending: its position in the list.
    Take(usize),
    /// Matching notices wait, but each is being sent by another delivery right now.
    InFlight,
    Nothing,
}

/// The oldest waiting notice that `families` matches (any, when the event names no claim).
pub fn choose(list: &[Waiting], families: Option<&Families>, now_ms: u64) -> Choice {
    let mut matching = list
        .iter()
        .enumerate()
        .filter(|(_, w)| w.expires_ms > now_ms && families.is_none_or(|f| *f == w.families))
        .peekable();
    if matching.peek().is_none() {
        return Choice::Nothing;
    }
    matching
        .find(|(_, w)| w.lease_ms <= now_ms)
        .map_or(Choice::InFlight, |(i, _)| Choice::Take(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched() -> ClaimSet {
        ClaimSet::parse("mobile,telephone").unwrap()
    }

    fn waiting(id: &str, families: &[&str], expires_ms: u64, lease_ms: u64) -> Waiting {
        Waiting {
            id: id.into(),
            families: Families::of(
                families
                    .iter()
                    .map(|f| format!("http://wso2.org/claims/{f}"))
                    .collect::<Vec<_>>()
                    .iter()
                    .map(String::as_str),
                &ClaimSet::defaults(),
            ),
            expires_ms,
            lease_ms,
            notice: String::new(),
        }
    }

    #[test]
    fn both_sides_build_the_same_change_whatever_the_companions_and_the_order() {
        let update = PendingChange::of_update(
            "2210",
            "u-1",
            ["http://wso2.org/claims/emailaddress"],
            &watched(),
        );
        let commit = PendingChange::of_commit(
            "2210",
            "u-1",
            Some(&[
                "http://wso2.org/claims/emailAddresses".to_owned(),
                "http://wso2.org/claims/emailaddress".to_owned(),
                "http://wso2.org/claims/organization".to_owned(),
            ]),
            &watched(),
        );
        assert_eq!(commit, Ok(update));
        let mobile = PendingChange::of_commit(
            "2210",
            "u-1",
            Some(&["http://wso2.org/claims/mobileNumbers".to_owned()]),
            &watched(),
        )
        .unwrap();
        assert_eq!(
            mobile.families.unwrap().as_slice(),
            ["http://wso2.org/claims/mobile"]
        );
    }

    #[test]
    fn a_commit_without_watched_claims_is_told_apart_from_one_without_claims() {
        let none = PendingChange::of_commit("t", "u", None, &watched()).unwrap();
        assert_eq!(none.families, None);
        let unwatched = ["http://wso2.org/claims/organization".to_owned()];
        assert_eq!(
            PendingChange::of_commit("t", "u", Some(&unwatched), &watched()),
            Err(NothingWatched)
        );
    }

    #[test]
    fn scopes_differ_per_person_and_parts_cannot_run_together() {
        assert_ne!(Scope::of("ab", "c"), Scope::of("a", "bc"));
        assert!(Scope::of("t", "u").as_str().starts_with("pnd-"));
    }

    #[test]
    fn the_oldest_live_matching_notice_nobody_sends_is_taken() {
        let mobile = Families::of(["http://wso2.org/claims/mobile"], &watched());
        let list = [
            waiting("expired", &["mobile"], 10, 0),
            waiting("email", &["emailaddress"], 100, 0),
            waiting("leased", &["mobile"], 100, 60),
            waiting("free", &["mobile"], 100, 0),
            waiting("newer", &["mobile"], 100, 0),
        ];
        assert_eq!(choose(&list, Some(&mobile), 50), Choice::Take(3));
        assert_eq!(
            choose(&list, Some(&mobile), 70),
            Choice::Take(2),
            "lease over"
        );
        assert_eq!(
            choose(&list, None, 50),
            Choice::Take(1),
            "no claims: oldest"
        );
        assert_eq!(choose(&list[..3], Some(&mobile), 50), Choice::InFlight);
        assert_eq!(choose(&list[..1], Some(&mobile), 50), Choice::Nothing);
        assert_eq!(
            choose(&list, Some(&mobile), 100),
            Choice::Nothing,
            "all expired"
        );
    }
}
