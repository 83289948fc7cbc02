//! Secrets read once at start-up: from the environment for local use, or from AWS Secrets Manager by name or ARN
//! (the Lambda way, so that no secret is a plain template parameter or environment value).

use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use secrecy::SecretString;

use crate::config::SecretSource;

#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct SecretError {
    pub var: &'static str,
    pub problem: String,
}

/// Reads secrets; the Secrets Manager client exists only when some secret lives there.
pub struct SecretReader {
    client: Option<aws_sdk_secretsmanager::Client>,
}

impl SecretReader {
    pub fn new(client: Option<aws_sdk_secretsmanager::Client>) -> Self {
        SecretReader { client }
    }

    pub async fn read(&self, source: &SecretSource) -> Result<SecretString, SecretError> {
        match source {
            SecretSource::Inline(value) => Ok(value.clone()),
            SecretSource::SecretsManager { id, var } => {
                let Some(client) = &self.client else {
                    return Err(SecretError {
                        var,
                        problem: "no Secrets Manager client is configured".into(),
                    });
                };
                let out = client
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| {
                        let code = e
                            .code()
                            .unwrap_or("unreachable or unreadable answer")
                            .to_owned();
                        SecretError {
                            var,
                            problem: format!(
                                "secret {id:?} could not be read from Secrets Manager ({code})"
                            ),
                        }
                    })?;
                match out.secret_string() {
                    Some(s) if !s.trim().is_empty() => Ok(SecretString::from(s.trim().to_owned())),
                    _ => Err(SecretError {
                        var,
                        problem: format!("secret {id:?} has no SecretString value"),
                    }),
                }
            }
        }
    }
}

/// Whether any of `sources` must be read from Secrets Manager.
pub fn needs_secrets_manager<'a>(
    sources: impl IntoIterator<Item = Option<&'a SecretSource>>,
) -> bool {
    sources
        .into_iter()
        .flatten()
        .any(|s| matches!(s, SecretSource::SecretsManager { .. }))
}
