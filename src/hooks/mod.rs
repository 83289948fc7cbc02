//! Event hooks: deliveries of changes already stored by an identity system (Okta Event Hooks, WSO2 / Asgardeo
//! webhooks), each event turned into messages at most once, however often it is delivered.

pub mod okta;
mod sent;
pub mod wso2;

pub use okta::{ChangeOutcome, OktaHook, Via};
pub use sent::{Destination, Sent};
pub use wso2::Wso2Hook;

/// How a delivery is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookAnswer {
    /// Everything that could be sent was: an empty 204.
    Done,
    /// Some messages failed for a reason a retry can fix: a 5xx, so the source delivers again.
    Retry { messages: usize },
    /// The body is not a delivery: a 400 (not retried).
    NotADelivery(String),
    /// A signed delivery issued too long ago (or in the future) to be told from a replay: a 400, never retried.
    Stale(String),
}
