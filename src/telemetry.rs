//! Structured JSON logs on stdout: one object per line, as CloudWatch (with `AWS_LAMBDA_LOG_FORMAT=JSON`) and
//! log shippers expect. `RUST_LOG` sets the level (default `info`).

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str =
    "info,aws_config=warn,aws_smithy_runtime=warn,aws_sdk_sesv2=warn,hyper=warn,reqwest=warn";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(true)
        .with_env_filter(filter)
        .try_init();
}
