//! The e-mail outbox through Amazon SES v2.

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{
    Body, Content, Destination, EmailContent, Message, MessageHeader, RawMessage,
};

use super::{Delivery, Outbox};
use crate::claims::EmailAddress;
use crate::notify::messages::Email;
use crate::upstream::{self, DeliveryError, DeliveryErrorKind as Kind};

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
            Err(e) => Err(DeliveryError::of_aws(
                upstream::aws::read(&e),
                "SES",
                ses_error_kind,
            )),
        }
    }

    fn describe(&self) -> String {
        format!("Amazon SES v2 from {}", self.sender)
    }
}

/// A message without attachments: SES's simple content, a text and an HTML part (and the headers of an urgent
/// message).
fn simple(email: &Email) -> Result<Message, DeliveryError> {
    let mut message = Message::builder().subject(content(&email.subject)?).body(
        Body::builder()
            .text(content(&email.text)?)
            .html(content(&email.html)?)
            .build(),
    );
    if email.high_priority {
        for (name, value) in super::HIGH_PRIORITY_HEADERS {
            let header = MessageHeader::builder().name(name).value(value).build();
            let header = header
                .map_err(|_| DeliveryError::new(Kind::Build, "a header could not be built"))?;
            message = message.headers(header);
        }
    }
    Ok(message.build())
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
