//! The baseline for `make bench-load` (examples/bench_load): a bare axum server with the same runtime and HTTP
//! stack as profile-guard that only parses the body as `serde_json::Value` and answers
//! `{"actionStatus":"SUCCESS"}`.
//! Whatever profile-guard costs beyond this is its own work (checks, idempotency, policy, audit).
//!
//!     LISTEN_ADDR=127.0.0.1:3100 cargo run --release --example bare_server

use std::hint::black_box;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:3100";

async fn action(body: Bytes) -> Response {
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(value) => {
            black_box(value);
            (
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"actionStatus":"SUCCESS"}"#,
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"actionStatus":"ERROR","errorMessage":"invalid_request","errorDescription":"The request body is not valid JSON."}"#,
        )
            .into_response(),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("LISTEN_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_LISTEN_ADDR.to_owned());
    let app = Router::new()
        .route("/pre-update-profile", post(action))
        .route("/", post(action));
    let listener = tokio::net::TcpListener::bind(addr.trim()).await?;
    println!(
        "bare_server listening on http://{}/pre-update-profile",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
