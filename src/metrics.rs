//! Metrics in CloudWatch's embedded metric format (EMF): a log line CloudWatch turns into metrics, with no API
//! call and nothing to run. Each line carries the `_aws` directive (namespace, one dimension `Service`, the metric
//! names and units) and the values beside it, at the top level of the line, as EMF requires.

use std::fmt::Write as _;

/// The log target of metric lines.
pub const TARGET: &str = "profile_guard::metrics";
/// The field of a metric line that holds its JSON members (see `telemetry`).
pub const EMBEDDED: &str = "emf";
pub const NAMESPACE: &str = "ProfileGuard";
/// The one dimension every metric has, so alarms and the dashboard name each metric the same way.
pub const SERVICE: &str = "profile-guard";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// The values of one metric line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Metrics(Vec<(&'static str, f64, Unit)>);

impl Metrics {
    pub fn count(&mut self, name: &'static str, n: usize) -> &mut Self {
        self.0.push((name, n as f64, Unit::Count));
        self
    }

    pub fn millis(&mut self, name: &'static str, ms: f64) -> &mut Self {
        self.0.push((name, ms, Unit::Milliseconds));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The line's members, without the braces: `"_aws":{…},"Service":"profile-guard","Decisions":1,…`. Written
    /// straight into one string (every decision writes one): the names are this crate's constants, plain ASCII
    /// identifiers that need no escaping.
    pub fn members(&self, timestamp_ms: u128) -> String {
        let mut out = String::with_capacity(160 + self.0.len() * 64);
        let _ = write!(
            out,
            r#""_aws":{{"Timestamp":{timestamp_ms},"CloudWatchMetrics":[{{"Namespace":"{NAMESPACE}","Dimensions":[["Service"]],"Metrics":["#
        );
        for (i, (name, _, unit)) in self.0.iter().enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(
                out,
                r#"{comma}{{"Name":"{name}","Unit":"{}"}}"#,
                unit.as_str()
            );
        }
        let _ = write!(out, r#"]}}]}},"Service":"{SERVICE}""#);
        for (name, value, _) in &self.0 {
            let value = if value.is_finite() { *value } else { 0.0 };
            let _ = write!(out, r#","{name}":{value}"#);
        }
        out
    }

    /// Writes the line (nothing when there are no values).
    pub fn emit(&self) {
        if self.is_empty() {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        tracing::info!(target: TARGET, emf = self.members(now).as_str(), "metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_line_is_valid_emf() {
        let mut m = Metrics::default();
        m.count("Decisions", 1).millis("DecisionLatency", 1.5);
        let line: Value =
            serde_json::from_str(&format!("{{{}}}", m.members(1_700_000_000_000))).unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([["Service"]]));
        assert_eq!(
            directive["Metrics"][1],
            json!({"Name": "DecisionLatency", "Unit": "Milliseconds"})
        );
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_u64);
        assert_eq!(line["Service"], SERVICE);
        assert_eq!(line["Decisions"], 1.0);
    }
}
