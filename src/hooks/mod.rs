//! Event hooks: deliveries of changes already stored by an identity system (Okta Event Hooks, WSO2 / Asgardeo
//! webhooks), each event turned into messages at most once, however often it is delivered.

pub mod okta;
mod sent;
pub mod wso2;

pub use okta::{HookAnswer, OktaHook};
pub use sent::{Destination, Sent};
pub use wso2::Wso2Hook;
