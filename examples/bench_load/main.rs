//! Local throughput (`make bench-load`): profile-guard against a bare axum server (examples/bare_server.rs) that
//! only parses the body, side by side in one run, with wrk, for three bodies:
//!
//!   tutorial        events/bodies/tutorial.json: department check + security alert (log outbox)
//!   non-sensitive   events/bodies/non-sensitive-change.json
//!   ten-claims      ten claims, four multi-valued, none sensitive (benches/ten-claims.json, shared with
//!                   benches/request_path.rs)
//!
//! wrk stays the load generator: one C thread with a Lua counter loads a server harder per client core than a
//! tokio client would, which matters with two cores, and keeps the figures comparable with BENCHMARKS.md.
//!
//! Every request carries its own requestId (the Lua counter), so profile-guard's idempotency map never answers
//! for it: the full path is measured. Each (body, server) pair gets a fresh server process; its peak RSS is VmHWM
//! after the run (or the largest VmRSS sampled every 0.5 s, if larger). profile-guard runs as users run it: its
//! defaults (embedded departments, log outbox) and RUST_LOG=info (one JSON audit line per request, stdout
//! discarded); one extra row repeats the non-sensitive body with RUST_LOG=warn to show what the audit line costs.
//!
//! BENCH_ROUNDS rounds (3) each measure every pair back to back; the table shows medians over the rounds, and the
//! ratios profile-guard / bare are taken within each round, then their median (steadier on a shared VM).
//!
//! On a machine with two or more cores the server is pinned to CPU 0 and wrk to CPU 1 (taskset), so each server
//! gets one core and one tokio worker. Every run is bounded (wrk -d) and every process started here is stopped.
//!
//! Knobs: BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CONNECTIONS (32), BENCH_THREADS (1),
//!        BENCH_BODIES ("tutorial non-sensitive ten-claims"), BENCH_ROUNDS (3), BENCH_PIN (1),
//!        BENCH_WARN_LOG_ROW (1), BENCH_SKIP_BUILD (0); MEASURE_PROFILE=debug checks the driver itself quickly
//!        against debug builds.
//!
//!     cargo run --example bench_load

#[path = "../driver/mod.rs"]
mod driver;
mod report;
mod wrk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use driver::process::{self, Launch, RssSampler, WorkDir};
use driver::{Failure, knob, knob_text};
use serde_json::Value;
use wrk::{Wrk, WrkResult};

