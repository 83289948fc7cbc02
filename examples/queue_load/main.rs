//! A reorg through the queue (`make load-queue`): a bounded loopback run of LOAD_CHANGES (2,000) sensitive
//! changes at about LOAD_RATE (200) a second through the local release server with queued alerts: moto's SQS as
//! the queue, the server's own consumer loop draining it, and an SES stand-in (ses_stub.rs) that throttles above
//! SES_RATE (14) messages a second, as a new production SES account does.
//!
//!   profile-guard: ALERT_QUEUE_URL (moto), AWS_ENDPOINT_URL_SESV2 (the stub), USER_NOTICE=off (the run is about
//!                  the security team's alerts), everything else default (ALERT_DIGEST_THRESHOLD=5,
//!                  ALERT_SEND_RATE=10, RUST_LOG=info)
//!   load:          one tenant (an HR sync), every change its own requestId `load-NNNNNN`, sent on schedule
//!
//! Reports: answers (all must be SUCCESS, none slower than the 2,500 ms deadline), p50/p99 latency, messages the
//! security team received (and the stub's throttled answers), changes accounted for (each request id found in a
//! delivered message: all must be), and the time from the first change until the queue is empty and every change
//! delivered. Exit 1 when a check fails. Knobs: LOAD_CHANGES, LOAD_RATE, SES_RATE, QUEUE_LOAD_SKIP_BUILD=1;
//! MEASURE_PROFILE=debug checks the driver quickly (its figures then mean nothing).
//!
//!     cargo run --example queue_load

#[path = "../driver/mod.rs"]
mod driver;
mod ses_stub;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use driver::process::{self, Launch, WorkDir};
use driver::{Failure, knob};
use ses_stub::SesStub;

const DEADLINE_MS: f64 = 2500.0;
const ID_PREFIX: &str = "load-";
/// How long the queue may take to empty after the load before the run is called failed.
const DRAIN_LIMIT: Duration = Duration::from_secs(600);

#[tokio::main]
async fn main() -> ExitCode {
    driver::until_interrupted("queue_load", run()).await
}

async fn run() -> Result<(), Failure> {
    let (changes, rate, ses_rate) = (
        knob("LOAD_CHANGES", 2000usize),
        knob("LOAD_RATE", 200u64),
        knob("SES_RATE", 14usize),
    );
    if knob("QUEUE_LOAD_SKIP_BUILD", 0) != 1 {
        println!(
            "building the {} profile-guard binary...",
            process::measured_profile()
        );
        process::build_measured(&["--bin", "profile-guard"]).await?;
    }
    let server = process::measured(&process::target_dir()?, "profile-guard");
    let work = WorkDir::new("profile-guard-queue-load")?;
    let (moto, moto_url) = start_moto(&work).await?;
    let queue = create_queue(&moto_url).await?;
    let ses = SesStub::start(ses_rate, ID_PREFIX).await?;
    let port = process::free_port()?;
    let mut pg = process::spawn(Launch {
        name: "profile-guard",
        program: &server,
        env: server_env(port, &moto_url, &queue, ses.port),
        cpu: None,
        log: Some(work.file("pg.log")),
        stdout_in_log: true,
    })?;
    pg.wait_port(port, Duration::from_secs(20)).await?;
    println!(
        "profile-guard on 127.0.0.1:{port}, moto's SQS at {moto_url}, SES stub (max {ses_rate}/s) on 127.0.0.1:{}",
        ses.port
    );

    let started = Instant::now();
    let answers = send_changes(port, changes, rate).await;
    let load_secs = started.elapsed().as_secs_f64();
    let drained = wait_until_delivered(&moto_url, &queue, &ses, changes, started).await;
    pg.stop().await;
    moto.stop().await;
    report(&answers, load_secs, drained, &ses, changes)
}

async fn start_moto(work: &WorkDir) -> Result<(process::Process, String), Failure> {
    let moto = std::env::var_os("MOTO_SERVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| process::repo_root().join(".venv/bin/moto_server"));
    if !moto.is_file() {
        return Err(Failure::missing(format!(
            "{} missing: run make venv",
            moto.display()
        )));
    }
    let port = process::free_port()?;
    let mut command = std::process::Command::new(&moto);
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    let mut p = process::Process::start_logged("moto_server", command, work.file("moto.log"))?;
    p.wait_port(port, Duration::from_secs(30)).await?;
    Ok((p, format!("http://127.0.0.1:{port}")))
}

async fn sqs(moto: &str) -> aws_sdk_sqs::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .empty_test_environment()
        .test_credentials()
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(moto)
        .load()
        .await;
    aws_sdk_sqs::Client::new(&sdk)
}

async fn create_queue(moto: &str) -> Result<String, Failure> {
    let out = sqs(moto)
        .await
        .create_queue()
        .queue_name("profile-guard-alerts")
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            "60",
        )
        .send()
        .await
        .map_err(|e| Failure::broken(format!("the queue could not be created: {e}")))?;
    out.queue_url()
        .map(str::to_owned)
        .ok_or_else(|| Failure::broken("no queue URL"))
}

