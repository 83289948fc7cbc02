//! Start-up: reads secrets, builds the clients once from the configuration and serves the router, inside Lambda
//! or on a local socket. Beyond reading configured secrets, start-up does no network I/O.

use std::sync::Arc;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};

use crate::config::{AlertTransport, Config, DirectoryConfig};
use crate::directory;
use crate::guard::Guard;
use crate::http::{AppState, router};
use crate::notify::{LogOutbox, Outbox, SesOutbox};
use crate::secrets::{SecretError, SecretReader, needs_secrets_manager};

/// How long one AWS call may take, retries included.
const AWS_OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
const AWS_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the HTTP client for the directory could not be built: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("the local server failed: {0}")]
    Serve(std::io::Error),
    #[error("the Lambda runtime failed: {0}")]
    Lambda(String),
}

/// Builds the shared state with the AWS SDK's default credential chain.
pub async fn build_state(config: &Config) -> Result<AppState, StartupError> {
    build_state_with(config, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Builds the shared state: secrets read, the directory client and the alert outbox built, each once. `aws`
/// is the SDK configuration loader to start from (tests pass one with fixed credentials).
pub async fn build_state_with(
    config: &Config,
    aws: ConfigLoader,
) -> Result<AppState, StartupError> {
    let directory_token_source = match &config.directory {
        DirectoryConfig::Http { token, .. } => token.as_ref(),
        DirectoryConfig::Embedded { .. } => None,
    };
    let uses_ses = matches!(config.alert.transport, AlertTransport::Ses { .. });
    let uses_secrets_manager = needs_secrets_manager([directory_token_source]);

    let sdk = if uses_ses || uses_secrets_manager {
        let mut loader = aws.timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(AWS_OPERATION_TIMEOUT)
                .connect_timeout(AWS_CONNECT_TIMEOUT)
                .build(),
        );
        if let Some(region) = &config.aws.region {
            loader = loader.region(Region::new(region.clone()));
        }
        Some(loader.load().await)
    } else {
        None
    };

    let secrets = SecretReader::new(match (&sdk, uses_secrets_manager) {
        (Some(sdk), true) => {
            let mut b = aws_sdk_secretsmanager::config::Builder::from(sdk);
            if let Some(url) = &config.aws.secrets_endpoint {
                b = b.endpoint_url(url);
            }
            Some(aws_sdk_secretsmanager::Client::from_conf(b.build()))
        }
        _ => None,
    });
    let directory_token = match directory_token_source {
        Some(source) => Some(secrets.read(source).await?),
        None => None,
    };

    let directory: Arc<dyn directory::Directory> =
        Arc::from(directory::from_config(&config.directory, directory_token)?);
    let alert_outbox: Arc<dyn Outbox> = match (&config.alert.transport, &sdk) {
        (AlertTransport::Ses { sender }, Some(sdk)) => {
            let mut b = aws_sdk_sesv2::config::Builder::from(sdk);
            if let Some(url) = &config.aws.ses_endpoint {
                b = b.endpoint_url(url);
            }
            Arc::new(SesOutbox::new(
                aws_sdk_sesv2::Client::from_conf(b.build()),
                sender.clone(),
            ))
        }
        _ => Arc::new(LogOutbox),
    };
    tracing::info!(
        directory = %directory.describe(),
        alerts = %alert_outbox.describe(),
        security_team = config.alert.recipients.len(),
        sensitive_claims = %{
            let mut v: Vec<&str> = config.sensitive_claims.iter().collect();
            v.sort_unstable();
            v.join(",")
        },
        in_lambda = config.in_lambda,
        "profile-guard configured"
    );
    if config.alert.transport == AlertTransport::LogOutbox {
        tracing::warn!(
            "ALERT_SENDER is not set: security alerts are written to the log outbox, not e-mailed"
        );
    }
    Ok(AppState {
        guard: Guard {
            directory,
            alert_outbox,
            alert_recipients: config.alert.recipients.clone(),
            sensitive: config.sensitive_claims.clone(),
            values: config.alert.values,
        },
        max_body_bytes: config.max_body_bytes,
    })
}

/// Serves until stopped: under the Lambda runtime when inside Lambda, otherwise on `LISTEN_ADDR` until SIGTERM or
/// Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let app = router(Arc::new(build_state(&config).await?));
    if config.in_lambda {
        return lambda_http::run(app)
            .await
            .map_err(|e| StartupError::Lambda(e.to_string()));
    }
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .map_err(|source| StartupError::Listen {
            addr: config.listen_addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(%addr, "listening: POST http://{addr}/pre-update-profile");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartupError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
