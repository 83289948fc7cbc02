//! The Rust half of the Lambda smoke replay (`make smoke`). `scripts/smoke.sh` starts moto's server, runs `setup`,
//! starts the endpoint and the consumer as Lambda functions under cargo lambda's runtime API, then runs `replay`,
//! passing where each listens in variables:
//!
//! - `SMOKE_MOTO`: moto's server (SES, DynamoDB);
//! - `SMOKE_SENDER`, `SMOKE_TEAM`: the functions' `ALERT_SENDER` and `SECURITY_TEAM_EMAILS` (comma-separated);
//! - `SMOKE_TABLE`: the once-per-change table (`setup` creates it);
//! - `SMOKE_FUNCTION_ENV`: a file `setup` writes the functions' variables for the samples into (the hook secrets),
//!   one `KEY=VALUE` a line;
//! - `SMOKE_ENDPOINT`, `SMOKE_CONSUMER`: the runtime emulators the two functions run under;
//! - `INVOKE_TIMEOUT`: seconds per invoke (60 unless set).
//!
//! Only loopback addresses are accepted: nothing here talks to AWS.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::{
    Reply, differences, emails_of, event_files, expected_of, for_the_consumer, hook_vars,
    issued_now, read_json,
};
use crate::support::{
    Answer, HeldMail, body_value, create_once_per_change_table, held_mail, sdk_for, ses_client,
};

/// A variable `smoke.sh` sets.
fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: scripts/smoke.sh runs this"))
}

/// A loopback URL from a variable, without a trailing slash.
fn loopback(name: &str) -> String {
    let url = var(name);
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.rsplit_once(':'))
        .map(|(host, _)| host);
    assert!(
        matches!(host, Some("127.0.0.1" | "localhost" | "[::1]")),
        "{name}={url}: only a loopback http://HOST:PORT is accepted"
    );
    url.trim_end_matches('/').to_owned()
}

/// Before the functions start: the sender's identity in moto's SES, the once-per-change table in its DynamoDB, and
/// the variables the samples need the functions to have, as the in-process replay sets them.
#[tokio::test]
#[ignore = "run by make smoke (scripts/smoke.sh), which sets SMOKE_MOTO, SMOKE_SENDER, SMOKE_TABLE and \
            SMOKE_FUNCTION_ENV"]
async fn setup() {
    let env_file = var("SMOKE_FUNCTION_ENV");
    let lines: String = hook_vars()
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    std::fs::write(&env_file, lines).unwrap_or_else(|e| panic!("cannot write {env_file}: {e}"));
    let moto = loopback("SMOKE_MOTO");
    let sender = var("SMOKE_SENDER");
    ses_client(&moto)
        .await
        .create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .expect("the emulator verifies the sender");
    let table = var("SMOKE_TABLE");
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk_for(&moto).await);
    create_once_per_change_table(&dynamodb, &table).await;
    println!("SES identity {sender} and DynamoDB table {table} created");
}

/// The two functions, each under its runtime emulator.
struct Functions {
    client: reqwest::Client,
    endpoint: String,
    consumer: String,
}

impl Functions {
    fn from_env() -> Functions {
        let timeout = std::env::var("INVOKE_TIMEOUT")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(60);
        Functions {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(timeout))
                .build()
                .expect("an HTTP client"),
            endpoint: loopback("SMOKE_ENDPOINT"),
            consumer: loopback("SMOKE_CONSUMER"),
        }
    }

    /// One invocation, as Lambda's Invoke API takes it; the function's answer.
    async fn invoke(&self, consumer: bool, event: String) -> reqwest::Result<bytes::Bytes> {
        let to = if consumer {
            &self.consumer
        } else {
            &self.endpoint
        };
        self.client
            .post(format!("{to}/2015-03-31/functions/_/invocations"))
            .header("content-type", "application/json")
            .body(event)
            .send()
            .await?
            .bytes()
            .await
    }
}

/// Checks passed and failed, each reported on a line of its own.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    fn report(&mut self, what: &str, detail: &str, problems: Vec<String>) {
        if problems.is_empty() {
            println!("PASS {what} ({detail})");
            self.passed += 1;
        } else {
            println!("FAIL {what}");
            for p in problems {
                println!("  {p}");
            }
            self.failed += 1;
        }
    }

    /// The last line; fails the test when any check failed.
    fn finish(self) {
        println!("{} passed, {} failed", self.passed, self.failed);
        assert!(
            self.failed == 0,
            "{} check(s) of the Lambda replay failed",
            self.failed
        );
    }
}

