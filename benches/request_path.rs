//! The in-process request path: parse, decide, answer.
//!
//! `Guard::handle` is measured as users run it: the state `make run` uses (embedded department list, log outbox,
//! in-memory idempotency map) and the service's own JSON log subscriber at the default level, writing into a sink,
//! so every call pays for its audit line (and the outbox lines) but not for a terminal.
//!
//! The pipeline remembers a change that sends something (idempotency): such a body seen before is answered from
//! memory. The "full path" benchmarks therefore give every call its own `requestId` (`bench-<name>-<n>`); the
//! "replay" group sends one body again and again on purpose (a cache hit for the tutorial; the other two send
//! nothing, so they are never remembered and take the full path).
//!
//! After Criterion's groups (mean and median with confidence intervals), a plain loop times 100 000 calls one by
//! one per case and prints p50 / p90 / p99 / p99.9 / max, which Criterion does not report. `LATENCY_CALLS=N`
//! changes the count; the loop runs when no filter is given or the filter contains "latency".
//!
//!     cargo bench --bench request_path                 # everything (about 2 minutes)
//!     cargo bench --bench request_path -- latency      # only the percentile loop

use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{BatchSize, Criterion, Throughput};
use profile_guard::action::ActionResponse;
use profile_guard::audit::CallInfo;
use profile_guard::{AppState, Config, build, router};
use tower::ServiceExt as _;

const TUTORIAL: &str = include_str!("../events/bodies/tutorial.json");
const NON_SENSITIVE: &str = include_str!("../events/bodies/non-sensitive-change.json");

/// Ten claims written, four of them multi-valued, none of them sensitive (no department, e-mail or phone), with
/// the current values of five sent along (`benches/ten-claims.json`, also used by `examples/bench_load`).
const TEN_CLAIMS: &str = include_str!("ten-claims.json");

/// One body, as compact JSON without its own `requestId`, so a fresh one can be put in front for each call.
struct Case {
    name: &'static str,
    /// Makes the request ids of one run of one case unique: `bench-<tag>-<n>`.
    tag: String,
    /// The body after its opening `{`, starting with the next member.
    rest: String,
}

impl Case {
    fn new(name: &'static str, tag: &str, json: &str) -> Self {
        let mut value: serde_json::Value = serde_json::from_str(json).expect("a benchmark body");
        value
            .as_object_mut()
            .expect("a JSON object")
            .remove("requestId");
        let compact = value.to_string();
        Case {
            name,
            tag: format!("{tag}-{name}"),
            rest: compact[1..].to_owned(),
        }
    }

    /// The body with `"requestId":"bench-<tag>-<n>"` as its first member.
    fn body(&self, n: u64) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.rest.len() + 48);
        write!(v, r#"{{"requestId":"bench-{}-{n}","#, self.tag).expect("write to a Vec");
        v.extend_from_slice(self.rest.as_bytes());
        v
    }
}

