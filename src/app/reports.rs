//! "This wasn't me": the key and the link signer the notices use, and the report routes' parts (the once store,
//! the locks), each built once.

use std::sync::Arc;

use aws_config::SdkConfig;
use secrecy::SecretString;

use super::StartupError;
use super::aws::sdk_client;
use crate::config::Config;
use crate::idempotency::{DynamoStore, MemoryStore, Store};
use crate::notify::{Notifier, ReportLinks};
use crate::report::lock::AccountLock;
use crate::report::lock::okta::OktaLock;
use crate::report::lock::wso2_scim::ScimLock;
use crate::report::once::Once;
use crate::report::token::{LinkKey, LinkSigner};
use crate::report::{ReportSettings, Reports};
use crate::secrets::{SecretError, SecretKind, SecretReader, SecretSource};

/// The secrets reports use.
#[derive(Default)]
pub(super) struct ReportSecrets {
    /// The key, checked for its length.
    pub key: Option<LinkKey>,
    pub scim_token: Option<SecretString>,
}

/// The variable a key was read from, for an error line.
fn key_var(source: &SecretSource) -> &'static str {
    match source {
        SecretSource::Inline(_) => "REPORT_LINK_SECRET",
        SecretSource::SecretsManager { var, .. } => var,
    }
}

/// Reads the link key and the SCIM2 token, when reports are on.
pub(super) async fn read_secrets(
    reader: &SecretReader,
    config: &Config,
) -> Result<ReportSecrets, StartupError> {
    let Some(settings) = &config.report else {
        return Ok(ReportSecrets::default());
    };
    let secret = reader.read(&settings.secret, SecretKind::Single).await?;
    let key = LinkKey::new(&secret).map_err(|problem| SecretError {
        var: key_var(&settings.secret),
        problem: problem.to_string(),
    })?;
    let scim = settings.wso2_scim.as_ref().map(|s| &s.token);
    let scim_token = reader.read_if_set(scim, SecretKind::Single).await?;
    Ok(ReportSecrets {
        key: Some(key),
        scim_token,
    })
}

/// The maker of the links notices carry.
pub(super) fn links(config: &Config, key: Option<&LinkKey>) -> Option<Arc<dyn ReportLinks>> {
    let (settings, key) = (config.report.as_ref()?, key?);
    Some(Arc::new(LinkSigner {
        key: key.clone(),
        base: settings.url_base.clone(),
        ttl: settings.ttl,
    }))
}

/// The report routes' parts, when reports are on. `okta_api_token` is Okta's token (`OKTA_API_TOKEN`), which
/// suspends reported Okta accounts.
pub(super) fn reports(
    config: &Config,
    sdk: Option<&SdkConfig>,
    notifier: &Arc<Notifier>,
    secrets: ReportSecrets,
    okta_api_token: Option<SecretString>,
) -> Result<Option<Reports>, StartupError> {
    let (Some(settings), Some(key)) = (config.report.as_ref(), secrets.key) else {
        return Ok(None);
    };
    let store: Arc<dyn Store> = match (&config.idempotency.table, sdk) {
        (Some(table), Some(sdk)) => {
            let client = sdk_client!(aws_sdk_dynamodb, sdk, config.aws.dynamodb_endpoint.as_ref());
            Arc::new(DynamoStore::new(client, table.clone()))
        }
        _ => Arc::new(MemoryStore::default()),
    };
    Ok(Some(Reports {
        key,
        notifier: Arc::clone(notifier),
        once: Once::new(store),
        action: settings.action,
        wso2_lock: wso2_lock(settings, secrets.scim_token)?,
        okta_lock: okta_lock(config, okta_api_token)?,
        deadline: config.deadline,
    }))
}

fn wso2_lock(
    settings: &ReportSettings,
    token: Option<SecretString>,
) -> Result<Option<Arc<dyn AccountLock>>, StartupError> {
    match (&settings.wso2_scim, token) {
        (Some(scim), Some(token)) => Ok(Some(Arc::new(ScimLock::new(scim.url.clone(), token)?))),
        _ => Ok(None),
    }
}

fn okta_lock(
    config: &Config,
    token: Option<SecretString>,
) -> Result<Option<Arc<dyn AccountLock>>, StartupError> {
    match (&config.okta.org_url, token) {
        (Some(org), Some(token)) => Ok(Some(Arc::new(OktaLock::new(org.clone(), token)?))),
        _ => Ok(None),
    }
}
