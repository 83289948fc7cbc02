//! Okta Event Hooks: the wire types of a delivery (`event`) and what each event means (`rules`), without I/O.

pub mod event;
pub mod rules;

pub use event::{LogEvent, NotADelivery, ParsedDelivery, parse_delivery};
pub use rules::{AttributeList, ChangedBy, OktaUser, ProfileChange, Skip, plan_batch};
