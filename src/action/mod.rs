//! The wire contract of WSO2's Pre-Update Profile action (v1): what the server sends and what it accepts back.
//!
//! Requests are parsed leniently (unknown fields are ignored, every optional part may be missing); answers are
//! built strictly: [`ActionResponse`] can only hold text the server's parser accepts, so a mistake here becomes
//! a compile error or a test failure, never a generic 500 in the identity server.

mod answer;
mod request;

pub use answer::*;
pub use request::*;
