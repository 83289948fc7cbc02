//! Event hooks: deliveries of changes already stored by an identity system (Okta Event Hooks), each event turned
//! into messages at most once, however often it is delivered.

pub mod okta;
mod sent;

pub use okta::{HookAnswer, OktaHook};
pub use sent::{Destination, Sent};