fn server_env(port: u16, moto: &str, queue: &str, ses_port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("LISTEN_ADDR", format!("127.0.0.1:{port}")),
        ("ALERT_SENDER", "guard@example.com".into()),
        ("SECURITY_TEAM_EMAILS", "security@example.com".into()),
        ("USER_NOTICE", "off".into()),
        ("ALERT_QUEUE_URL", queue.into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_ENDPOINT_URL_SQS", moto.into()),
        (
            "AWS_ENDPOINT_URL_SESV2",
            format!("http://127.0.0.1:{ses_port}"),
        ),
    ]
}

/// One answer: latency in ms and whether it was SUCCESS.
struct Answer {
    ms: f64,
    success: bool,
}

/// Sends every change on its own schedule (`rate` a second), each on its own task; the answers as they came.
async fn send_changes(port: u16, changes: usize, rate: u64) -> Vec<Answer> {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/pre-update-profile");
    let start = tokio::time::Instant::now();
    let step = Duration::from_micros(1_000_000 / rate.max(1));
    let mut tasks = Vec::with_capacity(changes);
    for n in 0..changes {
        let (client, url) = (client.clone(), url.clone());
        let at = start + step * n as u32;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let t = Instant::now();
            let answer = client
                .post(&url)
                .header("content-type", "application/json")
                .body(change(n))
                .send()
                .await;
            let success = match answer {
                Ok(r) => r.text().await.is_ok_and(|b| b.contains("\"SUCCESS\"")),
                Err(_) => false,
            };
            Answer {
                ms: t.elapsed().as_secs_f64() * 1000.0,
                success,
            }
        }));
    }
    let mut answers = Vec::with_capacity(changes);
    for task in tasks {
        if let Ok(a) = task.await {
            answers.push(a);
        }
    }
    answers
}

/// An HR sync moving person `n` to a new mobile number (a sensitive claim).
fn change(n: usize) -> String {
    serde_json::json!({"requestId": format!("{ID_PREFIX}{n:06}"), "actionType": "PRE_UPDATE_PROFILE", "event": {
        "request": {"claims": [{"uri": "http://wso2.org/claims/mobile", "value": format!("+9477{n:07}")}]},
        "tenant": {"id": "4242", "name": "reorg.example"},
        "user": {"id": format!("user-{n:06}"), "claims": []},
        "userStore": {"id": "REVGQVVMVA==", "name": "DEFAULT"}, "initiatorType": "APPLICATION", "action": "UPDATE"}})
    .to_string()
}

/// Waits until the queue holds nothing (visible or in flight) and every change is in a delivered message; the
/// seconds since `started`, or `None` past the limit.
async fn wait_until_delivered(
    moto: &str,
    queue: &str,
    ses: &SesStub,
    changes: usize,
    started: Instant,
) -> Option<f64> {
    let client = sqs(moto).await;
    let limit = Instant::now() + DRAIN_LIMIT;
    while Instant::now() < limit {
        let attrs = client
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
            .send()
            .await
            .ok();
        let count = |name| {
            attrs
                .as_ref()
                .and_then(|a| a.attributes().and_then(|m| m.get(&name).cloned()))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(u64::MAX)
        };
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let waiting = count(A::ApproximateNumberOfMessages)
            .saturating_add(count(A::ApproximateNumberOfMessagesNotVisible));
        if waiting == 0 && ses.snapshot().2 >= changes {
            return Some(started.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(
    answers: &[Answer],
    load_secs: f64,
    drained: Option<f64>,
    ses: &SesStub,
    changes: usize,
) -> Result<(), Failure> {
    let mut ms: Vec<f64> = answers.iter().map(|a| a.ms).collect();
    ms.sort_by(f64::total_cmp);
    let successes = answers.iter().filter(|a| a.success).count();
    let slowest = ms.last().copied().unwrap_or(0.0);
    let (accepted, throttled, accounted) = ses.snapshot();
    println!(
        "changes sent:          {changes} in {load_secs:.1} s ({:.0}/s)",
        changes as f64 / load_secs
    );
    println!("answers SUCCESS:       {successes} of {}", answers.len());
    println!(
        "latency p50 / p99 / max: {:.1} / {:.1} / {:.1} ms",
        percentile(&ms, 50.0),
        percentile(&ms, 99.0),
        slowest
    );
    println!("security team received: {accepted} messages (SES stub throttled {throttled} sends)");
    println!("changes accounted for: {accounted} of {changes}");
    match drained {
        Some(s) => println!("queue empty, all delivered: {s:.1} s after the first change"),
        None => println!("queue not empty after {} s", DRAIN_LIMIT.as_secs()),
    }
    let passed =
        successes == changes && slowest < DEADLINE_MS && accounted == changes && drained.is_some();
    println!("{}", if passed { "PASS" } else { "FAIL" });
    if passed {
        Ok(())
    } else {
        Err(Failure::broken("a check failed"))
    }
}
