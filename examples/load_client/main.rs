//! A bounded load run that checks every answer, for `make load-faults` (examples/load_faults.rs).
//!
//! `CONCURRENCY` tasks post action requests to `URL` for `DURATION_SECS` seconds, each body with its own
//! `requestId`, in a fixed mix: department changes (known, unknown, with odd characters, cleared), a
//! non-sensitive change, a password-flow call without `event.request`, a wrong `actionType` and a body that is
//! not JSON. Every answer must keep the action contract:
//!
//! - HTTP status 200, 400, 401 or 500, `content-type: application/json`;
//! - a JSON object whose `actionStatus` is `SUCCESS` (200), `FAILED` (200, with `failureReason` and
//!   `failureDescription`) or `ERROR` (400/401/500, with `errorMessage` and `errorDescription`);
//! - the answer the request kind allows (a known department is never refused, an unknown one never accepted,
//!   a body that is not JSON gets 400 `invalid_request`, ...);
//! - within `DEADLINE_MS + MARGIN_MS`.
//!
//! Prints totals, answers by status and reason, latency percentiles, and exits with 1 when any answer broke a
//! rule. Only loopback URLs are accepted.
//!
//!     URL=http://127.0.0.1:3000/pre-update-profile DURATION_SECS=20 cargo run --release --example load_client

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod answers;
mod requests;

use answers::{check_contract, expected};
use requests::{Kind, body, kind_of, mix};

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    answers: BTreeMap<String, u64>,
    by_kind: BTreeMap<(Kind, String), u64>,
    transport_errors: u64,
    invalid: u64,
    unexpected: u64,
    too_slow: u64,
    samples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        for (k, v) in other.answers {
            *self.answers.entry(k).or_default() += v;
        }
        for (k, v) in other.by_kind {
            *self.by_kind.entry(k).or_default() += v;
        }
        self.transport_errors += other.transport_errors;
        self.invalid += other.invalid;
        self.unexpected += other.unexpected;
        self.too_slow += other.too_slow;
        for s in other.samples {
            if self.samples.len() < 10 {
                self.samples.push(s);
            }
        }
    }

    fn note(&mut self, problem: String) {
        if self.samples.len() < 10 {
            self.samples.push(problem);
        }
    }
}

struct Settings {
    url: String,
    concurrency: usize,
    duration: Duration,
    limit: Duration,
}

