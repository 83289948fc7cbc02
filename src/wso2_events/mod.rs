//! WSO2 Identity Server / Asgardeo webhook events: Security Event Tokens sent after a change is stored. The payload
//! is still "Preview" in Asgardeo: unknown fields and unknown event URIs are accepted and ignored.

mod event;
mod freshness;

pub use event::{
    NotAnEvent, PROFILE_UPDATED, ProfileUpdated, Wso2Delivery, Wso2Event, parse_delivery,
};
pub use freshness::{Stale, check_age};
