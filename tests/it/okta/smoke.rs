//! The catch-up's part of the Lambda smoke replay (`make smoke`): `scripts/smoke.sh` runs `setup` before the
//! functions start, starts the catch-up function (`FUNCTION_ROLE=okta-catchup`, the environment template.yaml gives
//! `OktaCatchupFunction`, its `OKTA_ORG_URL` on `SMOKE_OKTA_LOG_PORT`), then runs `replay`, which serves the System
//! Log there and invokes the function with the scheduled event, as EventBridge would. Variables:
//!
//! - `SMOKE_MOTO`: moto's server (SES, DynamoDB, Secrets Manager);
//! - `SMOKE_OKTA_LOG_PORT`: the loopback port the function reads the System Log on;
//! - `SMOKE_CATCHUP`: the runtime emulator the catch-up function runs under;
//! - `INVOKE_TIMEOUT`: seconds per invoke (60 unless set).
//!
//! `serve` is the same System Log for `make run` (`make okta-log-stub`).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::catchup::logged;
use super::system_log::{SystemLogStub, TOKEN, ago};
use super::{admin, emily, fresh, profile_event};
use crate::support::{held_mail, repo_file, sdk_for};

/// The secret the template's `OktaApiTokenSecretArn` names in the replay.
pub const TOKEN_SECRET: &str = "profile-guard/okta-api-token";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: scripts/smoke.sh runs this"))
}

/// A loopback URL from a variable, without a trailing slash.
fn loopback(name: &str) -> String {
    let url = var(name);
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "{name}={url}: only http://127.0.0.1:PORT is accepted"
    );
    url.trim_end_matches('/').to_owned()
}

/// Before the functions start: the Okta API token as a Secrets Manager secret in moto, as the template reads it.
#[tokio::test]
#[ignore = "run by make smoke (scripts/smoke.sh), which sets SMOKE_MOTO"]
async fn setup() {
    let moto = loopback("SMOKE_MOTO");
    aws_sdk_secretsmanager::Client::new(&sdk_for(&moto).await)
        .create_secret()
        .name(TOKEN_SECRET)
        .secret_string(TOKEN)
        .send()
        .await
        .expect("the emulator keeps the token");
    println!("secret {TOKEN_SECRET} created");
}

/// The scheduled event, twice: the first run sends the change the hook missed, the second finds it sent. A payload
/// that is not a trigger reads nothing.
#[tokio::test]
#[ignore = "run by make smoke (scripts/smoke.sh), which starts the catch-up function and sets SMOKE_*"]
async fn replay() {
    let moto = loopback("SMOKE_MOTO");
    let port: u16 = var("SMOKE_OKTA_LOG_PORT").parse().expect("a port");
    let listener =
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("the log's port is free");
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    let stub = SystemLogStub::on(server, 100).await;
    stub.log([logged(&fresh(), 600)]);
    let scheduled = repo_file("events/scheduled/okta-catchup.json");
    let mut seen: HashSet<String> = held_mail(&moto).await.into_iter().map(|m| m.id).collect();

    let first = invoke(&scheduled).await;
    assert_eq!(first["outcome"], "caught_up", "{first}");
    assert_eq!(
        (first["events_seen"].as_u64(), first["events_sent"].as_u64()),
        (Some(1), Some(1)),
        "{first}"
    );
    let sent: Vec<_> = held_mail(&moto)
        .await
        .into_iter()
        .filter(|m| seen.insert(m.id.clone()))
        .collect();
    assert_eq!(sent.len(), 1, "one notice");
    assert_eq!(sent[0].mail.to, ["emily@example.com"]);
    println!("PASS okta-catchup scheduled event (e-mails: 1)");

    let again = invoke(&scheduled).await;
    assert_eq!(
        (again["outcome"].as_str(), again["events_sent"].as_u64()),
        (Some("caught_up"), Some(0)),
        "{again}"
    );
    assert!(
        held_mail(&moto).await.iter().all(|m| seen.contains(&m.id)),
        "nothing sent twice"
    );
    println!("PASS okta-catchup scheduled event again (e-mails: 0)");

    let calls = stub.calls().await;
    let refused = invoke(r#"{"check": true}"#).await;
    assert_eq!(refused["outcome"], "not_a_trigger", "{refused}");
    assert_eq!(stub.calls().await, calls, "a refused payload reads nothing");
    println!("PASS okta-catchup refuses another payload");
}

async fn invoke(event: &str) -> Value {
    let timeout = std::env::var("INVOKE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let to = loopback("SMOKE_CATCHUP");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout))
        .build()
        .expect("an HTTP client");
    let answer = client
        .post(format!("{to}/2015-03-31/functions/_/invocations"))
        .header("content-type", "application/json")
        .body(event.to_owned())
        .send()
        .await
        .expect("the catch-up function answers")
        .bytes()
        .await
        .expect("its answer reads");
    serde_json::from_slice(&answer)
        .unwrap_or_else(|e| panic!("not an answer ({e}): {}", String::from_utf8_lossy(&answer)))
}

/// A System Log on `127.0.0.1:$OKTA_LOG_PORT` (9009) holding two changes the hook never delivered, until stopped:
/// `make run` with `OKTA_ORG_URL` pointing at it catches them up.
#[tokio::test]
#[ignore = "run by make okta-log-stub, until stopped"]
async fn serve() {
    let port: u16 = std::env::var("OKTA_LOG_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(9009);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free");
    let server = wiremock::MockServer::builder()
        .listener(listener)
        .start()
        .await;
    let stub = SystemLogStub::on(server, 100).await;
    stub.log([
        profile_event(&fresh(), &ago(900), emily(), "mobilePhone"),
        profile_event(&fresh(), &ago(600), admin(), "email,primaryPhone"),
    ]);
    println!(
        "Okta's System Log on http://127.0.0.1:{port}, two profile changes of emily@example.com; in another shell:"
    );
    println!(
        "  OKTA_ORG_URL=http://127.0.0.1:{port} OKTA_API_TOKEN={TOKEN} OKTA_CATCHUP_INTERVAL_SECS=30 make run"
    );
    std::future::pending::<()>().await;
}
