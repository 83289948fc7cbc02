//! Why a message did not reach its channel, read one way for every channel: a transport failure, an HTTP status,
//! or an AWS SDK error each map to one kind, and the kind alone says whether a retry may help.

use super::TransportFailure;
use super::aws::AwsFailure;
use DeliveryErrorKind as Kind;

/// What kind of failure kept a message from its channel; the audit line's `…:failed:<kind>:…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryErrorKind {
    /// The request could not be built (credentials, region, content).
    Build,
    Timeout,
    Unreachable,
    /// The request was sent but the exchange failed (not HTTP, TLS, a broken connection).
    Transport,
    Throttled,
    /// The channel refused this message; retrying will not help.
    Rejected,
    /// The channel refused our credentials.
    Credentials,
    /// The channel failed on its side.
    Service,
}

impl DeliveryErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryErrorKind::Build => "build",
            DeliveryErrorKind::Timeout => "timeout",
            DeliveryErrorKind::Unreachable => "unreachable",
            DeliveryErrorKind::Transport => "transport",
            DeliveryErrorKind::Throttled => "throttled",
            DeliveryErrorKind::Rejected => "rejected",
            DeliveryErrorKind::Credentials => "credentials",
            DeliveryErrorKind::Service => "service",
        }
    }
}

impl DeliveryErrorKind {
    /// Whether the same message may go through if tried again later (an outage, a rate limit), as opposed to a
    /// refusal that will not heal (a rejected message, a bad credential, a message that cannot be built).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Kind::Timeout | Kind::Unreachable | Kind::Transport | Kind::Throttled | Kind::Service
        )
    }
}

impl std::fmt::Display for DeliveryErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a message could not be delivered. `detail` is an error code or category, never message content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct DeliveryError {
    pub kind: DeliveryErrorKind,
    pub detail: String,
}

impl DeliveryError {
    pub fn new(kind: DeliveryErrorKind, detail: impl Into<String>) -> Self {
        DeliveryError {
            kind,
            detail: detail.into(),
        }
    }

    /// An exchange with `service` that produced no HTTP answer.
    pub fn transport(failure: TransportFailure, service: &str) -> Self {
        match failure {
            TransportFailure::Timeout => {
                Self::new(Kind::Timeout, format!("{service} did not answer in time"))
            }
            TransportFailure::Unreachable => {
                Self::new(Kind::Unreachable, format!("{service} could not be reached"))
            }
            TransportFailure::Tls => Self::new(
                Kind::Transport,
                format!("the TLS connection to {service} failed"),
            ),
            TransportFailure::Broken => {
                Self::new(Kind::Transport, format!("the request to {service} failed"))
            }
        }
    }

    /// An HTTP answer from `service` that is not a success: a rate limit, refused credentials, a refusal of the
    /// message, or a failure on its side. `Ok` for any 2xx.
    pub fn of_status(status: u16, service: &str) -> Result<(), Self> {
        let kind = match status {
            200..=299 => return Ok(()),
            429 => Kind::Throttled,
            401 | 403 => Kind::Credentials,
            400..=499 => Kind::Rejected,
            _ => Kind::Service,
        };
        Err(Self::new(kind, format!("{service} answered {status}")))
    }

    /// A failed call to the AWS service `service`; `kind_of` says what its error codes mean (anything it does not
    /// know is the service's own failure).
    pub fn of_aws(failure: AwsFailure<'_>, service: &str, kind_of: fn(&str) -> Kind) -> Self {
        match failure {
            AwsFailure::Timeout => {
                Self::new(Kind::Timeout, format!("{service} did not answer in time"))
            }
            AwsFailure::Unreachable => {
                Self::new(Kind::Unreachable, format!("{service} could not be reached"))
            }
            AwsFailure::Unsent => Self::new(
                Kind::Unreachable,
                format!("the request to {service} could not be sent"),
            ),
            AwsFailure::Service(code) => Self::new(kind_of(code), code),
            AwsFailure::Unreadable => Self::new(
                Kind::Service,
                format!("{service}'s answer could not be read"),
            ),
            AwsFailure::Build => Self::new(
                Kind::Build,
                format!("the {service} request could not be built (credentials or region)"),
            ),
        }
    }
}
