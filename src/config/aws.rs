//! Where the AWS clients go. Credentials come from the SDK's default chain.

use super::ConfigError;
use super::reader::Reader;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION` (or `AWS_DEFAULT_REGION`).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL_SESV2`, else `AWS_ENDPOINT_URL`: an SES-compatible endpoint (an emulator in tests).
    pub ses_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`, else `AWS_ENDPOINT_URL`.
    pub secrets_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`.
    pub dynamodb_endpoint: Option<String>,
    /// `AWS_ENDPOINT_URL_SQS`, else `AWS_ENDPOINT_URL`.
    pub sqs_endpoint: Option<String>,
}

/// `AWS_REGION`, else `AWS_DEFAULT_REGION` (the names the SDK reads).
pub(super) fn region(r: &Reader<'_>) -> Option<String> {
    r.get("AWS_REGION").or_else(|| r.get("AWS_DEFAULT_REGION"))
}

pub(super) fn settings(r: &Reader<'_>) -> Result<AwsSettings, ConfigError> {
    let endpoint = r.get("AWS_ENDPOINT_URL");
    let aws = AwsSettings {
        region: region(r),
        ses_endpoint: r.get("AWS_ENDPOINT_URL_SESV2").or_else(|| endpoint.clone()),
        secrets_endpoint: r
            .get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            .or_else(|| endpoint.clone()),
        dynamodb_endpoint: r
            .get("AWS_ENDPOINT_URL_DYNAMODB")
            .or_else(|| endpoint.clone()),
        sqs_endpoint: r.get("AWS_ENDPOINT_URL_SQS").or(endpoint),
    };
    for (var, url) in [
        ("AWS_ENDPOINT_URL_SESV2", &aws.ses_endpoint),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &aws.secrets_endpoint),
        ("AWS_ENDPOINT_URL_DYNAMODB", &aws.dynamodb_endpoint),
        ("AWS_ENDPOINT_URL_SQS", &aws.sqs_endpoint),
    ] {
        if let Some(url) = url {
            reqwest::Url::parse(url)
                .map_err(|e| ConfigError::new(var, format!("is not a URL ({e})")))?;
        }
    }
    Ok(aws)
}
