//! "This wasn't me": every notice carries a signed link (when `REPORT_URL_BASE` and `REPORT_LINK_SECRET` are set)
//! to a small page that shows the change and one button. The button reports the change as not made by the
//! person, once: an urgent alert on every alert channel and, with `REPORT_ACTION=lock`, the account locked (WSO2 /
//! Asgardeo through SCIM2, Okta through its Users API).
//!
//! - [`token`]: the link's signed token, made for notices and checked before anything else (pure).
//! - [`page`]: the HTML the person sees (pure).
//! - [`actions`]: what `GET` shows and what `POST` does; [`once`]: the first click only.
//! - [`lock`]: the SCIM2 and Okta adapters, and how their steps are read.
//! - [`settings`]: what start-up reads for it.

pub mod actions;
pub mod lock;
pub mod once;
pub mod page;
pub mod settings;
pub mod token;

pub use actions::{Reporter, Reports};
pub use settings::{ReportAction, ReportSettings, ReportUrlBase, ScimSettings};
