//! `profile-guard check`: the probes of every configured dependency, built from the configuration exactly as
//! start-up reads it. Nothing is sent, written or changed.

use std::sync::Arc;

use aws_config::{BehaviorVersion, ConfigLoader};

use super::aws::sdk_client;
use super::components;
use crate::auth::AuthMode;
use crate::check::{self, Finding, Probe, Report, Status};
use crate::config::Config;
use crate::directory::{self, DEFAULT_DEPARTMENTS, DirectorySettings};
use crate::notify::channels::EmailTransport;
use crate::secrets::{SecretKind, SecretReader, SecretSource};

/// Runs the check with the AWS SDK's default credential chain.
pub async fn check(config: &Config) -> Report {
    check_with(config, aws_config::defaults(BehaviorVersion::latest())).await
}

/// Tries each configured dependency once; the directory must know `CHECK_DEPARTMENT` (by default the first of
/// the embedded departments).
pub async fn check_with(config: &Config, aws: ConfigLoader) -> Report {
    let department = config.check_department.clone();
    let sdk = super::aws::load(config, aws).await;
    let manager = sdk.as_ref().map(|sdk| {
        let endpoint = config.aws.secrets_endpoint.as_ref();
        sdk_client!(aws_sdk_secretsmanager, sdk, endpoint)
    });
    let reader = Arc::new(SecretReader::new(manager));
    let mut probes: Vec<(String, Probe)> = Vec::new();
    for (source, kind) in stored_secrets(config) {
        let (reader, source) = (Arc::clone(&reader), source.clone());
        probes.push((
            "secret".into(),
            Box::pin(async move { check::secret(&reader, &source, kind).await }),
        ));
    }
    probes.push((
        "directory".into(),
        directory_probe(config, &reader, department),
    ));
    if let (EmailTransport::Ses { sender }, Some(sdk)) = (&config.email, sdk.as_ref()) {
        let client = sdk_client!(aws_sdk_sesv2, sdk, config.aws.ses_endpoint.as_ref());
        let sender = sender.clone();
        probes.push((
            "ses".into(),
            Box::pin(async move { check::ses_sender(&client, &sender).await }),
        ));
    } else if config.email == EmailTransport::LogOutbox {
        probes.push(("e-mail".into(), ready(log_outbox())));
    }
    aws_probes(config, sdk.as_ref(), &mut probes);
    chat_probes(config, &reader, &mut probes);
    okta_probe(config, &reader, &mut probes);
    identity_server_probes(config, &reader, &mut probes);
    Report::run(probes, check::PROBE_TIMEOUT).await
}

fn ready(finding: Finding) -> Probe {
    Box::pin(async move { finding })
}

fn log_outbox() -> Finding {
    Finding::new(
        "e-mail",
        Status::Warn,
        "ALERT_SENDER",
        "not set: alerts and notices are written to the log, not e-mailed (set ALERT_SENDER to send through SES)",
    )
}

/// Every secret kept in Secrets Manager, with the shape its use needs.
fn stored_secrets(config: &Config) -> Vec<(&SecretSource, SecretKind)> {
    let auth_kind = match config.auth.mode {
        AuthMode::Basic => SecretKind::BasicCredential,
        _ => SecretKind::Single,
    };
    let single = [
        components::directory_token_source(&config.directory),
        config.alert.slack_webhook.as_ref(),
        config.alert.teams_webhook.as_ref(),
        config.notice.slack_bot_token.as_ref(),
        config.okta.hook_auth.as_ref(),
        config.okta.api_token.as_ref(),
        config.wso2_webhook_secret.as_ref(),
    ];
    let auth = config.auth.credential.as_ref().map(|s| (s, auth_kind));
    (single
        .into_iter()
        .flatten()
        .map(|s| (s, SecretKind::Single)))
    .chain(auth)
    .filter(|(s, _)| matches!(s, SecretSource::SecretsManager { .. }))
    .collect()
}

fn directory_probe(
    config: &Config,
    reader: &Arc<SecretReader>,
    department: Option<String>,
) -> Probe {
    let settings = config.directory.clone();
    let reader = Arc::clone(reader);
    Box::pin(async move {
        let known = department.unwrap_or_else(|| match &settings {
            DirectorySettings::Embedded { departments } => {
                departments.first().cloned().unwrap_or_default()
            }
            DirectorySettings::Http { .. } => DEFAULT_DEPARTMENTS
                .split(',')
                .next()
                .unwrap_or_default()
                .to_owned(),
        });
        let token = components::directory_token_source(&settings);
        let token = match reader.read_if_set(token, SecretKind::Single).await {
            Ok(token) => token,
            Err(e) => {
                return Finding::new(
                    "directory",
                    Status::Fail,
                    "reading the directory token",
                    e.to_string(),
                );
            }
        };
        match directory::from_config(&settings, token) {
            Ok(directory) => check::directory(directory.as_ref(), &known).await,
            Err(e) => Finding::new(
                "directory",
                Status::Fail,
                "building the HTTP client",
                e.to_string(),
            ),
        }
    })
}

