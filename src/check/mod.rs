//! `profile-guard check`: each configured dependency tried once, without changing anything, and what was found,
//! one finding per dependency: `ok`, `warn` (works, but something will surprise you) or `fail` (a real change
//! would be blocked, or someone would not be told). Start-up builds the probes from the configuration; this module
//! only runs them and says what they found.

mod aws;
mod http;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Serialize;

pub use aws::{dynamo_table, secret, ses_sender, sqs_queue};
pub use http::{directory, jwks, okta_token, scim, slack_bot_token, webhook_shape};

/// One HTTP exchange of a probe.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(3);

/// How long one probe may take: the whole check stays within a few seconds, every probe running at once.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The dependency: `directory`, `ses`, `slack bot token`, `secret SLACK_BOT_TOKEN_SECRET`, …
    pub dependency: String,
    pub status: Status,
    /// What was tried, in words an admin can repeat.
    pub tried: String,
    /// What was found and, unless all is well, what to do.
    pub detail: String,
}

impl Finding {
    pub fn new(
        dependency: impl Into<String>,
        status: Status,
        tried: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Finding {
            dependency: dependency.into(),
            status,
            tried: tried.into(),
            detail: detail.into(),
        }
    }
}

/// One probe, ready to run.
pub type Probe = Pin<Box<dyn Future<Output = Finding> + Send>>;

/// Everything the check found, in the order the probes were given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub ok: bool,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Runs every probe at once; a probe that outlasts `limit` is a failure of its own.
    pub async fn run(probes: Vec<(String, Probe)>, limit: Duration) -> Report {
        let runs = probes.into_iter().map(|(dependency, probe)| async move {
            match tokio::time::timeout(limit, probe).await {
                Ok(finding) => finding,
                Err(_) => Finding::new(
                    dependency,
                    Status::Fail,
                    "the probe",
                    format!(
                        "no answer within {} ms: check the network path and the URL",
                        limit.as_millis()
                    ),
                ),
            }
        });
        Report::of(futures_util::future::join_all(runs).await)
    }

    pub fn of(findings: Vec<Finding>) -> Report {
        Report {
            ok: findings.iter().all(|f| f.status != Status::Fail),
            findings,
        }
    }

    /// 0 when nothing failed, 1 when something did (2, an invalid configuration, never gets this far).
    pub fn exit_code(&self) -> u8 {
        if self.ok { 0 } else { 1 }
    }

    /// One line per dependency: status, dependency, what was tried, what was found.
    pub fn to_text(&self) -> String {
        let width = self
            .findings
            .iter()
            .map(|f| f.dependency.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!(
                "{:<4}  {:<width$}  {}: {}\n",
                f.status.as_str(),
                f.dependency,
                f.tried,
                f.detail
            ));
        }
        let failed = self.count(Status::Fail);
        let warned = self.count(Status::Warn);
        out.push_str(&match (failed, warned) {
            (0, 0) => "every dependency answered as expected\n".to_owned(),
            (0, w) => format!("nothing failed; {w} warning(s) above\n"),
            (f, _) => format!(
                "{f} dependency check(s) failed: fix them before a real change meets them\n"
            ),
        });
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{\"ok\":false}".to_owned())
    }

    fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// The JSON document for a configuration that does not load: the same variable and words as start-up's error.
pub fn configuration_error(error: &str, variable: &str) -> String {
    serde_json::json!({
        "ok": false,
        "configuration_error": {"variable": variable, "error": error},
        "findings": [],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(status: Status) -> Finding {
        Finding::new("directory", status, "lookup of \"HR\"", "known")
    }

    #[test]
    fn only_a_failure_fails_the_check() {
        assert_eq!(Report::of(vec![finding(Status::Ok)]).exit_code(), 0);
        assert_eq!(Report::of(vec![finding(Status::Warn)]).exit_code(), 0);
        let failed = Report::of(vec![finding(Status::Ok), finding(Status::Fail)]);
        assert_eq!(failed.exit_code(), 1);
        assert!(failed.to_text().contains("1 dependency check(s) failed"));
    }

    #[test]
    fn the_json_names_every_finding() {
        let report = Report::of(vec![finding(Status::Warn)]);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["ok"], true);
        assert_eq!(json["findings"][0]["status"], "warn");
        assert_eq!(json["findings"][0]["dependency"], "directory");
    }

    #[tokio::test]
    async fn a_probe_that_hangs_fails_on_its_own() {
        let hang: Probe = Box::pin(std::future::pending());
        let quick: Probe = Box::pin(async { finding(Status::Ok) });
        let probes = vec![("slow".into(), hang), ("directory".into(), quick)];
        let report = Report::run(probes, Duration::from_millis(50)).await;
        assert_eq!(report.findings[0].status, Status::Fail);
        assert_eq!(report.findings[0].dependency, "slow");
        assert_eq!(report.findings[1].status, Status::Ok);
    }
}
