//! The parts of the service, each built once from its settings and the secrets read for it.

use std::sync::Arc;

use aws_config::SdkConfig;
use secrecy::SecretString;

use super::StartupError;
use super::aws::sdk_client;
use crate::auth::{AuthMode, Authenticator, CallerAuth, JwtAuthenticator, WebhookSignature};
use crate::config::Config;
use crate::consumer::AlertConsumer;
use crate::directory::{self, Directory, DirectorySettings};
use crate::endpoint::{OktaRoute, Wso2Route};
use crate::hooks::Wso2Hook;
use crate::idempotency::{DynamoStore, Idempotency, Retention, Store};
use crate::notify::channels::slack::SlackWebhook;
use crate::notify::channels::slack_dm::SlackDm;
use crate::notify::channels::teams::TeamsWebhook;
use crate::notify::channels::{
    ChatSender, DirectMessenger, EmailTransport, LogOutbox, Outbox, SesOutbox,
};
use crate::notify::settings::{NoticeWhen, WebhookUrl};
use crate::notify::{self, Notifier, NotifierParts, ReportLinks};
use crate::pending::{DynamoPending, MemoryPending, Pending, PendingStore};
use crate::queue::SqsQueue;
use crate::secrets::{SecretError, SecretKind, SecretReader};

/// The Users API's share of Okta's 3 s: the address read leaves time to send.
pub(super) const OKTA_API_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(1000);

/// Entries the warm-instance idempotency map holds at most.
const IDEMPOTENCY_CACHE_ENTRIES: usize = 10_000;

/// What this process serves, so it reads only the secrets it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Serves {
    /// The action and the hooks (the API function, or the local server).
    Routes,
    /// Queued alerts only (the consumer function).
    AlertQueue,
    /// The catch-up from Okta's System Log only (the catch-up function): the notice and alert channels and the
    /// Okta API token.
    OktaCatchup,
}

/// The secrets of the chat channels.
#[derive(Default)]
pub(super) struct ChatSecrets {
    pub slack_webhook: Option<WebhookUrl>,
    pub teams_webhook: Option<WebhookUrl>,
    pub slack_bot_token: Option<SecretString>,
}

/// Every secret this process uses, read once.
#[derive(Default)]
pub(super) struct Secrets {
    pub directory_token: Option<SecretString>,
    pub auth_credential: Option<SecretString>,
    pub chat: ChatSecrets,
    pub okta_hook_auth: Option<SecretString>,
    pub okta_api_token: Option<SecretString>,
    pub wso2_webhook_secret: Option<SecretString>,
    pub report: super::reports::ReportSecrets,
}

/// The hook routes, each on when its secret is set.
pub(super) struct Routes {
    pub okta: Option<OktaRoute>,
    pub wso2: Option<Wso2Route>,
}

