//! Who hears of a profile change, what they are told, and how it leaves.
//!
//! - [`messages`]: what is said (the alert, the person's notice, digests, Okta texts, chat text, templates,
//!   masking), rendered from plain data; pure and tested on its own.
//! - [`channels`]: how it leaves (SES or the log outbox, Slack and Teams webhooks, Slack direct messages, pacing),
//!   each channel within its own limits.
//! - [`Notifier`]: the front door the rest of the service uses: which alert channels are on, the chat sender for a
//!   channel, sending an alert or a notice; its parts are private.
//! - [`outcome`]: what became of each message, for the audit line.
//! - [`report_link`]: what a "This wasn't me" link in a notice names, and the maker of links (built elsewhere).

mod audience;
pub mod channels;
pub mod messages;
mod notifier;
pub mod outcome;
pub mod report_link;
mod reports;
pub mod settings;

pub use audience::{Audience, NoticeDraft, PreparedAlert, PreparedNotice};
pub use messages::{ChangeReport, ChangedAttribute, Email, load_templates, mask, templates};
pub use notifier::{Notifier, NotifierParts};
pub use report_link::{ChangeSource, ChangedBy, LinkedChange, LinkedLine, ReportLinks};
pub use settings::{AlertChannels, AlertSettings, NoticeSettings, ValueDisplay};
