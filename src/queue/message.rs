//! One queued alert: the report (values already shown as configured) and the tenant it is grouped by.

use serde::{Deserialize, Serialize};

use crate::notify::ChangeReport;
use crate::text::one_line;

/// The longest value a queued report keeps: the messages show no more of it (the e-mail 300 characters, Slack
/// 150), and SQS takes at most 256 KB a message.
const QUEUED_VALUE_CHARS: usize = 300;
/// This layout; a consumer refuses any other rather than guess.
const VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedAlert {
    pub v: u8,
    /// What digests are grouped by.
    pub tenant: String,
    pub report: ChangeReport,
}

/// A queue message this version cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a queued alert: {0}")]
pub struct Unreadable(pub String);

impl QueuedAlert {
    pub fn new(mut report: ChangeReport) -> Self {
        for a in &mut report.attributes {
            a.new = one_line(&a.new, QUEUED_VALUE_CHARS);
            a.old = a.old.as_deref().map(|o| one_line(o, QUEUED_VALUE_CHARS));
        }
        QueuedAlert {
            v: VERSION,
            tenant: report.tenant.clone(),
            report,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(body: &str) -> Result<Self, Unreadable> {
        let alert: QueuedAlert =
            serde_json::from_str(body).map_err(|e| Unreadable(e.to_string()))?;
        if alert.v != VERSION {
            return Err(Unreadable(format!("layout version {}", alert.v)));
        }
        Ok(alert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_survives_the_queue_with_its_values_capped() {
        let mut report = ChangeReport::sample(true, Some(crate::action::Initiator::Admin));
        report.attributes[0].new = "x".repeat(5000);
        let queued = QueuedAlert::new(report);
        let back = QueuedAlert::parse(&queued.to_json()).unwrap();
        assert_eq!(back, queued);
        assert!(back.report.attributes[0].new.chars().count() <= QUEUED_VALUE_CHARS + 1);
        assert_eq!(back.tenant, "sample.example (1)");
        assert!(QueuedAlert::parse("{}").is_err());
        assert!(QueuedAlert::parse(&queued.to_json().replace("\"v\":1", "\"v\":2")).is_err());
    }
}
