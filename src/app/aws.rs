//! The AWS SDK, loaded once and only when some AWS service is used: a local run touches no AWS code path.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{ConfigLoader, Region, SdkConfig};

use crate::config::Config;
use crate::notify::channels::EmailTransport;
use crate::secrets::needs_secrets_manager;

/// How long one AWS call may take, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// One client for an AWS service: the shared configuration (region, credentials, retries, timeouts) with the
/// service's own endpoint override (an emulator in tests).
macro_rules! sdk_client {
    ($service:ident, $sdk:expr, $endpoint:expr) => {{
        let mut builder = $service::config::Builder::from($sdk);
        if let Some(url) = $endpoint {
            builder = builder.endpoint_url(url);
        }
        $service::Client::from_conf(builder.build())
    }};
}
pub(super) use sdk_client;

/// The SDK configuration, when SES, Secrets Manager or DynamoDB is used.
pub(super) async fn load(config: &Config, aws: ConfigLoader) -> Option<SdkConfig> {
    let uses_ses = matches!(config.email, EmailTransport::Ses { .. });
    let uses_dynamodb = config.idempotency.table.is_some();
    let uses_sqs = config.queue.url.is_some();
    if !(uses_ses
        || uses_dynamodb
        || uses_sqs
        || needs_secrets_manager(super::secret_sources(config)))
    {
        return None;
    }
    // Throttling and 5xx are retried with jittered exponential backoff, kept short so that all attempts fit in
    // the operation timeout (and that inside the call's deadline).
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(400));
    let timeouts = TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build();
    let mut loader = aws.retry_config(retry).timeout_config(timeouts);
    if let Some(region) = &config.aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    Some(loader.load().await)
}
