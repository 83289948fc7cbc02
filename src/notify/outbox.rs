//! Outboxes: Amazon SES v2, and a log line (local use with no AWS account).

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};

use super::Email;
use crate::claims::EmailAddress;
use crate::upstream::TransportFailure;
use DeliveryErrorKind as Kind;

/// How e-mail leaves: alerts and user notices alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    /// Amazon SES v2, from a verified sender identity (`ALERT_SENDER`).
    Ses { sender: EmailAddress },
    /// One JSON log line per message, for local use with no AWS account.
    LogOutbox,
}

/// A message the outbox accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// SES's message id, or a local one.
    pub message_id: String,
}

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
}

#[async_trait]
pub trait Outbox: Send + Sync {
    async fn send(&self, email: &Email) -> Result<Delivery, DeliveryError>;

    /// What this outbox is, for the start-up log line.
    fn describe(&self) -> String;
}

/// Sends through Amazon SES v2 from a verified identity. The client is built once at start-up.
pub struct SesOutbox {
    client: aws_sdk_sesv2::Client,
    sender: EmailAddress,
}

impl SesOutbox {
    pub fn new(client: aws_sdk_sesv2::Client, sender: EmailAddress) -> Self {
        SesOutbox { client, sender }
    }
}

fn content(data: &str) -> Result<Content, DeliveryError> {
    Content::builder()
        .data(data)
        .charset("UTF-8")
        .build()
        .map_err(|_| DeliveryError::new(Kind::Build, "message content could not be built"))
}

#[async_trait]
impl Outbox for SesOutbox {
    async fn send(&self, email: &Email) -> Result<Delivery, DeliveryError> {
        let content = match email.attachments.is_empty() {
            true => EmailContent::builder().simple(simple(email)?).build(),
            false => {
                let raw = super::mime::raw_message(self.sender.as_str(), email);
                let message = RawMessage::builder()
                    .data(Blob::new(raw.into_bytes()))
                    .build()
                    .map_err(|_| {
                        DeliveryError::new(Kind::Build, "the raw message could not be built")
                    })?;
                EmailContent::builder().raw(message).build()
            }
        };
        let result = self
            .client
            .send_email()
            .from_email_address(self.sender.as_str())
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(email.to.iter().map(|a| a.to_string()).collect()))
                    .build(),
            )
            .content(content)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Delivery {
                message_id: out.message_id().unwrap_or("(none)").to_owned(),
            }),
            Err(e) => Err(classify(&e)),
        }
    }

    fn describe(&self) -> String {
        format!("Amazon SES v2 from {}", self.sender)
    }
}

/// A message without attachments: SES's simple content, a text and an HTML part.
fn simple(email: &Email) -> Result<Message, DeliveryError> {
    Ok(Message::builder()
        .subject(content(&email.subject)?)
        .body(
            Body::builder()
                .text(content(&email.text)?)
                .html(content(&email.html)?)
                .build(),
        )
        .build())
}

fn classify<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> DeliveryError {
    match e {
        SdkError::TimeoutError(_) => {
            DeliveryError::new(Kind::Timeout, "SES did not answer in time")
        }
        SdkError::DispatchFailure(d) => DeliveryError::new(
            if d.is_timeout() {
                Kind::Timeout
            } else {
                Kind::Unreachable
            },
            if d.is_io() {
                "SES could not be reached"
            } else {
                "the request to SES could not be sent"
            },
        ),
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("unknown").to_owned();
            DeliveryError::new(ses_error_kind(&code), code)
        }
        SdkError::ResponseError(_) => {
            DeliveryError::new(Kind::Service, "SES's answer could not be read")
        }
        _ => DeliveryError::new(
            Kind::Build,
            "the SES request could not be built (credentials or region)",
        ),
    }
}

fn ses_error_kind(code: &str) -> Kind {
    match code {
        "TooManyRequestsException"
        | "Throttling"
        | "ThrottlingException"
        | "LimitExceededException" => Kind::Throttled,
        "MessageRejected"
        | "MailFromDomainNotVerifiedException"
        | "AccountSuspendedException"
        | "SendingPausedException"
        | "BadRequestException"
        | "NotFoundException" => Kind::Rejected,
        "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "AccessDeniedException"
        | "ExpiredTokenException" => Kind::Credentials,
        _ => Kind::Service,
    }
}

/// Writes each message as one JSON log line instead of sending it: the local default when `ALERT_SENDER` is not
/// set, so the service can be tried with no AWS account. The text is what would be sent (values masked unless
/// `ALERT_VALUES=full`); recipients are masked.
pub struct LogOutbox;

#[async_trait]
impl Outbox for LogOutbox {
    async fn send(&self, email: &Email) -> Result<Delivery, DeliveryError> {
        let message_id = format!("outbox-{}", uuid::Uuid::new_v4());
        tracing::info!(
            target: "profile_guard::outbox",
            message_id = %message_id,
            // Recipients can be the person's own address: masked like any attribute value in a log.
            to = %if email.to.is_empty() {
                "(SECURITY_TEAM_EMAILS not set)".to_owned()
            } else {
                email.to.iter().map(|a| super::mask::mask(a.as_str())).collect::<Vec<_>>().join(", ")
            },
            subject = %email.subject,
            text = %email.text,
            attachments = %email
                .attachments
                .iter()
                .map(|a| format!("{} ({} bytes)", a.filename, a.data.len()))
                .collect::<Vec<_>>()
                .join(", "),
            "e-mail written to the log outbox (ALERT_SENDER is not set)"
        );
        Ok(Delivery { message_id })
    }

    fn describe(&self) -> String {
        "log outbox (messages are written to the log, not sent; set ALERT_SENDER to send through SES)".into()
    }
}
