//! What the service logged, captured in its own format.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// What the service logged while the guard lives (this thread only), as the JSON lines an operator reads.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    pub fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
            })
            .collect()
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

pub fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    // While only one subscriber exists, tracing caches a log statement's interest from the subscriber of the
    // thread that reaches it first: a statement first reached by a test without a subscriber would never be
    // logged here. With a second (idle) subscriber alive it asks all of them.
    static IDLE: OnceLock<tracing::Dispatch> = OnceLock::new();
    IDLE.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let captured = Captured::default();
    let writer = captured.clone();
    // The service's own format, so the tests read the lines users get.
    let filter = tracing_subscriber::filter::Targets::new().with_default(tracing::Level::DEBUG);
    let subscriber = profile_guard::telemetry::json_subscriber(filter, move || writer.clone());
    (captured, tracing::subscriber::set_default(subscriber))
}

impl Captured {
    /// The audit lines written so far, oldest first (and forgets them).
    pub fn take_audits(&self) -> Vec<Value> {
        let audits = self.audits();
        self.0.lock().unwrap().clear();
        audits
    }

    /// The audit lines, one per decision.
    pub fn audits(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["target"] == "profile_guard::audit")
            .collect()
    }
}