async fn worker(
    id: usize,
    client: reqwest::Client,
    settings: Arc<Settings>,
    until: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut n: u64 = 0;
    while Instant::now() < until {
        n += 1;
        let roll = mix(((id as u64) << 40) | n);
        let kind = kind_of(roll);
        let request_id = format!("lf-{id}-{n}");
        let body = body(kind, &request_id, roll);
        let started = Instant::now();
        let sent = client
            .post(&settings.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let outcome = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                response.bytes().await.map(|b| (status, content_type, b))
            }
            Err(e) => Err(e),
        };
        let elapsed = started.elapsed();
        tally.latencies_us.push(elapsed.as_micros() as u64);
        if elapsed > settings.limit {
            tally.too_slow += 1;
            tally.note(format!(
                "{request_id} ({kind:?}): {} ms",
                elapsed.as_millis()
            ));
        }
        let (status, content_type, bytes) = match outcome {
            Ok(o) => o,
            Err(e) => {
                tally.transport_errors += 1;
                tally.invalid += 1;
                tally.note(format!("{request_id} ({kind:?}): no answer: {e}"));
                continue;
            }
        };
        match check_contract(status, content_type.as_deref(), &bytes) {
            Ok((action_status, reason)) => {
                let label = if reason.is_empty() {
                    format!("{status} {action_status}")
                } else {
                    format!("{status} {action_status} {reason}")
                };
                *tally.answers.entry(label.clone()).or_default() += 1;
                *tally.by_kind.entry((kind, label)).or_default() += 1;
                if !expected(kind, status, action_status, &reason) {
                    tally.unexpected += 1;
                    tally.note(format!(
                        "{request_id} ({kind:?}): unexpected answer {status} {}",
                        String::from_utf8_lossy(&bytes)
                    ));
                }
            }
            Err(problem) => {
                tally.invalid += 1;
                tally.note(format!(
                    "{request_id} ({kind:?}): invalid answer: {problem}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                ));
            }
        }
    }
    tally
}

fn percentile_ms(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Prints totals, answers and percentiles, and the LOADRESULT line; the number of requests.
fn report(tally: &mut Tally, wall: Duration, limit: Duration) -> u64 {
    let mut lat = std::mem::take(&mut tally.latencies_us);
    lat.sort_unstable();
    let total = lat.len() as u64;

    println!(
        "requests:            {total} in {:.1} s ({:.0} requests/s)",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64()
    );
    println!("answers by status / actionStatus / reason:");
    for (label, count) in &tally.answers {
        println!("  {count:>8}  {label}");
    }
    println!("answers by request kind:");
    for ((kind, label), count) in &tally.by_kind {
        println!("  {count:>8}  {:<20} {label}", format!("{kind:?}"));
    }
    println!(
        "latency ms:          p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile_ms(&lat, 50.0),
        percentile_ms(&lat, 90.0),
        percentile_ms(&lat, 99.0),
        percentile_ms(&lat, 99.9),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!("no answer (transport): {}", tally.transport_errors);
    println!("invalid answers:     {} (must be 0)", tally.invalid);
    println!("unexpected answers:  {} (must be 0)", tally.unexpected);
    println!(
        "slower than {} ms:   {} (must be 0)",
        limit.as_millis(),
        tally.too_slow
    );
    for sample in &tally.samples {
        println!("  e.g. {sample}");
    }
    println!(
        "LOADRESULT requests={total} invalid={} unexpected={} too_slow={} p99_ms={:.2} max_ms={:.2}",
        tally.invalid,
        tally.unexpected,
        tally.too_slow,
        percentile_ms(&lat, 99.0),
        lat.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    total
}

#[tokio::main]
async fn main() -> ExitCode {
    let url =
        std::env::var("URL").unwrap_or_else(|_| "http://127.0.0.1:3000/pre-update-profile".into());
    match reqwest::Url::parse(&url) {
        Ok(u) if u.scheme() == "http" && u.host_str() == Some("127.0.0.1") => {}
        _ => {
            eprintln!(
                "load_client: URL must be an http:// URL on loopback (127.0.0.1), not {url:?}"
            );
            return ExitCode::from(2);
        }
    }
    let deadline_ms: u64 = env_or("DEADLINE_MS", 2500);
    let margin_ms: u64 = env_or("MARGIN_MS", 250);
    let settings = Arc::new(Settings {
        url,
        concurrency: env_or("CONCURRENCY", 32usize).max(1),
        duration: Duration::from_secs(env_or("DURATION_SECS", 20u64).clamp(1, 600)),
        limit: Duration::from_millis(deadline_ms + margin_ms),
    });
    // The client gives up well after the limit, so a hung answer is counted, never waited for forever.
    let client = match reqwest::Client::builder()
        .timeout(settings.limit + Duration::from_secs(2))
        .pool_max_idle_per_host(settings.concurrency)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("load_client: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "load_client: {} tasks for {} s against {} (limit {} ms = deadline {deadline_ms} + margin {margin_ms})",
        settings.concurrency,
        settings.duration.as_secs(),
        settings.url,
        settings.limit.as_millis()
    );
    let started = Instant::now();
    let until = started + settings.duration;
    let tasks: Vec<_> = (0..settings.concurrency)
        .map(|id| tokio::spawn(worker(id, client.clone(), settings.clone(), until)))
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        match task.await {
            Ok(t) => tally.merge(t),
            Err(e) => {
                tally.invalid += 1;
                tally.note(format!("a load task failed: {e}"));
            }
        }
    }
    let total = report(&mut tally, started.elapsed(), settings.limit);
    if total == 0 || tally.invalid > 0 || tally.unexpected > 0 || tally.too_slow > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