/// Reads every secret `serves` uses, from the environment or Secrets Manager, each checked for its use.
pub(super) async fn read_secrets(
    config: &Config,
    sdk: Option<&SdkConfig>,
    serves: Serves,
) -> Result<Secrets, StartupError> {
    let uses_manager = crate::secrets::needs_secrets_manager(super::secret_sources(config));
    let client = sdk.filter(|_| uses_manager).map(|sdk| {
        sdk_client!(
            aws_sdk_secretsmanager,
            sdk,
            config.aws.secrets_endpoint.as_ref()
        )
    });
    let reader = SecretReader::new(client);
    let webhook = config.alert.slack_webhook.as_ref();
    let teams = config.alert.teams_webhook.as_ref();
    let alert_chats = ChatSecrets {
        slack_webhook: webhook_url(&reader, webhook, "SLACK_WEBHOOK_URL_SECRET").await?,
        teams_webhook: webhook_url(&reader, teams, "TEAMS_WEBHOOK_URL_SECRET").await?,
        slack_bot_token: None,
    };
    if serves == Serves::AlertQueue {
        return Ok(Secrets {
            chat: alert_chats,
            ..Secrets::default()
        });
    }
    let bot_token = config.notice.slack_bot_token.as_ref();
    let slack_bot_token = reader.read_if_set(bot_token, SecretKind::Single).await?;
    let chat = ChatSecrets {
        slack_bot_token,
        ..alert_chats
    };
    let okta = &config.okta;
    let okta_api_token = reader
        .read_if_set(okta.api_token.as_ref(), SecretKind::Single)
        .await?;
    // The catch-up sends notices, and a notice carries the report link.
    let report = super::reports::read_secrets(&reader, config).await?;
    if serves == Serves::OktaCatchup {
        return Ok(Secrets {
            chat,
            okta_api_token,
            report,
            ..Secrets::default()
        });
    }
    let token = directory_token_source(&config.directory);
    let directory_token = reader.read_if_set(token, SecretKind::Single).await?;
    let kind = match config.auth.mode {
        AuthMode::Basic => SecretKind::BasicCredential,
        _ => SecretKind::Single,
    };
    let auth_credential = reader
        .read_if_set(config.auth.credential.as_ref(), kind)
        .await?;
    let okta_hook_auth = reader
        .read_if_set(okta.hook_auth.as_ref(), SecretKind::Single)
        .await?;
    let wso2 = config.wso2_webhook_secret.as_ref();
    let wso2_webhook_secret = reader.read_if_set(wso2, SecretKind::Single).await?;
    Ok(Secrets {
        directory_token,
        auth_credential,
        chat,
        okta_hook_auth,
        okta_api_token,
        wso2_webhook_secret,
        report,
    })
}

/// A webhook URL (the credential of a chat channel), read and checked.
async fn webhook_url(
    reader: &SecretReader,
    source: Option<&crate::secrets::SecretSource>,
    var: &'static str,
) -> Result<Option<WebhookUrl>, StartupError> {
    match reader.read_if_set(source, SecretKind::Single).await? {
        Some(url) => Ok(Some(WebhookUrl::parse(url).map_err(|problem| {
            SecretError {
                var,
                problem: format!("the webhook URL {problem}"),
            }
        })?)),
        None => Ok(None),
    }
}

pub(super) fn directory_token_source(
    settings: &DirectorySettings,
) -> Option<&crate::secrets::SecretSource> {
    match settings {
        DirectorySettings::Http { token, .. } => token.as_ref(),
        DirectorySettings::Embedded { .. } => None,
    }
}

pub(super) fn directory(
    config: &Config,
    token: Option<SecretString>,
) -> Result<Arc<dyn Directory>, StartupError> {
    Ok(Arc::from(directory::from_config(&config.directory, token)?))
}

/// Who hears of a change, and through what: e-mail (SES or the log outbox), Slack, the templates, and the report
/// link in every notice when reports are on.
pub(super) fn notifier(
    config: &Config,
    sdk: Option<&SdkConfig>,
    secrets: ChatSecrets,
    links: Option<Arc<dyn ReportLinks>>,
) -> Result<Notifier, StartupError> {
    let ChatSecrets {
        slack_webhook: webhook,
        teams_webhook: teams,
        slack_bot_token: bot_token,
    } = secrets;
    let email: Arc<dyn Outbox> = match (&config.email, sdk) {
        (EmailTransport::Ses { sender }, Some(sdk)) => {
            let client = sdk_client!(aws_sdk_sesv2, sdk, config.aws.ses_endpoint.as_ref());
            Arc::new(SesOutbox::new(client, sender.clone()))
        }
        _ => Arc::new(LogOutbox),
    };
    let timeout = config.alert.slack_timeout;
    let mut chats: Vec<Arc<dyn ChatSender>> = Vec::new();
    if let Some(url) = webhook.filter(|_| config.alert.channels.slack) {
        chats.push(Arc::new(SlackWebhook::new(url, timeout)?));
    }
    if let Some(url) = teams.filter(|_| config.alert.channels.teams) {
        chats.push(Arc::new(TeamsWebhook::new(url, timeout)?));
    }
    // The bot token is read whenever it is set, but only a Slack notice channel uses it.
    let dm = match bot_token.filter(|_| config.notice.channels.slack) {
        Some(token) => {
            let api = config.notice.slack_api_url.clone();
            let client = SlackDm::new(api, token, config.alert.slack_timeout)?;
            Some(Arc::new(client) as Arc<dyn DirectMessenger>)
        }
        None => None,
    };
    Ok(Notifier::new(NotifierParts {
        email,
        chats,
        dm,
        channels: config.alert.channels,
        recipients: config.alert.recipients.clone(),
        values: config.alert.values,
        notice: config.notice.clone(),
        templates: Arc::new(notify::load_templates(config.template_dir.as_deref())?),
        links,
    }))
}

