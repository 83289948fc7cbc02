//! A department directory that misbehaves on purpose, for `make load-faults` (examples/load_faults.rs).
//!
//! `GET /departments/{department}` answers, for each call in turn (a fixed pseudo-random sequence):
//!
//! - 10 %: HTTP 500;
//! - 5 %: sleeps `STUB_SLOW_MS` (default 1000 ms, past profile-guard's directory timeout) before a 200;
//! - otherwise 200 when the department is in `STUB_DEPARTMENTS`, 404 when it is not.
//!
//! It listens on `LISTEN_ADDR` (default `127.0.0.1:0`, a free port), prints `directory_stub listening on
//! http://ADDR` once ready, and on SIGTERM or Ctrl-C prints how many answers of each kind it gave.
//!
//!     LISTEN_ADDR=127.0.0.1:3200 cargo run --release --example directory_stub

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const DEFAULT_DEPARTMENTS: &str = "Engineering,HR,Sales,Finance,Customer Success,R&D";

struct Stub {
    departments: HashSet<String>,
    slow: Duration,
    calls: AtomicU64,
    known: AtomicU64,
    unknown: AtomicU64,
    failed: AtomicU64,
    slowed: AtomicU64,
}

/// splitmix64: a well-mixed, repeatable sequence from a counter.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn department(State(stub): State<Arc<Stub>>, Path(name): Path<String>) -> Response {
    let n = stub.calls.fetch_add(1, Ordering::Relaxed);
    match mix(n) % 100 {
        0..10 => {
            stub.failed.fetch_add(1, Ordering::Relaxed);
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"injected failure"}"#.to_owned(),
            )
        }
        10..15 => {
            stub.slowed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(stub.slow).await;
            json(StatusCode::OK, r#"{"slow":true}"#.to_owned())
        }
        _ if stub.departments.contains(&name) => {
            stub.known.fetch_add(1, Ordering::Relaxed);
            json(
                StatusCode::OK,
                serde_json::json!({ "name": name }).to_string(),
            )
        }
        _ => {
            stub.unknown.fetch_add(1, Ordering::Relaxed);
            json(
                StatusCode::NOT_FOUND,
                r#"{"error":"no such department"}"#.to_owned(),
            )
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let addr = var("LISTEN_ADDR").unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let stub = Arc::new(Stub {
        departments: var("STUB_DEPARTMENTS")
            .unwrap_or_else(|| DEFAULT_DEPARTMENTS.to_owned())
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        slow: Duration::from_millis(
            var("STUB_SLOW_MS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1000),
        ),
        calls: AtomicU64::new(0),
        known: AtomicU64::new(0),
        unknown: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        slowed: AtomicU64::new(0),
    });
    let app = Router::new()
        .route("/departments/{department}", get(department))
        .with_state(stub.clone());
    let listener = tokio::net::TcpListener::bind(addr.trim()).await?;
    println!(
        "directory_stub listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(profile_guard::endpoint::shutdown_signal())
        .await?;
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    println!(
        "directory_stub answers: calls={} 200-known={} 404-unknown={} 500-injected={} slow-{}ms={}",
        get(&stub.calls),
        get(&stub.known),
        get(&stub.unknown),
        get(&stub.failed),
        stub.slow.as_millis(),
        get(&stub.slowed),
    );
    Ok(())
}