struct Settings {
    duration: String,
    warmup: String,
    connections: u32,
    threads: u32,
    bodies: Vec<String>,
    rounds: u32,
    pin: bool,
    warn_log_row: bool,
    skip_build: bool,
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            duration: knob_text("BENCH_DURATION", "10s"),
            warmup: knob_text("BENCH_WARMUP", "2s"),
            connections: knob("BENCH_CONNECTIONS", 32),
            threads: knob("BENCH_THREADS", 1),
            bodies: knob_text("BENCH_BODIES", "tutorial non-sensitive ten-claims")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            rounds: knob("BENCH_ROUNDS", 3u32).max(1),
            pin: knob("BENCH_PIN", 1) == 1,
            warn_log_row: knob("BENCH_WARN_LOG_ROW", 1) == 1,
            skip_build: knob("BENCH_SKIP_BUILD", 0) == 1,
        }
    }

    /// The durations must be ones wrk takes; the driver bounds each run by them.
    fn check(&self) -> Result<(), Failure> {
        for (name, value) in [
            ("BENCH_DURATION", &self.duration),
            ("BENCH_WARMUP", &self.warmup),
        ] {
            wrk::duration(value).ok_or_else(|| {
                Failure::broken(format!(
                    "{name} must be a wrk duration such as 10s, not {value:?}"
                ))
            })?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    ProfileGuard,
    Bare,
}

/// One measured (round, server, body).
struct Run {
    round: u32,
    label: String,
    body: String,
    wrk: WrkResult,
    peak_kib: u64,
}

/// What every measurement needs: settings, binaries, files, CPUs.
struct Bench {
    settings: Settings,
    profile_guard: PathBuf,
    bare: PathBuf,
    work: WorkDir,
    server_cpu: Option<&'static str>,
    wrk: Wrk,
    client: reqwest::Client,
}

#[tokio::main]
async fn main() -> ExitCode {
    driver::until_interrupted("bench_load", run()).await
}

async fn run() -> Result<(), Failure> {
    let settings = Settings::from_env();
    settings.check()?;
    wrk::ensure_installed().await?;
    if !settings.skip_build {
        println!(
            "building {} binaries (profile-guard, examples/bare_server)...",
            process::measured_profile()
        );
        // Two builds: examples pull in dev-dependencies, whose features must not leak into the measured server.
        process::build_measured(&["--bin", "profile-guard"]).await?;
        process::build_measured(&["--example", "bare_server"]).await?;
    }
    let bench = Bench::new(settings)?;
    let s = &bench.settings;
    println!(
        "wrk -t{} -c{} -d{} (after a {} warm-up) per run, {} round(s), server pinned: {}",
        s.threads,
        s.connections,
        s.duration,
        s.warmup,
        s.rounds,
        bench
            .server_cpu
            .map_or("no".to_owned(), |c| format!("taskset -c {c}"))
    );
    let mut runs = Vec::new();
    for round in 1..=s.rounds {
        for body in &s.bodies {
            runs.push(
                bench
                    .measure(round, Server::ProfileGuard, body, "info")
                    .await?,
            );
            runs.push(bench.measure(round, Server::Bare, body, "info").await?);
        }
        if s.warn_log_row {
            runs.push(
                bench
                    .measure(round, Server::ProfileGuard, "non-sensitive", "warn")
                    .await?,
            );
        }
    }
    report::print_table(s, &runs);
    report::print_ratios(&runs);
    Ok(())
}

/// A body as compact JSON without its `requestId`: the Lua script puts a fresh one first.
fn compact_body(path: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::broken(format!("cannot read {}: {e}", path.display())))?;
    let mut value: Value = serde_json::from_str(&text)
        .map_err(|e| Failure::broken(format!("{} is not JSON: {e}", path.display())))?;
    let object = value
        .as_object_mut()
        .ok_or_else(|| Failure::broken(format!("{} is not a JSON object", path.display())))?;
    object.remove("requestId");
    Ok(value.to_string())
}

fn body_source(name: &str) -> Result<&'static str, Failure> {
    match name {
        "tutorial" => Ok("events/bodies/tutorial.json"),
        "non-sensitive" => Ok("events/bodies/non-sensitive-change.json"),
        "ten-claims" => Ok("benches/ten-claims.json"),
        other => Err(Failure::broken(format!(
            "unknown body {other:?} in BENCH_BODIES (tutorial, non-sensitive, ten-claims)"
        ))),
    }
}

