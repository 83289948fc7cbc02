//! What an AWS SDK call's error says, read once for every AWS service profile-guard calls (SES, SQS, DynamoDB):
//! each adapter then only names its service and which error codes mean what.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Why an AWS call failed, without the SDK's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsFailure<'a> {
    /// No answer in time.
    Timeout,
    /// The service could not be reached (connection refused, DNS, reset).
    Unreachable,
    /// The request could not be sent for another reason.
    Unsent,
    /// The service answered with an error code (`ThrottlingException`, …).
    Service(&'a str),
    /// An answer came that could not be read.
    Unreadable,
    /// The request could not be built (credentials, region).
    Build,
}

/// Reads an SDK error.
pub fn read<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> AwsFailure<'_> {
    match e {
        SdkError::TimeoutError(_) => AwsFailure::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => AwsFailure::Timeout,
        SdkError::DispatchFailure(d) if d.is_io() => AwsFailure::Unreachable,
        SdkError::DispatchFailure(_) => AwsFailure::Unsent,
        SdkError::ServiceError(s) => AwsFailure::Service(s.err().code().unwrap_or("unknown")),
        SdkError::ResponseError(_) => AwsFailure::Unreadable,
        _ => AwsFailure::Build,
    }
}

impl AwsFailure<'_> {
    /// A short word for a log line or a store error: the service's error code, or what happened.
    pub fn code(&self) -> &str {
        match self {
            AwsFailure::Timeout => "timeout",
            AwsFailure::Unreachable | AwsFailure::Unsent => "unreachable",
            AwsFailure::Service(code) => code,
            AwsFailure::Unreadable => "unreadable",
            AwsFailure::Build => "build",
        }
    }
}
