//! Start-up: reads secrets, builds the clients once from the configuration and serves the router, inside Lambda
//! or on a local socket. Beyond reading configured secrets (and, with `AUTH_MODE=jwt`, the signing keys),
//! start-up does no network I/O.

mod aws;
mod background;
mod check;
mod components;
mod lambda_api;
mod lambda_catchup;
mod lambda_consumer;
mod okta;
mod reports;

use std::sync::Arc;

use aws_config::{BehaviorVersion, ConfigLoader};

use crate::auth::AuthMode;
use crate::catchup::Catchup;
use crate::claims::ClaimSet;
use crate::config::{Config, FunctionRole};
use crate::consumer::AlertConsumer;
use crate::endpoint::{AppState, ServeLimits, router, serve, shutdown_signal};
use crate::notify::Notifier;
use crate::notify::channels::EmailTransport;
use crate::notify::templates::TemplateError;
use crate::pipeline::{
    AlertPath, LeavePending, NoticePath, Pipeline, QueueAlerts, SendAlerts, SendNotices,
};
use crate::queue::BatchingQueue;
use crate::secrets::{SecretError, SecretSource};

pub use background::Background;
pub use check::{check, check_with};
use components::Serves;

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
    #[error(
        "FUNCTION_ROLE=okta-catchup without the catch-up: set OKTA_CATCHUP_INTERVAL_SECS, OKTA_ORG_URL and OKTA_API_TOKEN"
    )]
    CatchupOff,
}

/// What start-up built for the routes: their state, and beside it what runs in the background.
pub struct Service {
    pub state: AppState,
    pub background: Background,
}