/// The warm-instance map, and the shared table when one is configured.
pub(super) fn idempotency(config: &Config, sdk: Option<&SdkConfig>) -> Idempotency {
    let store = match (&config.idempotency.table, sdk) {
        (Some(table), Some(sdk)) => {
            let client = sdk_client!(aws_sdk_dynamodb, sdk, config.aws.dynamodb_endpoint.as_ref());
            Some(Arc::new(DynamoStore::new(client, table.clone())) as Arc<dyn Store>)
        }
        _ => None,
    };
    Idempotency::new(retention(config), IDEMPOTENCY_CACHE_ENTRIES, store)
}

/// `USER_NOTICE_WHEN=commit`: where notices wait for their commit event, the shared table when there is one.
pub(super) fn pending(config: &Config, sdk: Option<&SdkConfig>) -> Option<Arc<Pending>> {
    if config.notice.when != NoticeWhen::Commit {
        return None;
    }
    let store: Arc<dyn PendingStore> = match (&config.idempotency.table, sdk) {
        (Some(table), Some(sdk)) => {
            let client = sdk_client!(aws_sdk_dynamodb, sdk, config.aws.dynamodb_endpoint.as_ref());
            Arc::new(DynamoPending::new(client, table.clone()))
        }
        _ => Arc::new(MemoryPending::default()),
    };
    Some(Arc::new(Pending::new(store, config.notice.pending_ttl)))
}

/// The WSO2 / Asgardeo webhook route, when its secret is set.
pub(super) fn wso2_route(
    config: &Config,
    notifier: &Arc<Notifier>,
    idempotency: &Idempotency,
    pending: Option<&Arc<Pending>>,
    secret: Option<SecretString>,
) -> Option<Wso2Route> {
    Some(Wso2Route {
        hook: Wso2Hook {
            notifier: Arc::clone(notifier),
            idempotency: idempotency.clone(),
            pending: pending.cloned(),
            notice_claims: config.notice.claims.clone(),
            deadline: config.deadline,
            event_ttl: config.idempotency.event_ttl,
        },
        signature: WebhookSignature::new(secret?),
        allow_unsubscribe: config.wso2_websub_allow_unsubscribe,
    })
}

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
        event: config.idempotency.event_ttl,
        refused_department,
    }
}

/// The action's caller check. With `AUTH_MODE=jwt` the signing keys are read now: without them start-up fails.
pub(super) async fn authenticator(
    config: &Config,
    credential: Option<&SecretString>,
) -> Result<CallerAuth, StartupError> {
    Ok(match &config.auth.jwt {
        Some(jwt) => CallerAuth::Jwt(Box::new(JwtAuthenticator::start(jwt).await?)),
        None => CallerAuth::Static(Authenticator::new(
            config.auth.mode,
            &config.auth.api_key_header,
            credential,
        )),
    })
}

/// The alert queue, when `ALERT_QUEUE_URL` is set.
pub(super) fn queue(config: &Config, sdk: Option<&SdkConfig>) -> Option<Arc<SqsQueue>> {
    let (url, sdk) = (config.queue.url.as_ref()?, sdk?);
    let client = sdk_client!(aws_sdk_sqs, sdk, config.aws.sqs_endpoint.as_ref());
    Some(Arc::new(SqsQueue::new(client, url.clone())))
}

/// The consumer of queued alerts: the consumer function, or the loop beside a local server with a queue.
pub(super) fn consumer(
    config: &Config,
    notifier: &Arc<Notifier>,
    idempotency: &Idempotency,
) -> Arc<AlertConsumer> {
    Arc::new(AlertConsumer::new(
        Arc::clone(notifier),
        idempotency.clone(),
        config.queue.digest_threshold,
        config.queue.send_rate,
    ))
}
