//! The WSO2 / Asgardeo webhook route: off unless its signing secret is set.

use super::reader::Reader;
use super::{ConfigError, rules};
use crate::notify::settings::{NoticeSettings, NoticeWhen};
use crate::secrets::SecretSource;

/// `WSO2_WEBHOOK_SECRET` / `WSO2_WEBHOOK_SECRET_SECRET`: the secret deliveries are signed with; it turns on
/// `/hooks/wso2`. Notices after commit need it, and in Lambda a shared table to find the pre-update's notice in.
pub(super) fn secret(
    r: &Reader<'_>,
    notice: &NoticeSettings,
    in_lambda: bool,
    table: Option<&str>,
) -> Result<Option<SecretSource>, ConfigError> {
    let secret = r.secret("WSO2_WEBHOOK_SECRET", "WSO2_WEBHOOK_SECRET_SECRET")?;
    if notice.when == NoticeWhen::Commit {
        rules::commit_needs_webhook(secret.as_ref())?;
        rules::lambda_commit_needs_table(in_lambda, table)?;
    }
    Ok(secret)
}

/// `WSO2_WEBSUB_ALLOW_UNSUBSCRIBE` (default false): whether `/hooks/wso2` confirms an unsubscription to
/// Asgardeo's hub. Off, nobody can switch the commit events off by asking the hub to unsubscribe this endpoint.
pub(super) fn allow_unsubscribe(r: &Reader<'_>) -> Result<bool, ConfigError> {
    r.flag("WSO2_WEBSUB_ALLOW_UNSUBSCRIBE", false)
}