impl Bench {
    fn new(settings: Settings) -> Result<Self, Failure> {
        let target = process::target_dir()?;
        let profile_guard = process::measured(&target, "profile-guard");
        let bare = process::measured(&target, "examples/bare_server");
        for bin in [&profile_guard, &bare] {
            if !bin.is_file() {
                return Err(Failure::missing(format!("{} missing", bin.display())));
            }
        }
        let work = WorkDir::new("profile-guard-bench")?;
        let root = process::repo_root();
        let mut names = settings.bodies.clone();
        names.push("non-sensitive".into());
        for name in names {
            let body = compact_body(&root.join(body_source(&name)?))?;
            std::fs::write(work.file(&format!("{name}.json")), body)?;
        }
        std::fs::write(work.file("post.lua"), wrk::POST_LUA)?;
        let pinned = settings.pin
            && process::on_path("taskset")
            && std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Failure::broken(e.to_string()))?;
        let wrk = Wrk {
            threads: settings.threads,
            connections: settings.connections,
            cpu: pinned.then_some("1"),
            script: work.file("post.lua"),
        };
        Ok(Bench {
            settings,
            profile_guard,
            bare,
            work,
            server_cpu: pinned.then_some("0"),
            wrk,
            client,
        })
    }

    async fn measure(
        &self,
        round: u32,
        server: Server,
        body: &str,
        level: &str,
    ) -> Result<Run, Failure> {
        let port = process::free_port()?;
        let (name, program, label) = match (server, level) {
            (Server::Bare, _) => ("bare_server", &self.bare, "bare_server".to_owned()),
            (Server::ProfileGuard, "info") => (
                "profile-guard",
                &self.profile_guard,
                "profile-guard".to_owned(),
            ),
            (Server::ProfileGuard, _) => (
                "profile-guard",
                &self.profile_guard,
                format!("profile-guard RUST_LOG={level}"),
            ),
        };
        let mut env = vec![("LISTEN_ADDR", format!("127.0.0.1:{port}"))];
        if server == Server::ProfileGuard {
            env.push(("RUST_LOG", level.to_owned()));
        }
        let mut proc = process::spawn(Launch {
            name,
            program,
            env,
            cpu: self.server_cpu,
            log: Some(self.work.file("server.err")),
            stdout_in_log: false,
        })?;
        proc.wait_port(port, Duration::from_secs(10)).await?;
        let body_file = self.work.file(&format!("{body}.json"));
        self.check_answer(port, &body_file).await?;
        // Request ids need only be unique within one server process, and each pair gets a fresh one.
        let tag = round.to_string();
        let s = &self.settings;
        (self.wrk)
            .run(port, &body_file, &format!("warm{tag}"), &s.warmup, false)
            .await?;
        // VmHWM is updated lazily by the kernel: VmRSS is also sampled during the run, and the larger kept.
        let sampler = RssSampler::start(proc.pid(), Duration::from_millis(500));
        let output = (self.wrk)
            .run(port, &body_file, &format!("run{tag}"), &s.duration, true)
            .await?;
        let hwm = process::status_kib(proc.pid(), "VmHWM").unwrap_or(0);
        let peak_kib = sampler
            .finish()
            .iter()
            .map(|&(_, kib)| kib)
            .fold(hwm, u64::max);
        proc.stop().await;
        let wrk = WrkResult::parse(&output)
            .ok_or_else(|| Failure::broken(format!("no wrk result:\n{output}")))?;
        println!(
            "  round {round}  {body:<15} {label:<28} {:>8.0} req/s",
            wrk.rps()
        );
        Ok(Run {
            round,
            label,
            body: body.to_owned(),
            wrk,
            peak_kib,
        })
    }

    /// One request must come back 200 `{"actionStatus":"SUCCESS"}` as application/json.
    async fn check_answer(&self, port: u16, body_file: &Path) -> Result<(), Failure> {
        let rest = std::fs::read_to_string(body_file)?;
        let body = format!("{{\"requestId\":\"check-{port}\",{}", &rest[1..]);
        let url = format!("http://127.0.0.1:{port}/pre-update-profile");
        let answer = async {
            let response = self
                .client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            Ok::<_, reqwest::Error>((status, content_type, response.bytes().await?))
        }
        .await
        .map_err(|e| Failure::broken(format!("no answer from 127.0.0.1:{port}: {e}")))?;
        let (status, content_type, bytes) = answer;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status == 200
            && content_type == "application/json"
            && json == Some(serde_json::json!({"actionStatus": "SUCCESS"}))
        {
            Ok(())
        } else {
            Err(Failure::broken(format!(
                "unexpected answer from 127.0.0.1:{port}: {} {status} {content_type}",
                String::from_utf8_lossy(&bytes)
            )))
        }
    }
}
