//! Calls to the services profile-guard depends on (the directory, Slack, Teams, Okta, AWS): one client shape and
//! one reading of what went wrong, so every adapter classifies a timeout, a refused connection, an HTTP status or
//! an AWS error code the same way.

pub mod aws;
mod delivery;

pub use delivery::{DeliveryError, DeliveryErrorKind};

use std::error::Error as _;
use std::time::Duration;

/// The HTTP client for an upstream: built once at start-up, a hard time limit on the whole exchange, no redirects
/// (a redirect could carry the token elsewhere).
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("profile-guard/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Why an exchange produced no HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    Timeout,
    /// Refused, reset, no route, no such host: the service is not there.
    Unreachable,
    /// A connection was made but could not be secured (certificate, protocol): a configuration problem.
    Tls,
    /// The exchange broke or the answer was not HTTP.
    Broken,
}

/// Sends `request`. reqwest's own timeout covers the whole exchange; the outer one guarantees no path can hang.
pub async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
) -> Result<reqwest::Response, TransportFailure> {
    match tokio::time::timeout(timeout + Duration::from_millis(50), request.send()).await {
        Err(_) => Err(TransportFailure::Timeout),
        Ok(Err(e)) => Err(classify(&e)),
        Ok(Ok(response)) => Ok(response),
    }
}

fn classify(e: &reqwest::Error) -> TransportFailure {
    if e.is_timeout() {
        TransportFailure::Timeout
    } else if e.is_connect() && handshake_failed(e) {
        TransportFailure::Tls
    } else if e.is_connect() {
        TransportFailure::Unreachable
    } else {
        TransportFailure::Broken
    }
}

/// TLS libraries report a failed handshake as an io error of kind `InvalidData` (a refused or reset socket, a
/// failed DNS lookup have other kinds).
fn handshake_failed(e: &reqwest::Error) -> bool {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidData
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// Sends `request` to `service` and reads at most `max` bytes of its answer: the status and the body, or a transport
/// failure as a delivery error.
pub async fn exchange(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    max: usize,
    service: &str,
) -> Result<(u16, Vec<u8>), DeliveryError> {
    let failed = |f| DeliveryError::transport(f, service);
    let response = send(request, timeout).await.map_err(failed)?;
    let status = response.status().as_u16();
    let body = read_capped(response, max).await.map_err(failed)?;
    Ok((status, body))
}

/// Whether `url` may carry a credential: https, or plain http to loopback alone (a local stub).
pub fn https_or_loopback(url: &reqwest::Url) -> bool {
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    url.scheme() == "https" || (url.scheme() == "http" && loopback)
}

/// An answer's body, at most `max` bytes of it (the client's time limit bounds the read).
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, TransportFailure> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = max.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= max {
                    return Ok(body);
                }
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(TransportFailure::Timeout),
            Err(_) => return Err(TransportFailure::Broken),
        }
    }
}
