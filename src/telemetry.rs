//! Structured JSON logs on stdout: one flat object per line (`timestamp`, `level`, `target`, `message` and the
//! event's fields), as CloudWatch (with `AWS_LAMBDA_LOG_FORMAT=JSON`) and log shippers expect. `RUST_LOG` sets the
//! level per target, e.g. `info` or `warn,profile_guard=info` (`target=level` pairs; no regex filters, which keeps
//! the binary small).
//!
//! Every decision writes its audit line, so the line is written straight into one buffer, field by field, rather
//! than through a map of JSON values per event.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

const DEFAULT_FILTER: &str =
    "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_sesv2=warn,hyper=warn,reqwest=warn";

/// The filter users get without `RUST_LOG`: info, with the SDK and HTTP crates' chatter at warn.
pub fn default_filter() -> Targets {
    DEFAULT_FILTER.parse().unwrap_or_default()
}

/// The service's log format: one flat JSON object per event, written through `writer`. The tests and benchmarks
/// use it too, so they read and pay for the lines users get.
pub fn json_subscriber<W>(filter: Targets, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let json = tracing_subscriber::fmt::layer()
        .event_format(JsonLine)
        .with_writer(writer);
    tracing_subscriber::registry().with(json).with(filter)
}

pub fn init() {
    let from_env = std::env::var("RUST_LOG").ok();
    let (filter, bad) = match from_env.as_deref().map(str::parse::<Targets>) {
        Some(Ok(targets)) => (targets, None),
        Some(Err(e)) => (default_filter(), Some(e.to_string())),
        None => (default_filter(), None),
    };
    let _ = json_subscriber(filter, std::io::stdout).try_init();
    if let Some(problem) = bad {
        tracing::warn!(variable = "RUST_LOG", problem = %problem, "RUST_LOG is not a valid filter; using the default");
    }
}

/// One event as one flat JSON object on one line.
struct JsonLine;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut line = String::with_capacity(512);
        line.push_str("{\"timestamp\":\"");
        write!(
            line,
            "{}",
            humantime::format_rfc3339_micros(std::time::SystemTime::now())
        )?;
        line.push_str("\",\"level\":\"");
        line.push_str(meta.level().as_str());
        line.push_str("\",\"target\":");
        push_json_str(&mut line, meta.target());
        let embed = meta.target() == crate::metrics::TARGET;
        event.record(&mut Fields(&mut line, embed));
        line.push_str("}\n");
        writer.write_str(&line)
    }
}

/// Appends each field as `,"name":value`. On a metrics line (the second member set), the field
/// [`crate::metrics::EMBEDDED`] holds members already written as JSON by the metrics module, inserted as they are:
/// CloudWatch's embedded metric format wants its `_aws` object and the values at the top level of the line.
struct Fields<'a>(&'a mut String, bool);

impl Fields<'_> {
    fn key(&mut self, field: &Field) {
        self.0.push(',');
        push_json_str(self.0, field.name());
        self.0.push(':');
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.1 && field.name() == crate::metrics::EMBEDDED {
            self.0.push(',');
            self.0.push_str(value);
            return;
        }
        self.key(field);
        push_json_str(self.0, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        self.0.push_str(if value { "true" } else { "false" });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.0, "{value}");
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        if value.is_finite() {
            let _ = write!(self.0, "{value}");
        } else {
            self.0.push_str("null");
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(field);
        self.0.push('"');
        let _ = write!(Escaped(self.0), "{value:?}");
        self.0.push('"');
    }
}

fn push_json_str(out: &mut String, value: &str) {
    out.push('"');
    let _ = Escaped(out).write_str(value);
    out.push('"');
}

/// Writes text as the inside of a JSON string.
struct Escaped<'a>(&'a mut String);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
            self.0.push_str(&rest[..at]);
            let c = rest[at..].chars().next().unwrap_or(' ');
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                other => write!(self.0, "\\u{:04x}", u32::from(other))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.push_str(rest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_event_is_one_line_of_valid_json() {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = json_subscriber(default_filter(), move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                target: "profile_guard::audit",
                text = "quote \" backslash \\ newline \n tab \t bell \u{7} é 📱",
                shown = %"display",
                count = 3u64,
                delta = -2i64,
                ratio = 0.5,
                nan = f64::NAN,
                ok = true,
                absent = Option::<&str>::None,
                "decision"
            );
            tracing::debug!("not at the default level");
        });
        let out = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "profile_guard::audit");
        assert_eq!(v["message"], "decision");
        assert_eq!(
            v["text"],
            "quote \" backslash \\ newline \n tab \t bell \u{7} é 📱"
        );
        assert_eq!(v["shown"], "display");
        assert_eq!(
            (v["count"].as_u64(), v["delta"].as_i64()),
            (Some(3), Some(-2))
        );
        assert_eq!(
            (v["ratio"].as_f64(), v["ok"].as_bool()),
            (Some(0.5), Some(true))
        );
        assert!(v["nan"].is_null() && v.get("absent").is_none());
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
