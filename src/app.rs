//! Start-up: reads secrets, builds the clients once from the configuration and serves the router, inside Lambda
//! or on a local socket. Beyond reading configured secrets, start-up does no network I/O.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};

use crate::auth::{AuthMode, Authenticator};
use crate::claims::ClaimSet;
use crate::config::Config;
use crate::directory::{self, DirectorySettings};
use crate::endpoint::{AppState, ServeLimits, router, serve, shutdown_signal};
use crate::idempotency::{DynamoStore, Idempotency, Retention, Store};
use crate::notify::Notifier;
use crate::notify::slack::{ChatSender, SlackWebhook, WebhookUrl};
use crate::notify::templates::{TemplateError, Templates};
use crate::notify::{EmailTransport, LogOutbox, Outbox, SesOutbox};
use crate::pipeline::Pipeline;
use crate::secrets::{SecretError, SecretKind, SecretReader, needs_secrets_manager};

/// How long one AWS call may take, retries included.
const AWS_OPERATION_TIMEOUT: Duration = Duration::from_millis(1500);
const AWS_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the HTTP client for the directory could not be built: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Template(#[from] TemplateError),
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

/// Entries the warm-instance idempotency cache holds at most.
const IDEMPOTENCY_CACHE_ENTRIES: usize = 10_000;

/// How long answers are reused: a refused department no longer than the directory cache keeps "unknown".
fn retention(config: &Config) -> Retention {
    let refused_department = match &config.directory {
        DirectorySettings::Http {
            cache: Some(cache), ..
        } => Some(cache.unknown_ttl),
        _ => None,
    };
    Retention {
        with_request_id: config.idempotency.ttl,
        content_only: config.idempotency.content_ttl,
        refused_department,
    }
}

/// Builds the shared state: secrets read, every client built and every template compiled, each once. `aws` is
/// the SDK configuration loader to start from (tests pass one with fixed credentials).
pub async fn build_state_with(
    config: &Config,
    aws: ConfigLoader,
) -> Result<AppState, StartupError> {
    let directory_token_source = match &config.directory {
        DirectorySettings::Http { token, .. } => token.as_ref(),
        DirectorySettings::Embedded { .. } => None,
    };
    let secret_sources = [
        directory_token_source,
        config.alert.slack_webhook.as_ref(),
        config.auth.credential.as_ref(),
    ];
    let uses_ses = matches!(config.email, EmailTransport::Ses { .. });
    let uses_secrets_manager = needs_secrets_manager(secret_sources);
    let uses_dynamodb = config.idempotency.table.is_some();

    // The SDK configuration is only loaded when some AWS service is used: a local run touches no AWS code path.
    let sdk = if uses_ses || uses_secrets_manager || uses_dynamodb {
        // Throttling and 5xx are retried with jittered exponential backoff, kept short so that all attempts
        // fit in the operation timeout (and that inside the call's deadline).
        let retry = RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(50))
            .with_max_backoff(Duration::from_millis(400));
        let mut loader = aws.retry_config(retry).timeout_config(
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
    let directory_token = secrets
        .read_if_set(directory_token_source, SecretKind::Single)
        .await?;
    let credential_kind = match config.auth.mode {
        AuthMode::Basic => SecretKind::BasicCredential,
        _ => SecretKind::Single,
    };
    let auth_credential = secrets
        .read_if_set(config.auth.credential.as_ref(), credential_kind)
        .await?;
    // An inline credential is used as given: this is its check (a stored one was checked as it was read).
    if config.auth.mode == AuthMode::Basic
        && let Some(c) = &auth_credential
        && !secrecy::ExposeSecret::expose_secret(c).contains(':')
    {
        return Err(StartupError::Secret(SecretError {
            var: "AUTH_CREDENTIAL_SECRET",
            problem: "the secret must be user:password with AUTH_MODE=basic".into(),
        }));
    }
    let slack = match &config.alert.slack_webhook {
        Some(source) => {
            let url = WebhookUrl::parse(secrets.read(source, SecretKind::Single).await?).map_err(
                |problem| SecretError {
                    var: "SLACK_WEBHOOK_URL_SECRET",
                    problem: format!("the webhook URL {problem}"),
                },
            )?;
            let webhook = SlackWebhook::new(url, config.alert.slack_timeout)?;
            Some(Arc::new(webhook) as Arc<dyn ChatSender>)
        }
        None => None,
    };

    let directory: Arc<dyn directory::Directory> =
        Arc::from(directory::from_config(&config.directory, directory_token)?);
    let email: Arc<dyn Outbox> = match (&config.email, &sdk) {
        (EmailTransport::Ses { sender }, Some(sdk)) => {
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
    let store = match (&config.idempotency.table, &sdk) {
        (Some(table), Some(sdk)) => {
            let mut b = aws_sdk_dynamodb::config::Builder::from(sdk);
            if let Some(url) = &config.aws.dynamodb_endpoint {
                b = b.endpoint_url(url);
            }
            let client = aws_sdk_dynamodb::Client::from_conf(b.build());
            Some(Arc::new(DynamoStore::new(client, table.clone())) as Arc<dyn Store>)
        }
        _ => None,
    };
    let templates = Templates::load(config.template_dir.as_deref())?;

    tracing::info!(
        directory = %directory.describe(),
        email = %email.describe(),
        alert_channels = %match (config.alert.channels.email, config.alert.channels.slack) {
            (true, true) => "email,slack",
            (false, true) => "slack",
            _ => "email",
        },
        security_team = config.alert.recipients.len(),
        sensitive_claims = %sorted_claims(&config.sensitive_claims),
        user_notice = ?config.notice.mode,
        idempotency = %config.idempotency.table.as_deref().map_or("in-memory".to_owned(), |t| format!("in-memory + DynamoDB table {t}")),
        auth_mode = ?config.auth.mode,
        deadline_ms = config.deadline.as_millis() as u64,
        templates_overridden = %templates.overridden.join(","),
        in_lambda = config.in_lambda,
        "profile-guard configured"
    );
    if config.email == EmailTransport::LogOutbox {
        tracing::warn!(
            "ALERT_SENDER is not set: alerts and notices are written to the log outbox, not e-mailed"
        );
    }
    if config.auth.mode == AuthMode::None {
        tracing::warn!("AUTH_MODE is none: the endpoint accepts calls without credentials");
    }
    Ok(AppState {
        pipeline: Pipeline {
            directory,
            notifier: Notifier {
                email,
                chat: slack,
                channels: config.alert.channels,
                recipients: config.alert.recipients.clone(),
                values: config.alert.values,
                notice: config.notice.clone(),
                templates: Arc::new(templates),
            },
            sensitive: config.sensitive_claims.clone(),
            idempotency: Idempotency::new(retention(config), IDEMPOTENCY_CACHE_ENTRIES, store),
            limits: config.limits,
            failure_modes: config.failure_modes,
            deadline: config.deadline,
        },
        auth: Authenticator::new(
            config.auth.mode,
            &config.auth.api_key_header,
            auth_credential.as_ref(),
        ),
        max_body_bytes: config.limits.max_body_bytes,
    })
}

fn sorted_claims(set: &ClaimSet) -> String {
    let mut v: Vec<&str> = set.iter().collect();
    v.sort_unstable();
    v.join(",")
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
    serve(listener, app, ServeLimits::default(), shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}
