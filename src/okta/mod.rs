//! Okta, without I/O: the wire types of a hook delivery (`event`), what each event means (`rules`), a page of the
//! System Log API with its `Link` and rate-limit headers (`system_log`), and where a catch-up run of that log
//! starts and how far it got (`cursor`).

pub mod cursor;
pub mod event;
pub mod rules;
pub mod system_log;

pub use cursor::{Cursor, Progress, Window, window};
pub use event::{LogEvent, NotADelivery, ParsedDelivery, parse_delivery};
pub use rules::{AttributeList, ChangedBy, OktaUser, ProfileChange, Skip, plan_batch};
pub use system_log::{NotAPage, RateLimit, next_link, parse_page};
