//! The local server: HTTP/1.1 on a socket, with limits on clients that stall before their request is whole, and
//! a graceful stop. Inside Lambda the runtime serves the router instead.

use std::time::Duration;

/// What the local server allows a client before it drops the connection. The body is bounded by the call's
/// deadline (`DEADLINE_MS`) as it is read; these bound what comes before it.
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// The request line and headers must arrive within this after the connection opens, or after the previous
    /// answer on a kept-alive connection. The identity server sends them at once; a client that does not is cut
    /// off without an answer.
    pub header_read_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

/// Well above a slow network's round trip, well below the identity server's own read timeout.
const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` completes, then lets the calls in flight finish. A
/// connection whose headers do not arrive within the limit is closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: ServeLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little instead of spinning on the error.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small: send them at once rather than wait to fill a segment.
        let _ = stream.set_nodelay(true);
        let router = hyper_util::service::TowerToHyperService::new(app.clone());
        // Each request knows the peer it came from, as Lambda's request context tells it there (the report's IP).
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            use hyper::service::Service as _;
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            router.call(request)
        });
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that stalls or goes away ends its connection with an error: nothing to answer.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Completes on SIGTERM (how a host stops the service) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received, finishing requests in flight");
}