fn aws_probes(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
    probes: &mut Vec<(String, Probe)>,
) {
    let Some(sdk) = sdk else { return };
    if let Some(table) = config.idempotency.table.clone() {
        let client = sdk_client!(aws_sdk_dynamodb, sdk, config.aws.dynamodb_endpoint.as_ref());
        probes.push((
            "dynamodb table".into(),
            Box::pin(async move { check::dynamo_table(&client, &table).await }),
        ));
    }
    if let Some(url) = config.queue.url.clone() {
        let client = sdk_client!(aws_sdk_sqs, sdk, config.aws.sqs_endpoint.as_ref());
        probes.push((
            "sqs queue".into(),
            Box::pin(async move { check::sqs_queue(&client, &url).await }),
        ));
    }
}

fn chat_probes(config: &Config, reader: &Arc<SecretReader>, probes: &mut Vec<(String, Probe)>) {
    let channels = config.alert.channels;
    if channels.slack {
        let set = config.alert.slack_webhook.is_some();
        probes.push((
            "slack webhook".into(),
            ready(check::webhook_shape(
                "slack webhook",
                "SLACK_WEBHOOK_URL",
                set,
            )),
        ));
    }
    if channels.teams {
        let set = config.alert.teams_webhook.is_some();
        probes.push((
            "teams webhook".into(),
            ready(check::webhook_shape(
                "teams webhook",
                "TEAMS_WEBHOOK_URL",
                set,
            )),
        ));
    }
    let Some(source) = config
        .notice
        .slack_bot_token
        .clone()
        .filter(|_| config.notice.channels.slack)
    else {
        return;
    };
    let (reader, api, timeout) = (
        Arc::clone(reader),
        config.notice.slack_api_url.clone(),
        config.alert.slack_timeout,
    );
    probes.push((
        "slack bot token".into(),
        Box::pin(async move {
            match reader.read(&source, SecretKind::Single).await {
                Ok(token) => check::slack_bot_token(&api, &token, timeout).await,
                Err(e) => Finding::new(
                    "slack bot token",
                    Status::Fail,
                    "reading the bot token",
                    e.to_string(),
                ),
            }
        }),
    ));
}

fn okta_probe(config: &Config, reader: &Arc<SecretReader>, probes: &mut Vec<(String, Probe)>) {
    let (Some(org), Some(source)) = (config.okta.org_url.clone(), config.okta.api_token.clone())
    else {
        return;
    };
    let reader = Arc::clone(reader);
    let timeout = components::OKTA_API_TIMEOUT;
    probes.push((
        "okta api token".into(),
        Box::pin(async move {
            match reader.read(&source, SecretKind::Single).await {
                Ok(token) => check::okta_token(&org, &token, timeout).await,
                Err(e) => Finding::new(
                    "okta api token",
                    Status::Fail,
                    "reading the API token",
                    e.to_string(),
                ),
            }
        }),
    ));
}

/// The identity server's keys (`AUTH_MODE=jwt`) and its SCIM2 API (`REPORT_ACTION=lock`), when configured.
fn identity_server_probes(
    config: &Config,
    reader: &Arc<SecretReader>,
    probes: &mut Vec<(String, Probe)>,
) {
    if let Some(jwt) = &config.auth.jwt {
        let url = jwt.jwks_url.url().clone();
        probes.push((
            "jwks".into(),
            Box::pin(async move { check::jwks(&url, check::HTTP_TIMEOUT).await }),
        ));
    }
    let Some(scim) = config.report.as_ref().and_then(|r| r.wso2_scim.clone()) else {
        return;
    };
    let reader = Arc::clone(reader);
    probes.push((
        "wso2 scim".into(),
        Box::pin(async move {
            match reader.read(&scim.token, SecretKind::Single).await {
                Ok(token) => check::scim(scim.url.users_read(), &token, check::HTTP_TIMEOUT).await,
                Err(e) => Finding::new(
                    "wso2 scim",
                    Status::Fail,
                    "reading the SCIM token",
                    e.to_string(),
                ),
            }
        }),
    ));
}
