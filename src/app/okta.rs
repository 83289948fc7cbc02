//! The Okta parts: the hook's sending (one, shared by the route and the catch-up, so an event is remembered the
//! same way however it arrives), the route when its secret is set, and the catch-up when its interval is set.

use std::sync::Arc;

use aws_config::SdkConfig;
use secrecy::SecretString;

use super::StartupError;
use super::aws::sdk_client;
use super::components::OKTA_API_TIMEOUT;
use crate::auth::{AuthMode, Authenticator};
use crate::catchup::{Catchup, CatchupStore, DynamoCatchupStore, MemoryCatchupStore};
use crate::config::Config;
use crate::endpoint::OktaRoute;
use crate::hooks::OktaHook;
use crate::idempotency::Idempotency;
use crate::notify::Notifier;
use crate::okta_log::SystemLogApi;
use crate::okta_users::{OktaUsers, OktaUsersApi};

/// The hook's rules and sending: it shares the notifier and the once-per-change store with the action.
pub(super) fn hook(
    config: &Config,
    notifier: &Arc<Notifier>,
    idempotency: &Idempotency,
    api_token: Option<&SecretString>,
) -> Result<OktaHook, StartupError> {
    let okta = &config.okta;
    let users = match (&okta.org_url, api_token) {
        (Some(org), Some(token)) => {
            let api = OktaUsersApi::new(org.clone(), token.clone(), OKTA_API_TIMEOUT)?;
            Some(Arc::new(api) as Arc<dyn OktaUsers>)
        }
        _ => None,
    };
    Ok(OktaHook {
        notifier: Arc::clone(notifier),
        idempotency: idempotency.clone(),
        users,
        watched: okta.watched.clone(),
        alerted: okta.alerted.clone(),
        org: okta.org_url.as_ref().map(|u| u.host().to_owned()),
        deadline: config.deadline,
    })
}

/// The Okta route, when its authorization value is set.
pub(super) fn route(
    config: &Config,
    notifier: &Arc<Notifier>,
    idempotency: &Idempotency,
    hook_auth: Option<SecretString>,
    api_token: Option<&SecretString>,
) -> Result<Option<OktaRoute>, StartupError> {
    let Some(hook_auth) = hook_auth else {
        return Ok(None);
    };
    let header = &config.okta.auth_header;
    Ok(Some(OktaRoute {
        hook: hook(config, notifier, idempotency, api_token)?,
        auth: Authenticator::new(AuthMode::ApiKey, header, Some(&hook_auth)),
    }))
}

/// The catch-up, when its interval is set: the System Log read with the org's API token, the cursor and lease in
/// the shared table when there is one (else in this instance's memory).
pub(super) fn catchup(
    config: &Config,
    sdk: Option<&SdkConfig>,
    notifier: &Arc<Notifier>,
    idempotency: &Idempotency,
    api_token: Option<&SecretString>,
) -> Result<Option<Arc<Catchup>>, StartupError> {
    let okta = &config.okta;
    // The configuration turns the catch-up on only with the org and its token.
    let (Some(settings), Some(org), Some(token)) = (okta.catchup, &okta.org_url, api_token) else {
        return Ok(None);
    };
    let store: Arc<dyn CatchupStore> = match (&config.idempotency.table, sdk) {
        (Some(table), Some(sdk)) => {
            let client = sdk_client!(aws_sdk_dynamodb, sdk, config.aws.dynamodb_endpoint.as_ref());
            Arc::new(DynamoCatchupStore::new(client, table.clone()))
        }
        _ => Arc::new(MemoryCatchupStore::default()),
    };
    Ok(Some(Arc::new(Catchup {
        hook: hook(config, notifier, idempotency, Some(token))?,
        log: Arc::new(SystemLogApi::new(org.clone(), token.clone())?),
        store,
        interval: settings.interval,
        lookback: settings.lookback,
        remembered: config.idempotency.event_ttl,
    })))
}
