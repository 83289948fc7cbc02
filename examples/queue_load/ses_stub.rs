//! A stand-in for Amazon SES v2 on loopback that throttles the way SES does: above its sending rate it answers
//! `429 TooManyRequestsException` ("Maximum sending rate exceeded"). Every accepted message is kept, so the driver
//! can count the messages the security team received and the changes they account for.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;

/// What the stub saw.
#[derive(Default)]
pub struct Inbox {
    pub accepted: usize,
    pub throttled: usize,
    /// The request ids of the changes the accepted messages name.
    pub changes: BTreeSet<String>,
    sent_at: Vec<Instant>,
}

pub struct SesStub {
    pub inbox: Arc<Mutex<Inbox>>,
    pub port: u16,
}

struct Shared {
    inbox: Arc<Mutex<Inbox>>,
    rate: usize,
    id_prefix: String,
}

impl SesStub {
    /// Serves on a free loopback port; `rate` messages a second, `id_prefix` starts every change's request id.
    pub async fn start(rate: usize, id_prefix: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let shared = Arc::new(Shared {
            inbox: Arc::clone(&inbox),
            rate,
            id_prefix: id_prefix.to_owned(),
        });
        let app = Router::new()
            .route("/v2/email/outbound-emails", post(send_email))
            .with_state(shared);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SesStub { inbox, port })
    }

    pub fn snapshot(&self) -> (usize, usize, usize) {
        let inbox = self.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        (inbox.accepted, inbox.throttled, inbox.changes.len())
    }
}

async fn send_email(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mut inbox = shared.inbox.lock().unwrap_or_else(PoisonError::into_inner);
    let now = Instant::now();
    inbox
        .sent_at
        .retain(|t| now.duration_since(*t) < Duration::from_secs(1));
    if inbox.sent_at.len() >= shared.rate {
        inbox.throttled += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-ErrorType", "TooManyRequestsException")],
            r#"{"message":"Maximum sending rate exceeded."}"#,
        )
            .into_response();
    }
    inbox.sent_at.push(now);
    inbox.accepted += 1;
    let text = readable_text(&body);
    for id in ids_in(&text, &shared.id_prefix) {
        inbox.changes.insert(id);
    }
    let id = format!("stub-{}", inbox.accepted);
    (StatusCode::OK, format!(r#"{{"MessageId":"{id}"}}"#)).into_response()
}

/// The request's text with a raw message's base64 parts decoded (the CSV and the text part of a digest).
fn readable_text(body: &[u8]) -> String {
    let request: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut text = request.to_string();
    if let Some(raw) = request
        .pointer("/Content/Raw/Data")
        .and_then(|d| d.as_str())
        && let Ok(mime) = b64.decode(raw)
    {
        let mime = String::from_utf8_lossy(&mime).into_owned();
        for block in mime.split("\r\n\r\n") {
            let joined: String = block.lines().take_while(|l| !l.starts_with("--")).collect();
            if let Ok(decoded) = b64.decode(joined.trim()) {
                text.push_str(&String::from_utf8_lossy(&decoded));
            }
        }
    }
    text
}

/// Every `prefix` followed by digits.
fn ids_in(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            let digits: String = text[at + prefix.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            format!("{prefix}{digits}")
        })
        .filter(|id| id.len() > prefix.len())
        .collect()
}