/// The three bodies; `tag` keeps the request ids of different uses apart.
fn cases(tag: &str) -> [Case; 3] {
    [
        Case::new("tutorial", tag, TUTORIAL),
        Case::new("non_sensitive", tag, NON_SENSITIVE),
        Case::new("ten_claims_multi_valued", tag, TEN_CLAIMS),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn state(rt: &tokio::runtime::Runtime) -> Arc<AppState> {
    let config = Config::from_lookup(|_| None).expect("the default configuration");
    Arc::new(
        rt.block_on(build(&config))
            .expect("the default state")
            .state,
    )
}

/// Every case must answer SUCCESS with the default configuration; a benchmark of an error path would mislead.
fn check_answers(rt: &tokio::runtime::Runtime, state: &AppState) {
    for case in cases("check") {
        let answer = rt.block_on(
            state
                .pipeline
                .handle(&case.body(u64::MAX), &CallInfo::default()),
        );
        assert_eq!(
            answer,
            ActionResponse::Success,
            "{}: unexpected answer {}",
            case.name,
            String::from_utf8_lossy(&answer.to_json())
        );
    }
}

fn action_request(body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/pre-update-profile")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .expect("a request")
}

fn request_path(c: &mut Criterion) {
    let rt = runtime();
    let state = state(&rt);
    check_answers(&rt, &state);
    let call = CallInfo::default();

    // Full path: a new requestId on every call, so the idempotency cache never answers.
    let mut group = c.benchmark_group("guard_handle_full_path");
    group.throughput(Throughput::Elements(1));
    for case in cases("full") {
        let mut n = 0u64;
        group.bench_function(case.name, |b| {
            b.to_async(&rt).iter_batched(
                || {
                    n += 1;
                    case.body(n)
                },
                |body| {
                    let (state, call) = (&state, &call);
                    async move { black_box(state.pipeline.handle(&body, call).await) }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    // Replay: the same body (same requestId) again, answered from the in-memory idempotency cache.
    let mut group = c.benchmark_group("guard_handle_replay_cached");
    group.throughput(Throughput::Elements(1));
    for case in cases("replay") {
        let body = case.body(0);
        rt.block_on(state.pipeline.handle(&body, &call));
        group.bench_function(case.name, |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(state.pipeline.handle(&body, &call).await) });
        });
    }
    group.finish();

    // The whole router (content-type check, body collection, JSON answer), full path, driven with
    // `tower::ServiceExt::oneshot` without a socket.
    let app = router(state.clone());
    let non_sensitive = Case::new("non_sensitive", "router", NON_SENSITIVE);
    let mut group = c.benchmark_group("router_oneshot_full_path");
    group.throughput(Throughput::Elements(1));
    let mut n = 0u64;
    group.bench_function("non_sensitive", |b| {
        b.to_async(&rt).iter_batched(
            || {
                n += 1;
                action_request(non_sensitive.body(n))
            },
            |request| {
                let app = app.clone();
                async move {
                    let response = app.oneshot(request).await.expect("infallible");
                    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                        .await
                        .expect("a body");
                    black_box(body)
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();

    // For scale: what the bare baseline server does per call (parse into serde_json::Value).
    let mut group = c.benchmark_group("baseline_parse_value");
    group.throughput(Throughput::Elements(1));
    for case in cases("parse") {
        let body = case.body(0);
        group.bench_function(case.name, |b| {
            b.iter(|| black_box(serde_json::from_slice::<serde_json::Value>(&body).expect("JSON")));
        });
    }
    group.finish();
}

/// Nearest-rank percentile of sorted nanoseconds, in microseconds.
fn percentile_us(sorted: &[u64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn print_row(label: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64 / 1000.0;
    println!(
        "  {label:<50} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>9.1}",
        mean,
        percentile_us(&ns, 50.0),
        percentile_us(&ns, 90.0),
        percentile_us(&ns, 99.0),
        percentile_us(&ns, 99.9),
        ns[ns.len() - 1] as f64 / 1000.0,
    );
}

/// Times `calls` calls one by one (after `calls / 10` untimed warm-up calls) and returns the nanoseconds.
fn timed<F, Fut>(
    rt: &tokio::runtime::Runtime,
    calls: usize,
    mut make: impl FnMut(u64) -> F,
) -> Vec<u64>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    rt.block_on(async {
        let mut ns = Vec::with_capacity(calls);
        for i in 0..(calls + calls / 10) {
            let call = make(i as u64);
            let started = Instant::now();
            call().await;
            let elapsed = started.elapsed();
            if i >= calls / 10 {
                ns.push(elapsed.as_nanos() as u64);
            }
        }
        ns
    })
}

/// The percentile loop: each call timed on its own.
fn latency_distribution(calls: usize) {
    let rt = runtime();
    let state = state(&rt);
    check_answers(&rt, &state);
    let guard = &state.pipeline;
    let call = &CallInfo::default();
    println!();
    println!(
        "latency percentiles (custom loop, not Criterion): {calls} calls per case, each timed on its own, µs"
    );
    println!(
        "  {:<50} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "case", "mean", "p50", "p90", "p99", "p99.9", "max"
    );
    // LATENCY_CASES=a,b runs only the rows whose label contains one of the words (e.g. for a profiler).
    let only: Vec<String> = std::env::var("LATENCY_CASES")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let selected = |label: &str| only.is_empty() || only.iter().any(|w| label.contains(w.as_str()));
    for case in cases("latency") {
        let label = format!("guard.handle full path / {}", case.name);
        if !selected(&label) {
            continue;
        }
        let ns = timed(&rt, calls, |i| {
            let body = case.body(i);
            move || async move {
                black_box(guard.handle(&body, call).await);
            }
        });
        print_row(&label, ns);
    }
    let label = "guard.handle replay (cache hit) / non_sensitive";
    if selected(label) {
        let replay = Case::new("non_sensitive", "latency-replay", NON_SENSITIVE).body(0);
        let ns = timed(&rt, calls, |_| {
            let body = &replay;
            move || async move {
                black_box(guard.handle(body, call).await);
            }
        });
        print_row(label, ns);
    }
    let label = "router oneshot full path / non_sensitive";
    if selected(label) {
        let app = router(state.clone());
        let case = Case::new("non_sensitive", "latency-router", NON_SENSITIVE);
        let ns = timed(&rt, calls, |i| {
            let request = action_request(case.body(i));
            let app = app.clone();
            move || async move {
                let response = app.oneshot(request).await.expect("infallible");
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("a body");
                black_box(body);
            }
        });
        print_row(label, ns);
    }
    println!("  (target: in-process p99 < 50 µs)");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench_mode = args.iter().any(|a| a == "--bench");
    let listing = args.iter().any(|a| a == "--list");
    let filter = args.iter().find(|a| !a.starts_with('-')).cloned();

    // As users run it: the default filter (info) and the JSON format, into a sink instead of stdout.
    let logs = profile_guard::telemetry::json_subscriber(
        profile_guard::telemetry::default_filter(),
        std::io::sink,
    );
    if tracing::subscriber::set_global_default(logs).is_err() {
        eprintln!("a tracing subscriber was already set");
    }
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    request_path(&mut criterion);
    criterion.final_summary();

    if listing {
        return;
    }
    let wanted = filter.as_deref().is_none_or(|f| f.contains("latency"));
    if wanted {
        let calls = std::env::var("LATENCY_CALLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if bench_mode { 100_000 } else { 1_000 });
        latency_distribution(calls);
    }
}
