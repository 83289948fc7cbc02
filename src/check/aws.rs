//! Probes of the AWS services profile-guard uses: SES, DynamoDB, SQS and Secrets Manager. Each describes or reads;
//! none sends, writes or deletes anything.

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::types::VerificationStatus;

use super::{Finding, Status};
use crate::claims::EmailAddress;
use crate::secrets::{SecretKind, SecretReader, SecretSource};
use crate::upstream::aws::{AwsFailure, read};

/// The sender's identity is verified for sending (the address itself, or its domain), and the account may send
/// to anyone (out of the SES sandbox) with quota left.
pub async fn ses_sender(client: &aws_sdk_sesv2::Client, sender: &EmailAddress) -> Finding {
    let tried = format!("GetEmailIdentity for {sender} (or its domain), GetAccount");
    let finding = |status, detail: String| Finding::new("ses", status, &tried, detail);
    let verified = match identity_verified(client, sender).await {
        Ok(verified) => verified,
        Err(detail) => return finding(Status::Fail, detail),
    };
    let Some(identity) = verified else {
        return finding(
            Status::Fail,
            format!(
                "{sender} is not a verified SES identity in this region, nor is its domain: verify it (docs/deploy.md) or fix ALERT_SENDER"
            ),
        );
    };
    match client.get_account().send().await {
        Ok(account) if !account.production_access_enabled() => finding(
            Status::Warn,
            format!(
                "{identity} is verified, but the account is in the SES sandbox: mail reaches verified addresses only (request production access)"
            ),
        ),
        Ok(account) => {
            let quota = account.send_quota();
            let max = quota.map_or(0.0, |q| q.max24_hour_send());
            let sent = quota.map_or(0.0, |q| q.sent_last24_hours());
            let status = if max > 0.0 && sent >= max * 0.9 {
                Status::Warn
            } else {
                Status::Ok
            };
            finding(
                status,
                format!("{identity} is verified; sent {sent:.0} of {max:.0} in the last 24 h"),
            )
        }
        Err(e) => finding(
            Status::Warn,
            format!(
                "{identity} is verified; the account's sandbox status could not be read ({}; allow ses:GetAccount to see it)",
                read(&e).code()
            ),
        ),
    }
}

/// The verified identity that covers `sender`, if any: the address, else its domain.
async fn identity_verified(
    client: &aws_sdk_sesv2::Client,
    sender: &EmailAddress,
) -> Result<Option<String>, String> {
    let domain = sender.as_str().rsplit('@').next().unwrap_or_default();
    for identity in [sender.as_str(), domain] {
        match client
            .get_email_identity()
            .email_identity(identity)
            .send()
            .await
        {
            // Either status says the identity passed verification (emulators set only the second).
            Ok(out)
                if out.verified_for_sending_status()
                    || out.verification_status() == Some(&VerificationStatus::Success) =>
            {
                return Ok(Some(identity.to_owned()));
            }
            Ok(_) => {}
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NotFoundException") => {}
            Err(e) => return Err(aws_advice("SES", read(&e))),
        }
    }
    Ok(None)
}

/// The once-per-change table exists and is active.
pub async fn dynamo_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Finding {
    let tried = format!("DescribeTable {table}");
    let finding = |status, detail: String| Finding::new("dynamodb table", status, &tried, detail);
    match client.describe_table().table_name(table).send().await {
        Ok(out) => {
            let status = out.table().and_then(|t| t.table_status()).map(|s| s.as_str().to_owned());
            match status.as_deref() {
                Some("ACTIVE") | None => finding(Status::Ok, "the table exists and is active".into()),
                Some(other) => finding(Status::Warn, format!("the table is {other}, not ACTIVE yet")),
            }
        }
        Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("ResourceNotFoundException") => {
            finding(Status::Fail, "no such table in this region: check IDEMPOTENCY_TABLE (the stack creates it with OncePerChangeTable=create)".into())
        }
        Err(e) => finding(Status::Fail, aws_advice("DynamoDB", read(&e))),
    }
}

/// The alert queue exists and can be read.
pub async fn sqs_queue(client: &aws_sdk_sqs::Client, url: &str) -> Finding {
    let finding = |status, detail: String| {
        Finding::new(
            "sqs queue",
            status,
            "GetQueueAttributes on ALERT_QUEUE_URL",
            detail,
        )
    };
    let names = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages;
    match client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(names.clone())
        .send()
        .await
    {
        Ok(out) => {
            let waiting = out
                .attributes()
                .and_then(|a| a.get(&names))
                .cloned()
                .unwrap_or_default();
            finding(
                Status::Ok,
                format!("the queue answers ({waiting} message(s) waiting)"),
            )
        }
        Err(e) => {
            let failure = read(&e);
            let missing = matches!(failure, AwsFailure::Service(code) if code.contains("NonExistentQueue") || code == "QueueDoesNotExist");
            match missing {
                true => finding(Status::Fail, "no such queue: check ALERT_QUEUE_URL".into()),
                false => finding(Status::Fail, aws_advice("SQS", failure)),
            }
        }
    }
}

/// A secret named by a `…_SECRET` variable can be read and has the shape its use needs; its value is never shown.
pub async fn secret(reader: &SecretReader, source: &SecretSource, kind: SecretKind) -> Finding {
    let SecretSource::SecretsManager { id, var } = source else {
        return Finding::new(
            "secret",
            Status::Ok,
            "an inline value",
            "set in the environment",
        );
    };
    let dependency = format!("secret {var}");
    let tried = format!("GetSecretValue {id}");
    match reader.read(source, kind).await {
        Ok(_) => Finding::new(
            dependency,
            Status::Ok,
            tried,
            "readable, in a shape profile-guard uses (value not shown)",
        ),
        Err(e) => Finding::new(dependency, Status::Fail, tried, e.problem),
    }
}

/// What an AWS error means for an admin.
fn aws_advice(service: &str, failure: AwsFailure<'_>) -> String {
    match failure {
        AwsFailure::Service(code)
            if code.contains("AccessDenied")
                || code.contains("Unrecognized")
                || code.contains("Signature")
                || code.contains("Token") =>
        {
            format!("{service} refused the credentials ({code}): check the role's permissions")
        }
        AwsFailure::Service(code) => format!("{service} answered {code}"),
        AwsFailure::Timeout => format!("{service} did not answer in time"),
        AwsFailure::Unreachable | AwsFailure::Unsent => {
            format!("{service} could not be reached: check the region and the network path")
        }
        AwsFailure::Unreadable => format!("{service}'s answer could not be read"),
        AwsFailure::Build => format!(
            "the {service} request could not be built: check the credentials and AWS_REGION"
        ),
    }
}