/// Every event, as issued now, to its function; each answer and the e-mails SES accepted meanwhile judged against
/// the expected file; then all messages together: as many as the events expect, all from the sender. Prints one
/// line per event; fails when any failed.
#[tokio::test]
#[ignore = "run by make smoke (scripts/smoke.sh), which starts the functions and sets SMOKE_*"]
async fn replay() {
    let moto = loopback("SMOKE_MOTO");
    let sender = var("SMOKE_SENDER");
    let team: Vec<String> = var("SMOKE_TEAM").split(',').map(str::to_owned).collect();
    let functions = Functions::from_env();
    let files = event_files();
    assert!(!files.is_empty(), "no events/*.json found");
    let mut seen: HashSet<String> = held_mail(&moto).await.into_iter().map(|m| m.id).collect();
    let mut tally = Tally::default();
    let mut expected_emails = 0;
    for file in &files {
        let (name, expected_path) = expected_of(file);
        let expected = read_json(&expected_path);
        expected_emails += expected["emails"].as_array().map_or(0, Vec::len);
        let event = issued_now(&std::fs::read_to_string(file).expect("event reads"));
        let consumer = for_the_consumer(&expected);
        let answer = match functions.invoke(consumer, event).await {
            Ok(answer) => answer,
            Err(e) => {
                // Never expected: the function or its emulator is gone, and every later invoke would wait out its
                // time-out too.
                tally.report(
                    &name,
                    "",
                    vec![
                        format!("the invoke failed: {e}"),
                        "the rest is not replayed".into(),
                    ],
                );
                return tally.finish();
            }
        };
        let sent = held_mail(&moto)
            .await
            .into_iter()
            .filter(|m| seen.insert(m.id.clone()))
            .map(|m| m.mail);
        let sent = emails_of(sent, &team);
        let reply = match consumer {
            true => serde_json::from_slice(&answer)
                .map(Reply::Batch)
                .map_err(|e| e.to_string()),
            false => http_reply(&answer),
        };
        let problems = match reply {
            Ok(reply) => differences(&expected, &reply, Some(&sent)),
            Err(e) => vec![format!(
                "not an answer ({e}): {}",
                String::from_utf8_lossy(&answer)
                    .chars()
                    .take(500)
                    .collect::<String>()
            )],
        };
        tally.report(&name, &format!("e-mails: {}", sent.len()), problems);
    }
    let held = held_mail(&moto).await;
    let problems = all_mail_problems(&held, expected_emails, &sender);
    let detail = format!("{} message(s), all from {sender}", held.len());
    tally.report("SES", &detail, problems);
    tally.finish();
}

/// All messages together: none arrived outside its event, and every one went out from the sender.
fn all_mail_problems(held: &[HeldMail], expected: usize, sender: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if held.len() != expected {
        problems.push(format!(
            "the events expect {expected} message(s) in all, the emulator holds {}",
            held.len()
        ));
    }
    for m in held.iter().filter(|m| !m.source.contains(sender)) {
        problems.push(format!(
            "message {} is from {:?}, not {sender}",
            m.id, m.source
        ));
    }
    problems
}

/// An API Gateway proxy answer as the function returns it (payload 2.0 or 1.0), read as the in-process replay reads
/// the router's: status, content type, body.
fn http_reply(raw: &[u8]) -> Result<Reply, String> {
    let answer: Value = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
    let status = answer["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no statusCode")?;
    let header = |name: &str| {
        let find = |key: &str| {
            answer[key]
                .as_object()
                .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v.clone())
        };
        find("headers")
            .or_else(|| find("multiValueHeaders").map(|v| v[0].clone()))
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let text = answer["body"].as_str().unwrap_or_default();
    let body = match answer["isBase64Encoded"].as_bool() {
        Some(true) => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| format!("the body is not base64: {e}"))?
        }
        _ => text.as_bytes().to_vec(),
    };
    Ok(Reply::Http(Answer {
        status,
        content_type: header("content-type"),
        body: body_value(&body),
    }))
}
