//! Start-up: reads secrets, builds the clients once from the configuration and serves the router, inside Lambda
//! or on a local socket. Beyond reading configured secrets (and, with `AUTH_MODE=jwt`, the signing keys),
//! start-up does no network I/O.

mod aws;
mod components;
mod lambda_consumer;

use std::sync::Arc;

use aws_config::{BehaviorVersion, ConfigLoader};

use crate::auth::AuthMode;
use crate::claims::ClaimSet;
use crate::config::{Config, FunctionRole};
use crate::endpoint::{AppState, ServeLimits, router, serve, shutdown_signal};
use crate::notify::templates::TemplateError;
use crate::notify::{EmailTransport, Notifier};
use crate::pipeline::Pipeline;
use crate::queue::{AlertQueue, BatchingQueue};
use crate::secrets::{SecretError, SecretSource};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the HTTP client for the directory could not be built: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Jwks(#[from] crate::auth::JwksError),
    #[error("could not listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("the local server failed: {0}")]
    Serve(std::io::Error),
    #[error("the Lambda runtime failed: {0}")]
    Lambda(String),
    #[error("FUNCTION_ROLE=alert-consumer: the consumer could not be built")]
    NoConsumer,
}

/// Builds the shared state with the AWS SDK's default credential chain.
pub async fn build_state(config: &Config) -> Result<AppState, StartupError> {
    build_state_with(config, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Builds the shared state: secrets read, every client built and every template compiled, each once. `aws` is
/// the SDK configuration loader to start from (tests pass one with fixed credentials).
pub async fn build_state_with(
    config: &Config,
    aws: ConfigLoader,
) -> Result<AppState, StartupError> {
    let sdk = aws::load(config, aws).await;
    let secrets = components::read_secrets(config, sdk.as_ref()).await?;
    let directory = components::directory(config, secrets.directory_token)?;
    let notifier = Arc::new(components::notifier(
        config,
        sdk.as_ref(),
        secrets.slack_webhook,
        secrets.teams_webhook,
        secrets.slack_bot_token,
    )?);
    log_configuration(config, directory.describe(), &notifier);
    let idempotency = components::idempotency(config, sdk.as_ref());
    let pending = components::pending(config, sdk.as_ref());
    let queue = components::queue(config, sdk.as_ref());
    let consumer = components::consumer(config, &notifier, &idempotency);
    let wso2 = components::wso2_route(
        config,
        &notifier,
        &idempotency,
        pending.as_ref(),
        secrets.wso2_webhook_secret,
    );
    let okta = components::okta_route(
        config,
        &notifier,
        &idempotency,
        secrets.okta_hook_auth,
        secrets.okta_api_token,
    )?;
    Ok(AppState {
        pipeline: Pipeline {
            directory,
            notifier,
            sensitive: config.sensitive_claims.clone(),
            idempotency,
            limits: config.limits,
            failure_modes: config.failure_modes,
            deadline: config.deadline,
            pending,
            queue: queue
                .clone()
                .map(|q| Arc::new(BatchingQueue::new(q)) as Arc<dyn AlertQueue>),
        },
        auth: components::authenticator(config, secrets.auth_credential.as_ref()).await?,
        max_body_bytes: config.limits.max_body_bytes,
        okta,
        wso2,
        consumer,
        queue,
    })
}

/// Every secret the configuration names, wherever it is kept.
fn secret_sources(config: &Config) -> [Option<&SecretSource>; 8] {
    [
        components::directory_token_source(&config.directory),
        config.alert.slack_webhook.as_ref(),
        config.alert.teams_webhook.as_ref(),
        config.auth.credential.as_ref(),
        config.notice.slack_bot_token.as_ref(),
        config.okta.hook_auth.as_ref(),
        config.okta.api_token.as_ref(),
        config.wso2_webhook_secret.as_ref(),
    ]
}

/// The start-up line: what this instance runs with (no secrets), and warnings for the local defaults.
fn log_configuration(config: &Config, directory: String, notifier: &Notifier) {
    let c = config.alert.channels;
    let channels = [(c.email, "email"), (c.slack, "slack"), (c.teams, "teams")]
        .iter()
        .filter_map(|(on, name)| on.then_some(*name))
        .collect::<Vec<_>>()
        .join(",");
    let idempotency = match config.idempotency.table.as_deref() {
        Some(table) => format!("in-memory + DynamoDB table {table}"),
        None => "in-memory".to_owned(),
    };
    tracing::info!(
        directory = %directory,
        email = %notifier.email.describe(),
        alert_channels = %channels,
        security_team = config.alert.recipients.len(),
        sensitive_claims = %sorted_claims(&config.sensitive_claims),
        user_notice = ?config.notice.mode,
        user_notice_channels = %channel_names(config.notice.channels.email, config.notice.channels.slack),
        idempotency = %idempotency,
        auth_mode = ?config.auth.mode,
        deadline_ms = config.deadline.as_millis() as u64,
        templates_overridden = %notifier.templates.overridden.join(","),
        okta_hook = config.okta.hook_auth.is_some(),
        wso2_webhook = config.wso2_webhook_secret.is_some(),
        user_notice_when = ?config.notice.when,
        okta_watched = %config.okta.watched.names().join(","),
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
}

/// `email`, `slack` or `email,slack`, as the settings spell them.
fn channel_names(email: bool, slack: bool) -> &'static str {
    match (email, slack) {
        (true, true) => "email,slack",
        (false, true) => "slack",
        _ => "email",
    }
}

fn sorted_claims(set: &ClaimSet) -> String {
    let mut v: Vec<&str> = set.iter().collect();
    v.sort_unstable();
    v.join(",")
}

/// Serves until stopped: under the Lambda runtime when inside Lambda, otherwise on `LISTEN_ADDR` until SIGTERM or
/// Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let state = build_state(&config).await?;
    let background = state.consumer.clone().zip(state.queue.clone());
    if config.in_lambda && config.queue.role == FunctionRole::AlertConsumer {
        let consumer = state.consumer.clone().ok_or(StartupError::NoConsumer)?;
        return lambda_consumer::run(consumer).await;
    }
    let app = router(Arc::new(state));
    if config.in_lambda {
        return lambda_http::run(app)
            .await
            .map_err(|e| StartupError::Lambda(e.to_string()));
    }
    // Outside Lambda the same process also drains the alert queue, as the template's second function does.
    if let Some((consumer, queue)) = background {
        tokio::spawn(crate::consumer::local::run(
            consumer,
            queue,
            shutdown_signal(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .map_err(|source| StartupError::Listen {
            addr: config.listen_addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    tracing::info!(%addr, "listening: POST http://{addr}/pre-update-profile");
    if config.okta.hook_auth.is_some() {
        tracing::info!(%addr, "Okta Event Hook: GET/POST http://{addr}/hooks/okta");
    }
    if config.wso2_webhook_secret.is_some() {
        tracing::info!(%addr, "WSO2 / Asgardeo webhooks: GET/POST http://{addr}/hooks/wso2");
    }
    serve(listener, app, ServeLimits::default(), shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}