/// Builds the service with the AWS SDK's default credential chain.
pub async fn build(config: &Config) -> Result<Service, StartupError> {
    build_with(config, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Builds the routes' state and the background parts: secrets read, every client built and every template
/// compiled, each once. `aws` is the SDK configuration loader to start from (tests pass one with fixed
/// credentials).
pub async fn build_with(config: &Config, aws: ConfigLoader) -> Result<Service, StartupError> {
    let sdk = aws::load(config, aws).await;
    let secrets = components::read_secrets(config, sdk.as_ref(), Serves::Routes).await?;
    let directory = components::directory(config, secrets.directory_token)?;
    let links = reports::links(config, secrets.report.key.as_ref());
    let notifier = components::notifier(config, sdk.as_ref(), secrets.chat, links)?;
    let notifier = Arc::new(notifier);
    log_configuration(config, directory.describe(), &notifier);
    let idempotency = components::idempotency(config, sdk.as_ref());
    let pending = components::pending(config, sdk.as_ref());
    let queue = components::queue(config, sdk.as_ref());
    let mut background = Background::default();
    let alerts: Arc<dyn AlertPath> = match &queue {
        Some(queue) => {
            let (batching, batcher) = BatchingQueue::new(Arc::clone(queue));
            background.batcher = Some(batcher);
            Arc::new(QueueAlerts(Arc::new(batching)))
        }
        None => Arc::new(SendAlerts(Arc::clone(&notifier))),
    };
    let notices: Arc<dyn NoticePath> = match &pending {
        Some(pending) => {
            background.sweep = Some(Arc::clone(pending));
            Arc::new(LeavePending {
                pending: Arc::clone(pending),
                notifier: Arc::clone(&notifier),
            })
        }
        None => Arc::new(SendNotices(Arc::clone(&notifier))),
    };
    let token = secrets.okta_api_token.as_ref();
    // Outside Lambda the same process drains the queue and catches up with Okta, as the template's other
    // functions do.
    if !config.in_lambda {
        background.consumer =
            queue.map(|queue| (components::consumer(config, &notifier, &idempotency), queue));
        background.catchup = okta::catchup(config, sdk.as_ref(), &notifier, &idempotency, token)?;
    }
    let okta_token = secrets.okta_api_token.clone();
    let report = reports::reports(config, sdk.as_ref(), &notifier, secrets.report, okta_token)?;
    let routes = components::Routes {
        wso2: components::wso2_route(
            config,
            &notifier,
            &idempotency,
            pending.as_ref(),
            secrets.wso2_webhook_secret,
        ),
        okta: okta::route(
            config,
            &notifier,
            &idempotency,
            secrets.okta_hook_auth,
            token,
        )?,
    };
    let state = AppState {
        pipeline: Pipeline {
            directory,
            notifier,
            sensitive: config.sensitive_claims.clone(),
            idempotency,
            limits: config.limits,
            failure_modes: config.failure_modes,
            deadline: config.deadline,
            alerts,
            notices,
        },
        auth: components::authenticator(config, secrets.auth_credential.as_ref()).await?,
        max_body_bytes: config.limits.max_body_bytes,
        okta: routes.okta,
        wso2: routes.wso2,
        report,
    };
    Ok(Service { state, background })
}

/// Builds the alert consumer alone (`FUNCTION_ROLE=alert-consumer`): the notifier's alert channels and the
/// once-per-change store, nothing the routes need.
pub async fn build_consumer_with(
    config: &Config,
    aws: ConfigLoader,
) -> Result<Arc<AlertConsumer>, StartupError> {
    let sdk = aws::load(config, aws).await;
    let secrets = components::read_secrets(config, sdk.as_ref(), Serves::AlertQueue).await?;
    // The consumer sends alerts only: no notice, so no report link.
    let notifier = Arc::new(components::notifier(
        config,
        sdk.as_ref(),
        secrets.chat,
        None,
    )?);
    log_configuration(config, "(not used by the consumer)".to_owned(), &notifier);
    let idempotency = components::idempotency(config, sdk.as_ref());
    Ok(components::consumer(config, &notifier, &idempotency))
}

/// Builds the catch-up from Okta's System Log alone (`FUNCTION_ROLE=okta-catchup`): the notifier, the
/// once-per-change store shared with the hook, the log's client, the cursor's store.
pub async fn build_catchup_with(
    config: &Config,
    aws: ConfigLoader,
) -> Result<Arc<Catchup>, StartupError> {
    let sdk = aws::load(config, aws).await;
    let secrets = components::read_secrets(config, sdk.as_ref(), Serves::OktaCatchup).await?;
    let links = reports::links(config, secrets.report.key.as_ref());
    let notifier = components::notifier(config, sdk.as_ref(), secrets.chat, links)?;
    let notifier = Arc::new(notifier);
    log_configuration(config, "(not used by the catch-up)".to_owned(), &notifier);
    let idempotency = components::idempotency(config, sdk.as_ref());
    let token = secrets.okta_api_token.as_ref();
    okta::catchup(config, sdk.as_ref(), &notifier, &idempotency, token)?
        .ok_or(StartupError::CatchupOff)
}

/// Every secret the configuration names, wherever it is kept.
fn secret_sources(config: &Config) -> [Option<&SecretSource>; 10] {
    let report = config.report.as_ref();
    [
        components::directory_token_source(&config.directory),
        config.alert.slack_webhook.as_ref(),
        config.alert.teams_webhook.as_ref(),
        config.auth.credential.as_ref(),
        config.notice.slack_bot_token.as_ref(),
        config.okta.hook_auth.as_ref(),
        config.okta.api_token.as_ref(),
        config.wso2_webhook_secret.as_ref(),
        report.map(|r| &r.secret),
        report.and_then(|r| r.wso2_scim.as_ref()).map(|s| &s.token),
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
        email = %notifier.describe_email(),
        alert_channels = %channels,
        security_team = config.alert.recipients.len(),
        sensitive_claims = %sorted_claims(&config.sensitive_claims),
        user_notice = ?config.notice.mode,
        user_notice_channels = %channel_names(config.notice.channels.email, config.notice.channels.slack),
        idempotency = %idempotency,
        auth_mode = ?config.auth.mode,
        deadline_ms = config.deadline.as_millis() as u64,
        templates_overridden = %notifier.templates().overridden.join(","),
        okta_hook = config.okta.hook_auth.is_some(),
        wso2_webhook = config.wso2_webhook_secret.is_some(),
        user_notice_when = ?config.notice.when,
        okta_watched = %config.okta.watched.names().join(","),
        okta_catchup_interval_secs = config.okta.catchup.map(|c| c.interval.as_secs()),
        reports = config.report.as_ref().map(|r| r.action.as_str()),
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

/// Serves until stopped: under the Lambda runtime when inside Lambda (as the role the function plays), otherwise
/// on `LISTEN_ADDR` until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartupError> {
    if config.in_lambda && config.queue.role == FunctionRole::AlertConsumer {
        let loader = aws_config::defaults(BehaviorVersion::latest());
        let consumer = build_consumer_with(&config, loader).await?;
        return lambda_consumer::run(consumer).await;
    }
    if config.in_lambda && config.queue.role == FunctionRole::OktaCatchup {
        let loader = aws_config::defaults(BehaviorVersion::latest());
        let catchup = build_catchup_with(&config, loader).await?;
        return lambda_catchup::run(catchup).await;
    }
    let Service {
        state,
        mut background,
    } = build(&config).await?;
    background.start();
    let app = router(Arc::new(state));
    if config.in_lambda {
        return lambda_api::run(app, Arc::new(config)).await;
    }
    background.consume_until(shutdown_signal());
    background.catch_up_until(shutdown_signal());
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
    if let Some(report) = &config.report {
        let base = report.url_base.as_str();
        tracing::info!(%addr, "\"This wasn't me\" links: every notice links to {base}/report (GET page, POST button)");
    }
    serve(listener, app, ServeLimits::default(), shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}
