//! Structured JSON logs on stdout: one object per line, as CloudWatch (with `AWS_LAMBDA_LOG_FORMAT=JSON`) and
//! log shippers expect. `RUST_LOG` sets the level per target, e.g. `info` or `warn,profile_guard=info`
//! (`target=level` pairs; no regex filters, which keeps the binary small).

use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const DEFAULT_FILTER: &str =
    "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_sesv2=warn,hyper=warn,reqwest=warn";

/// The filter users get without `RUST_LOG`: info, with the SDK and HTTP crates' chatter at warn.
pub fn default_filter() -> Targets {
    DEFAULT_FILTER.parse().unwrap_or_default()
}

/// The service's log format: one flat JSON object per event, written through `writer`. The benchmarks use it
/// too, so they pay for the audit line as users do.
pub fn json_subscriber<W>(filter: Targets, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
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
